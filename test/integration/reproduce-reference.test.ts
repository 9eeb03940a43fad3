/**
 * `distill reproduce` and `distill reference` through the real CLI on tiny data (test/helpers/
 * good-workspace.ts: 600 train + 200 test MNIST rows, a tiny ONNX teacher, one student epoch on the
 * cpu backend). reproduce: a faithful reproduction passes with every shard and the weights identical;
 * a deliberately diverging one (the teacher file replaced by another, a reference accuracy that was
 * never reached) exits 1 naming each differing item. reference: two variants x two seeds, the written
 * reference-metrics.json checked against the run manifests it summarizes.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import type { ReferenceMetrics } from '../../stages/reference/run-reference.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { makeTinyTeacher } from '../fixtures/tiny-teacher.ts';
import { copyWorkspace, goodExperiment, goodWorkspace } from '../helpers/good-workspace.ts';
import { runCli } from '../helpers/run-cli.ts';
import { changedFiles, treeHashes } from '../helpers/tree-hashes.ts';

const good = await goodWorkspace();
const readJson = async <T>(p: string): Promise<T> => JSON.parse(await readFile(p, 'utf8')) as T;

/** The table's data lines (after the header rule, before the notes): [artifact, check, ..., result]. */
function tableRows(stdout: string): string[][] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => /^-+ +-+/.test(l)) + 1;
  const end = lines.findIndex((l, i) => i >= start && (l.startsWith('  ') || /^(reproduced|DIVERGED):/.test(l)));
  return lines.slice(start, end).map((l) => l.split(/ {2,}/));
}

/** The recorded artifacts, which reproduce must only read. */
const recordedHashes = async (dir: string): Promise<Map<string, string>> => new Map([...(await treeHashes(join(dir, 'stores/good'))), ...(await treeHashes(join(dir, 'runs/good')))]);

