/** scripts/shift-ratios.js: per-seed drop ratios from the runs' reports into <dir>/shift-ratios.json, merged by variant. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tmpDir } from '../../helpers/tmp-dir.ts';

const script = fileURLToPath(new URL('../../../scripts/shift-ratios.js', import.meta.url));

/** A variant config and its seeds' runs, each with a report whose shift suite gives `ratios[i]`. */
async function variant(dir: string, name: string, ratios: number[]): Promise<void> {
  await writeFile(join(dir, `${name}.json`), '{}');
  for (const [i, r] of ratios.entries()) {
    const run = join(dir, 'runs', `${name}-seed${i + 1}`);
    await mkdir(join(run, 'report'), { recursive: true });
    await writeFile(join(run, 'run-manifest.json'), '{}');
    const report = { createdAt: `2026-12-02T00:00:0${i}Z`, robustness: { rows: 2000, severities: [1, 2, 3, 4, 5], summary: { kinds: [{ kind: 'shift', teacherMeanDrop: 0.03, studentMeanDrop: 0.03 * r, dropRatio: r }] } } };
    await writeFile(join(run, 'report', 'metrics.json'), JSON.stringify(report));
  }
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
}

test('shift-ratios records each seed and the mean ± sample std, and keeps the variants a later call does not name', async () => {
  const dir = await tmpDir();
  await variant(dir, 'a', [2, 3, 4]);
  await variant(dir, 'b', [10, 10, 13]);
  const first = run([dir, '--variants', 'a,b']);
  assert.equal(first.status, 0, first.stderr);
  await variant(dir, 'a', [1, 1, 1]);
  const second = run([dir, '--variants', 'a']);
  assert.equal(second.status, 0, second.stderr);
  const out = JSON.parse(await readFile(join(dir, 'shift-ratios.json'), 'utf8')) as { variants: Record<string, { dropRatio: { mean: number; std: number; min: number; max: number }; seeds: { seed: number; dropRatio: number }[] }> };
  assert.deepEqual(out.variants.a!.dropRatio, { mean: 1, std: 0, min: 1, max: 1 });
  assert.deepEqual(out.variants.b!.dropRatio, { mean: 11, std: Math.sqrt(3), min: 10, max: 13 });
  assert.deepEqual(out.variants.b!.seeds.map((s) => [s.seed, s.dropRatio]), [[1, 10], [2, 10], [3, 13]]);
});

test('BAD INPUT shift-ratios refuses a variant without a config or without a trained run, naming it, and writes nothing', async () => {
  const dir = await tmpDir();
  const noConfig = run([dir, '--variants', 'missing']);
  assert.equal(noConfig.status, 2);
  assert.match(noConfig.stderr, /missing\.json does not exist/);
  await writeFile(join(dir, 'c.json'), '{}');
  const noRun = run([dir, '--variants', 'c', '--seeds', '1']);
  assert.equal(noRun.status, 2);
  assert.match(noRun.stderr, /runs\/c-seed1 has no trained student \(run `distill reference .* --variants c` first\)/);
  await assert.rejects(readFile(join(dir, 'shift-ratios.json')), /ENOENT/);
});
