/**
 * Sharded teacher-logits workers and `distill finalize` (docs/scale-out.md), on a small MNIST subset
 * (2000 train + 300 test rows, 100-row shards: 23 shards) with a tiny seeded ONNX teacher. Three
 * workers run at once through the real CLI; one is killed (SIGKILL) midway and re-run; the finalized
 * store must hold exactly the shards (sha256) and coverage of a single-writer run.
 */
import assert from 'node:assert/strict';
import { access, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { inProcessSessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { CollectingReporter, silentReporter } from '../../pipeline/reporter.ts';
import { openStore, verifyStore } from '../../pipeline/store/open-store.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import { finalizeStore } from '../../stages/teacher-logits/finalize-store.ts';
import { runTeacherLogits, runTeacherWorker } from '../../stages/teacher-logits/run-teacher-logits.ts';
import type { WorkerAssignment } from '../../stages/teacher-logits/worker-assignment.ts';
import { jsonLines, runCli } from '../helpers/run-cli.ts';
import { teacherWorkspace, writeExperiment, writeTeacher } from '../helpers/teacher-workspace.ts';

const ws = await teacherWorkspace(2000, 300, 500);
const SHARD = { shardRows: 100, batchSize: 50, intraOpThreads: 1 };
// A wider teacher (784-1024-10) so that a worker is still busy when the test kills it.
await writeTeacher(ws, 'wide', { seed: 21, hidden: 1024 });
const student = { student: { arch: 'mlp', hidden: [8] }, train: { run: 'runs/sharded', epochs: 1, batchSize: 100, alpha: 0, temperature: 2 } };

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
const readJson = async <T>(p: string): Promise<T> => JSON.parse(await readFile(p, 'utf8')) as T;
const worker = (index: number, count: number): WorkerAssignment => ({ index, count, source: 'flags', describe: `--shard-index ${index}, --num-shards ${count}` });

/** The manifest without what legitimately differs between runs: when, where and how fast, and the store path. */
function comparable(m: StoreManifest): unknown {
  const out: Record<string, unknown> = { ...m, config: { ...m.config, store: '<store>' } };
  for (const varying of ['createdAt', 'runtime', 'software', 'timing', 'workers']) delete out[varying];
  out.splits = Object.fromEntries(Object.entries(m.splits).map(([k, s]) => [k, { rows: s.rows, nonFinite: s.nonFinite, shards: s.shards }]));
  return out;
}

test('three workers at once (one killed midway and re-run), then finalize: the shards and coverage of a single-writer run; finalize is idempotent; train-student refuses the store before finalize', async () => {
  const singleFile = await writeExperiment(ws, 'single', 'wide', SHARD);
  const shardedFile = await writeExperiment(ws, 'sharded', 'wide', SHARD);
  await writeFile(shardedFile, JSON.stringify({ ...(await readJson<Record<string, unknown>>(shardedFile)), ...student }));
  const single = await runTeacherLogits(await loadExperiment(singleFile, [], ws.dir), {}, silentReporter);
  assert.deepEqual([single.splits.train!.shards.length, single.splits.test!.shards.length], [20, 3]);

  const store = join(ws.dir, 'stores/sharded');
  // Worker 1 of 3 owns global shards 1, 4, 7, ... (round-robin over train 0..19, then test 0..2).
  const owned1 = [...[1, 4, 7, 10, 13, 16, 19].map((i) => `train/part-${String(i).padStart(5, '0')}.parquet`), 'test/part-00002.parquet'];
  const run = (i: number): Promise<Awaited<ReturnType<typeof runCli>>> =>
    runCli(['teacher-logits', '-c', 'sharded.json', '--num-shards', '3', '--shard-index', String(i)], {
      cwd: ws.dir,
      onSpawn:
        i === 1
          ? (child) => {
              const poll = setInterval(() => {
                void (async () => {
                  if (!(await exists(join(store, `${owned1[0]}.json`)))) return;
                  clearInterval(poll);
                  child.kill('SIGKILL');
                })();
              }, 3);
              child.on('exit', () => clearInterval(poll));
            }
          : undefined,
    });
  const [w0, w1, w2] = await Promise.all([run(0), run(1), run(2)]);
  assert.equal(w0.code, 0, w0.stderr);
  assert.equal(w2.code, 0, w2.stderr);
  assert.equal(w1.signal, 'SIGKILL', `worker 1 was killed midway (exit ${w1.code}): ${w1.stderr}`);
  // What the killed worker had completed (its part records), read once it is dead.
  const killedAt = (await Promise.all(owned1.map(async (p) => ((await exists(join(store, `${p}.json`))) ? p : null)))).filter((p): p is string => p !== null);
  assert.ok(killedAt.length >= 1 && killedAt.length < owned1.length, `killed after ${killedAt.length} of its ${owned1.length} shards`);
  assert.ok(jsonLines(w0.stdout).some((l) => l.msg === 'worker 0 of 3 done: stores/sharded/parts/worker-0-of-3.json (8 shards); when every worker is done: distill finalize stores/sharded'), w0.stdout);
  assert.equal(await exists(join(store, 'manifest.json')), false, 'workers never write the store manifest');
  assert.equal(await exists(join(store, 'parts/worker-1-of-3.json')), false);
  assert.equal(await exists(join(store, 'parts/worker-1-of-3.lock')), true, 'the killed worker left its lock');

  // Before the killed worker is re-run: finalize refuses, naming the worker and every missing range.
  const early = await runCli(['finalize', 'stores/sharded'], { cwd: ws.dir });
  assert.equal(early.code, 1);
  assert.match(early.stderr, /^error: cannot finalize stores\/sharded: 9 problems; nothing was written:\n {2}- worker 1 of 3 has no part manifest \(parts\/worker-1-of-3\.json\): it has not finished; re-run it/);
  for (const i of [1, 4, 7, 10, 13, 16, 19]) assert.match(early.stderr, new RegExp(`- split train: rows ${i * 100}\\.\\.${i * 100 + 99} \\(shard ${i}\\) are not covered by any part manifest\n`));
  assert.match(early.stderr, /- split test: rows 200\.\.299 \(shard 2\) are not covered by any part manifest\n/);
  assert.equal(await exists(join(store, 'manifest.json')), false);

  // train-student refuses a store that is not finalized.
  const refused = await runCli(['train-student', '-c', 'sharded.json'], { cwd: ws.dir });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: .*stores\/sharded\/manifest\.json does not exist: .*stores\/sharded is not a complete soft-target store/m);

  // The re-run takes over the dead worker's lock and reuses its complete shards.
  const rerun = await runCli(['teacher-logits', '-c', 'sharded.json', '--num-shards', '3', '--shard-index', '1'], { cwd: ws.dir });
  assert.equal(rerun.code, 0, rerun.stderr);
  const resumed = jsonLines(rerun.stdout).find((l) => /^resuming: /.test(String(l.msg)));
  assert.equal(resumed?.msg, `resuming: ${killedAt.length} of this worker's 8 shards are complete and verified; computing the other ${8 - killedAt.length}`);
  const part1 = await readJson<{ timing: { rowsComputed: number }; worker: { index: number; count: number; source: string } }>(join(store, 'parts/worker-1-of-3.json'));
  assert.deepEqual([part1.worker.index, part1.worker.count, part1.worker.source], [1, 3, 'flags']);
  assert.equal(part1.timing.rowsComputed, (8 - killedAt.length) * 100);

  const fin = await runCli(['finalize', 'stores/sharded'], { cwd: ws.dir });
  assert.equal(fin.code, 0, fin.stderr);
  assert.ok(jsonLines(fin.stdout).some((l) => l.msg === 'store finalized: stores/sharded/manifest.json' && l.rows === 2300 && l.shards === 23 && l.parts === 3), fin.stdout);
  const merged = await openStore(store);
  await verifyStore(merged);
  const m = merged.manifest;
  const shas = (x: StoreManifest): string[] => Object.values(x.splits).flatMap((s) => s.shards.map((r) => `${r.path} ${r.rowStart}-${r.rowEnd} ${r.bytes} ${r.sha256} ${r.datasetFingerprint}`));
  assert.deepEqual(shas(m), shas(single), 'every shard byte-identical to the single-writer run');
  assert.deepEqual(comparable(m), comparable(single), 'same manifest modulo timings, runtime and the store path');
  assert.deepEqual(await readJson<{ config: unknown }>(join(store, 'config.resolved.json')).then((c) => (c.config as { teacherLogits: { store: string } }).teacherLogits.store), 'stores/sharded');
  assert.deepEqual(m.workers!.parts.map((p) => [p.index, p.path, p.shards, p.source, p.host]), [0, 1, 2].map((i) => [i, `parts/worker-${i}-of-3.json`, i === 2 ? 7 : 8, 'flags', hostname()]));
  assert.equal(m.timing.rowsComputed, 2300 - killedAt.length * 100);

  // Finalize twice: same result, manifest.json untouched.
  const before = await readFile(join(store, 'manifest.json'));
  const mtime = (await stat(join(store, 'manifest.json'))).mtimeMs;
  const reporter = new CollectingReporter();
  const again = await finalizeStore(store, reporter);
  assert.equal(again.written, false);
  assert.deepEqual(reporter.messages('info'), [`${store} is already finalized: manifest.json matches the 3 part manifests (2300 rows, 23 shards verified); nothing written`]);
  assert.equal(sha256Bytes(await readFile(join(store, 'manifest.json'))), sha256Bytes(before));
  assert.equal((await stat(join(store, 'manifest.json'))).mtimeMs, mtime);

  // A finished worker re-run is up to date; the single writer accepts the finalized store as it is.
  const upToDate = new CollectingReporter();
  await runTeacherWorker(await loadExperiment(shardedFile, [], ws.dir), worker(2, 3), {}, upToDate);
  assert.ok(upToDate.messages('info').includes('worker 2 of 3 is up to date (parts/worker-2-of-3.json: all 7 of its shards match their sha256); nothing recomputed'), upToDate.messages().join('\n'));
  const asSingle = await runTeacherLogits(await loadExperiment(shardedFile, [], ws.dir), {}, silentReporter);
  assert.equal(asSingle.createdAt, m.createdAt, 'up to date: the finalized manifest is returned unchanged');
});

test('BAD CALL finalize refuses a part of another teacher (naming it), a bad checksum, and duplicates of another worker count; fixed, it finalizes', async () => {
  await writeTeacher(ws, 'a', { seed: 31 });
  await writeTeacher(ws, 'b', { seed: 32 });
  const fileA = await writeExperiment(ws, 'mixed', 'a', { ...SHARD, splits: ['test'] });
  const fileB = join(ws.dir, 'mixed-b.json');
  await writeFile(fileB, JSON.stringify({ ...(await readJson<Record<string, unknown>>(fileA)), teacher: { path: 'teachers/b' } }));
  const opts = { sessionFactory: inProcessSessionFactory };
  const expA = await loadExperiment(fileA, [], ws.dir);
  const partA = await runTeacherWorker(expA, worker(0, 2), opts, silentReporter);
  const partB = await runTeacherWorker(await loadExperiment(fileB, [], ws.dir), worker(1, 2), opts, silentReporter);
  assert.deepEqual([partA.splits.test!.shards.map((s) => s.index), partB.splits.test!.shards.map((s) => s.index)], [[0, 2], [1]]);

  const foreign = await runCli(['finalize', 'stores/mixed'], { cwd: ws.dir });
  assert.equal(foreign.code, 1);
  const [shaA, shaB] = [partA.teacher.sha256, partB.teacher.sha256];
  assert.ok(foreign.stderr.includes(`- parts/worker-1-of-2.json was made by another capture than parts/worker-0-of-2.json (teacher sha256 ${shaB}, not ${shaA}):\n      split test: teacherSha256: the others "${shaA}", this part "${shaB}"\n`), foreign.stderr);
  assert.match(foreign.stderr, /- split test: rows 100\.\.199 \(shard 1\) are not covered by any part manifest\n/);
  assert.equal(await exists(join(ws.dir, 'stores/mixed/manifest.json')), false);

  // Worker 1 re-run with the right teacher (--force: its own shards only), then a corrupted shard.
  await runTeacherWorker(expA, worker(1, 2), { ...opts, force: true }, silentReporter);
  const shard0 = join(ws.dir, 'stores/mixed/test/part-00000.parquet');
  const good = await readFile(shard0);
  const bad = Buffer.from(good);
  bad[bad.length >> 1] ^= 0xff;
  await writeFile(shard0, bad);
  const mixed = join(ws.dir, 'stores/mixed');
  await assert.rejects(finalizeStore(mixed, silentReporter), {
    name: 'DataError',
    message: `cannot finalize ${mixed}: 1 problem; nothing was written:\n  - test/part-00000.parquet has sha256 ${sha256Bytes(bad)}, but parts/worker-0-of-2.json says ${sha256Bytes(good)} (bad checksum: the shard changed after its worker wrote it; re-run that worker)\n` +
      'a failed worker is simply re-run (its complete shards are reused); part manifests of another run or capture must be deleted; then run distill finalize again',
  });
  await writeFile(shard0, good);

  // A stale part manifest of a 3-worker run: different counts, missing workers, a range covered twice.
  await runTeacherWorker(expA, worker(0, 3), opts, silentReporter); // owns shard 0: reused, not recomputed
  const dup = await finalizeStore(mixed, silentReporter).then(() => '', (err: Error) => err.message);
  assert.match(dup, /- the part manifests come from runs with different numbers of workers \(2: parts\/worker-0-of-2\.json, parts\/worker-1-of-2\.json; 3: parts\/worker-0-of-3\.json\)/);
  assert.match(dup, /- worker 1 of 3 has no part manifest \(parts\/worker-1-of-3\.json\)/);
  assert.match(dup, /- split test: rows 0\.\.99 \(shard 0\) are covered 2 times: parts\/worker-0-of-2\.json, parts\/worker-0-of-3\.json\n/);
  await rm(join(ws.dir, 'stores/mixed/parts/worker-0-of-3.json'));
  const done = await finalizeStore(mixed, silentReporter);
  assert.deepEqual([done.written, done.parts], [true, 2]);
  const m = (await openStore(mixed)).manifest;
  assert.deepEqual(m.splits.test!.shards.map((s) => [s.index, s.rowStart, s.rowEnd]), [[0, 0, 100], [1, 100, 200], [2, 200, 300]]);
  assert.equal(m.teacher.sha256, shaA);
});

test('BAD CALL locks: workers of one store do not block each other, a single writer and a worker do', async () => {
  await writeTeacher(ws, 'locks', { seed: 41 });
  const exp = await loadExperiment(await writeExperiment(ws, 'locks', 'locks', { ...SHARD, splits: ['test'] }), [], ws.dir);
  const opts = { sessionFactory: inProcessSessionFactory };
  const store = join(ws.dir, 'stores/locks');
  const live = JSON.stringify({ pid: process.pid, host: hostname(), purpose: 'test', since: 'now' });
  // Worker 0 is "running" (a live lock): worker 1 is not blocked, the single writer and finalize are.
  await runTeacherWorker(exp, worker(1, 2), opts, silentReporter);
  await writeFile(join(store, 'parts/worker-0-of-2.lock'), live);
  const p1 = await runTeacherWorker(exp, worker(1, 2), opts, silentReporter);
  assert.deepEqual([p1.worker.index, p1.worker.count], [1, 2], 'worker 1 ran beside a live worker 0');
  await assert.rejects(runTeacherLogits(exp, opts, silentReporter), { name: 'LockError', message: new RegExp(`locks \\(worker worker-0-of-2\\) is locked by another writer \\(pid ${process.pid} on ${hostname()}, test since now\\)`) });
  await assert.rejects(runTeacherWorker(exp, worker(0, 2), opts, silentReporter), { name: 'LockError', message: /locks worker 0 of 2 is locked by another writer/ });
  const fin = await runCli(['finalize', 'stores/locks'], { cwd: ws.dir });
  assert.equal(fin.code, 1);
  assert.match(fin.stderr, /is locked by another writer \(pid \d+ on .*, test since now\)/);
  await rm(join(store, 'parts/worker-0-of-2.lock'));
  assert.equal(await exists(join(store, '.lock')), false, 'refused runs leave no lock behind');
  // A single writer holds .lock: workers are refused.
  await writeFile(join(store, '.lock'), live);
  await assert.rejects(runTeacherWorker(exp, worker(0, 2), opts, silentReporter), { name: 'LockError', message: /is locked by a single writer \(pid \d+ on .*, test since now\); workers cannot run beside it/ });
  await rm(join(store, '.lock'));
  // A dead worker's lock (a pid that no longer exists on this host) is taken over.
  await writeFile(join(store, 'parts/worker-0-of-2.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), purpose: 'dead', since: 'then' }));
  await runTeacherWorker(exp, worker(0, 2), opts, silentReporter);
  assert.deepEqual((await readdir(join(store, 'parts'))).sort(), ['worker-0-of-2.json', 'worker-1-of-2.json']);
  // The single writer completing the store itself removes the part manifests (they no longer describe it).
  await rm(join(store, 'test/part-00002.parquet'));
  const m = await runTeacherLogits(exp, opts, silentReporter);
  assert.equal(m.timing.rowsComputed, 100, 'reused the workers\' shards, computed the deleted one');
  assert.equal(await exists(join(store, 'parts')), false);
});

test('a worker named by the environment through the CLI (Slurm array variables); BAD CALL conflicting or out-of-range values exit 2 before any work', async () => {
  await writeTeacher(ws, 'env', { seed: 51 });
  await writeExperiment(ws, 'env', 'env', { ...SHARD, splits: ['test'] });
  const slurm = await runCli(['teacher-logits', '-c', 'env.json'], { cwd: ws.dir, env: { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '1' } });
  assert.equal(slurm.code, 0, slurm.stderr);
  assert.equal(jsonLines(slurm.stdout)[0]?.msg, 'worker 1 of 2 (SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_COUNT=2)');
  const part = await readJson<{ worker: { index: number; count: number; source: string }; splits: { test: { shards: { index: number }[] } } }>(join(ws.dir, 'stores/env/parts/worker-1-of-2.json'));
  assert.deepEqual([part.worker, part.splits.test.shards.map((s) => s.index)], [{ ...part.worker, index: 1, count: 2, source: 'slurm' }, [1]]);

  const conflict = await runCli(['teacher-logits', '-c', 'env.json', '--num-shards', '3'], { cwd: ws.dir, env: { JOB_COMPLETION_INDEX: '0', DISTILL_NUM_SHARDS: '2' } });
  assert.equal(conflict.code, 2);
  assert.equal(conflict.stderr, 'error: conflicting worker counts: --num-shards 3, but the environment says DISTILL_NUM_SHARDS=2; make them agree (one worker per array task), or pass --worker-env none with --shard-index\n');
  const range = await runCli(['teacher-logits', '-c', 'env.json', '--num-shards', '2', '--shard-index', '2'], { cwd: ws.dir });
  assert.equal(range.code, 2);
  assert.match(range.stderr, /^error: worker index out of range: --shard-index 2, but there are 2 workers \(--num-shards 2\); the index must be in 0\.\.1\n$/);
  assert.deepEqual(await readdir(join(ws.dir, 'stores/env/parts')), ['worker-1-of-2.json'], 'the refused runs wrote nothing');
});