test('reproduce: a faithful reproduction exits 0 with every shard sha256 and the weights identical, and leaves the recorded artifacts alone', async () => {
  const ws = await copyWorkspace(good);
  const before = await recordedHashes(ws.dir);
  const r = await runCli(['reproduce', 'good.json', '--out', 'scratch/ok'], { cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const rows = tableRows(r.stdout);
  const store = await readJson<StoreManifest>(join(ws.dir, 'stores/good/manifest.json'));
  const shards = Object.values(store.splits).flatMap((s) => s.shards.map((x) => `stores/good/${x.path}`));
  assert.deepEqual(shards.length, 4, '600 train rows in 256-row shards (3) + 200 test rows (1)');
  for (const path of shards) {
    const sha = store.splits[path.split('/')[2]!]!.shards.find((x) => `stores/good/${x.path}` === path)!.sha256.slice(0, 12);
    assert.deepEqual(rows.find((c) => c[0] === path), [path, 'sha256', sha, sha, 'identical', 'ok'], r.stdout);
  }
  const run = await readJson<RunManifest>(join(ws.dir, 'runs/good/run-manifest.json'));
  const weights = run.outputs.weightsSha256.slice(0, 12);
  assert.deepEqual(rows.find((c) => c[1] === 'weights sha256'), ['runs/good', 'weights sha256', weights, weights, 'identical', 'ok'], r.stdout);
  assert.ok(rows.some((c) => c[1] === 'accuracy (recorded, test)' && c[5] === 'ok'), r.stdout);
  assert.ok(rows.every((c) => c[5] === 'ok'), r.stdout);
  assert.match(r.stdout, new RegExp(`^reproduced: all ${rows.length} comparisons within tolerance$`, 'm'));
  // The reproduction wrote into --out only.
  assert.deepEqual(changedFiles(before, await recordedHashes(ws.dir)), []);
  const reproduced = await readJson<RunManifest>(join(ws.dir, 'scratch/ok/runs/good/run-manifest.json'));
  assert.equal(reproduced.outputs.weightsSha256, run.outputs.weightsSha256);
});

test('BAD CALL reproduce: another teacher file and an unreached reference accuracy exit 1, naming every differing shard and the metric', async () => {
  const ws = await copyWorkspace(good);
  // The teacher was replaced after the capture (same path, card updated to the new file's sha256).
  const other = makeTinyTeacher({ seed: 99 });
  await writeFile(join(ws.dir, 'teachers/good/model.onnx'), other.bytes);
  const card = await readJson<Record<string, unknown>>(join(ws.dir, 'teachers/good/card.json'));
  await writeFile(join(ws.dir, 'teachers/good/card.json'), JSON.stringify({ ...card, sha256: sha256Bytes(other.bytes) }));
  // A reference accuracy for this run and seed that no 1-epoch student reaches.
  const seed = goodExperiment().seed as number;
  await writeFile(join(ws.dir, 'reference-metrics.json'), JSON.stringify({ variants: { good: { seeds: [{ seed, testAccuracy: 0.999 }] } } }));
  const before = await recordedHashes(ws.dir);

  const r = await runCli(['reproduce', 'good.json', '--out', 'scratch/bad'], { cwd: ws.dir });
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const rows = tableRows(r.stdout);
  const diverged = rows.filter((c) => c[5] === 'DIVERGED');
  for (const path of ['train/part-00000.parquet', 'train/part-00001.parquet', 'train/part-00002.parquet', 'test/part-00000.parquet']) {
    const row = rows.find((c) => c[0] === `stores/good/${path}`);
    assert.deepEqual([row?.[1], row?.[4], row?.[5]], ['sha256, logits', 'identical (same environment)', 'DIVERGED'], r.stdout);
    assert.match(r.stdout, new RegExp(`^ {2}stores/good/${path.replace('.', '\\.')} sha256, logits: bytes differ although both were captured with onnxruntime `, 'm'));
  }
  const ref = rows.find((c) => c[0] === 'runs/good' && c[1] === `accuracy (reference seed ${seed})`);
  assert.deepEqual([ref?.[2], ref?.[4], ref?.[5]], ['0.99900', '|d| <= 0.005', 'DIVERGED'], r.stdout);
  assert.match(r.stdout, new RegExp(`^DIVERGED: ${diverged.length} of ${rows.length} comparisons$`, 'm'));
  assert.match(r.stderr, new RegExp(`^error: reproduce: ${diverged.length} of ${rows.length} comparisons diverged \\(table above; outputs kept in .*scratch/bad\\)`, 'm'));
  assert.deepEqual(changedFiles(before, await recordedHashes(ws.dir)), []);
});

test('reference: two variants x two seeds write reference-metrics.json that agrees with the run manifests', async () => {
  const ws = await copyWorkspace(good);
  const base = goodExperiment({ train: { run: 'runs/distilled', epochs: 1, batchSize: 50, backend: 'cpu', alpha: 0.5, temperature: 2 } });
  const dir = join(ws.dir, 'exp');
  await mkdir(dir);
  await writeFile(join(dir, 'experiment.json'), JSON.stringify(base));
  await writeFile(join(dir, 'hard-label.json'), JSON.stringify({ ...base, train: { ...(base.train as object), run: 'runs/hard-label', alpha: 1 } }));

  const r = await runCli(['reference', 'exp', '--seeds', '1,2', '--log-format', 'json'], { cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  const m = await readJson<ReferenceMetrics>(join(dir, 'reference-metrics.json'));
  assert.equal(m.kind, 'distill.reference-metrics');
  assert.deepEqual(m.seeds, [1, 2]);
  assert.deepEqual(Object.keys(m.variants).sort(), ['distilled', 'hard-label']);
  for (const [name, v] of Object.entries(m.variants)) {
    assert.deepEqual(v.seeds.map((s) => [s.seed, s.run]), [1, 2].map((s) => [s, `runs/${name}-seed${s}`]));
    for (const s of v.seeds) {
      const run = await readJson<RunManifest>(join(ws.dir, s.run, 'run-manifest.json'));
      assert.ok(run.config.overrides.includes(`seed=${s.seed}`), `${s.run} trained with --set seed=${s.seed}: ${run.config.overrides.join(' ')}`);
      assert.equal(s.testAccuracy, run.final.eval.accuracy);
      assert.equal(s.testErrors, Math.round((1 - run.final.eval.accuracy) * run.final.eval.rows));
    }
    // Mean and sample standard deviation of the two seeds' errors, from the seed records.
    const [a, b] = v.seeds.map((s) => s.testErrors) as [number, number];
    assert.ok(Math.abs(v.testErrors.mean - (a + b) / 2) < 1e-12);
    assert.ok(Math.abs(v.testErrors.std - Math.abs(a - b) / Math.SQRT2) < 1e-12);
    assert.deepEqual([v.testErrors.min, v.testErrors.max], [Math.min(a, b), Math.max(a, b)]);
  }
  assert.equal(m.variants.distilled!.alpha, 0.5);
  assert.equal(m.variants['hard-label']!.alpha, 1);
  assert.equal(m.variants['hard-label']!.store, null, 'a hard-label variant reads no store');
  assert.equal(m.comparisons.distilled?.against, 'hard-label');
  const store = await readJson<StoreManifest>(join(ws.dir, 'stores/good/manifest.json'));
  assert.equal(m.teacher.sha256, store.teacher.sha256);
  // Different seeds train different students.
  const w = await Promise.all([1, 2].map((s) => readJson<RunManifest>(join(ws.dir, `runs/distilled-seed${s}/run-manifest.json`)).then((x) => x.outputs.weightsSha256)));
  assert.notEqual(w[0], w[1]);

  // Re-running one variant keeps the other, with the command that trained it, and compares again.
  const again = await runCli(['reference', 'exp', '--seeds', '1,2', '--variants', 'distilled', '--log-format', 'json'], { cwd: ws.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /kept from the earlier .*reference-metrics\.json: hard-label \(not re-run\)/);
  const merged = await readJson<ReferenceMetrics>(join(dir, 'reference-metrics.json'));
  assert.deepEqual(Object.keys(merged.variants).sort(), ['distilled', 'hard-label']);
  assert.deepEqual(merged.variants['hard-label'], { ...m.variants['hard-label']!, provenance: m.variants['hard-label']!.provenance });
  assert.equal(merged.variants['hard-label']!.provenance!.command, 'distill reference exp --seeds 1,2');
  assert.equal(merged.variants.distilled!.provenance!.command, 'distill reference exp --seeds 1,2 --variants distilled');
  assert.equal(merged.comparisons.distilled?.against, 'hard-label');
  assert.ok(merged.stores['stores/good'], JSON.stringify(Object.keys(merged.stores)));
});
