/** The crash tests' fault points (matching a write by phase and path end) and the sweep of temporary files a killed write left. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { faultPointMatches } from '../../../../pipeline/io/fault-point.ts';
import { removeTempFiles, tempFileTarget } from '../../../../pipeline/io/remove-temp-files.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

test('a fault point names one phase of one file, matched at a / boundary of the written path', () => {
  const path = '/w/stores/crash/train/part-00001.parquet';
  assert.equal(faultPointMatches('after:train/part-00001.parquet', 'after', path), true);
  assert.equal(faultPointMatches('after:part-00001.parquet', 'after', path), true);
  assert.equal(faultPointMatches(`after:${path}`, 'after', path), true);
  assert.equal(faultPointMatches('before:train/part-00001.parquet', 'after', path), false, 'another phase');
  assert.equal(faultPointMatches('after:rt-00001.parquet', 'after', path), false, 'not at a / boundary');
  assert.equal(faultPointMatches('after:train/part-00001.parquet', 'after', `${path}.json`), false, 'the part record is another file');
  for (const spec of [undefined, '', 'after:', 'during:train/part-00001.parquet', 'train/part-00001.parquet']) assert.equal(faultPointMatches(spec, 'after', path), false, String(spec));
});

test('atomicWrite stops the process at its fault point, with only the temporary file (before) or the final file (after) on disk', async () => {
  const dir = await tmpDir('distill-fault-');
  const moduleUrl = new URL('../../../../pipeline/io/atomic-write.ts', import.meta.url).href;
  for (const phase of ['before', 'after'] as const) {
    const out = join(dir, phase);
    const script = `const { atomicWrite } = await import(${JSON.stringify(moduleUrl)}); await atomicWrite(${JSON.stringify(join(out, 'a.json'))}, '{}'); await atomicWrite(${JSON.stringify(join(out, 'b.json'))}, '{}');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, DISTILL_FAULT_POINT: `${phase}:a.json` }, stdio: 'ignore' });
    // Stopped (SIGSTOP), it never exits by itself: wait until it is, then kill it as the crash tests do.
    for (let i = 0; i < 3000; i++) {
      const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => '');
      if (/ T /.test(stat.slice(stat.lastIndexOf(')')))) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    assert.equal(await ended, 'SIGKILL');
    const names = (await readdir(out)).sort();
    if (phase === 'before') assert.deepEqual(names.map((n) => tempFileTarget(n)), ['a.json']);
    else assert.deepEqual(names, ['a.json']);
  }
});

test('removeTempFiles removes the temporary files of the names it owns, nothing else', async () => {
  const dir = await tmpDir('distill-temp-');
  const names = ['.a.json.tmp-123-0a1b2c3d', '.part-00001.parquet.tmp-9-ff', 'a.json', '.hidden', 'b.tmp-1-00', '.b.json.tmp-x-00'];
  for (const n of names) await writeFile(join(dir, n), '');
  assert.deepEqual(await removeTempFiles(dir, (name) => name === 'a.json'), ['.a.json.tmp-123-0a1b2c3d']);
  assert.deepEqual((await removeTempFiles(dir)).sort(), ['.part-00001.parquet.tmp-9-ff']);
  assert.deepEqual((await readdir(dir)).sort(), ['.b.json.tmp-x-00', '.hidden', 'a.json', 'b.tmp-1-00']);
  assert.deepEqual(await removeTempFiles(join(dir, 'missing')), []);
});
