/**
 * `make test-slurm`: docs/deploy/slurm/submit.sh on a real single-node Slurm cluster (munged,
 * slurmctld and slurmd from Debian's packages, started by test/helpers/slurm-cluster.ts). A 3-task
 * job array of `distill teacher-logits` workers and the finalize job chained with
 * --dependency=afterok run through the scheduler on a small MNIST subset with a tiny seeded ONNX
 * teacher; the merged store must hold the shards (sha256 of every file) of a single-writer run.
 *
 * A second run has one task fail (another process holds its worker lock): finalize then waits
 * forever on afterok, and the recovery submit.sh documents (cancel it, `scontrol requeue` the task,
 * submit finalize.sbatch) gives the same store.
 *
 * The example scripts run unchanged; what a CPU-only node needs is passed the way a user would:
 * SBATCH_GRES=none overrides `#SBATCH --gres=gpu:1`, DEVICE=cpu the worker's `--device cuda`.
 * Not part of `make test`: it needs root and the packages (the Make target installs them).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { sha256File } from '../../pipeline/io/sha256.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import type { PartManifest } from '../../stages/teacher-logits/part-manifest.ts';
import { acquireLock } from '../../pipeline/io/dir-lock.ts';
import { startSlurmCluster, waitForJobs } from '../helpers/slurm-cluster.ts';
import type { JobRecord } from '../helpers/slurm-cluster.ts';
import { teacherWorkspace, writeExperiment, writeTeacher } from '../helpers/teacher-workspace.ts';

const run = promisify(execFile);
/** The distill CLI the jobs run (one place to change when the entry point moves). */
const DISTILL_CLI = process.env.DISTILL_CLI ?? join(projectRoot, 'bin/distill.js');
const SUBMIT = join(projectRoot, 'docs/deploy/slurm/submit.sh');
/** How long the array and finalize may take on a loaded 2-core machine before the test gives up. */
const JOB_TIMEOUT_MS = Number(process.env.SLURM_TEST_TIMEOUT_S ?? 300) * 1000;
const WORKERS = 3;

const cluster = await startSlurmCluster({ cpus: 12, memoryMb: 16384 });
after(() => cluster.stop());

const ws = await teacherWorkspace(600, 300, 200);
await writeTeacher(ws, 't', { seed: 7 });
const SHARD = { shardRows: 100, batchSize: 50, intraOpThreads: 1 };
const singleStore = join(ws.dir, 'stores/single');
await run(process.execPath, [DISTILL_CLI, 'teacher-logits', '-c', await writeExperiment(ws, 'single', 't', SHARD), '--log-format', 'json'], { cwd: ws.dir });
/** What the jobs get: the CLI, a CPU device and no GPU request (see the file comment). */
const JOB_ENV = { ...cluster.env, DISTILL: `${process.execPath} ${DISTILL_CLI}`, DEVICE: 'cpu', SBATCH_GRES: 'none' };

const slurmTime = (t: string): number => Date.parse(`${t}Z`);
const readJson = async <T>(p: string): Promise<T> => JSON.parse(await readFile(p, 'utf8')) as T;
const logsDir = join(ws.dir, 'logs');
const readLog = (name: string): Promise<string> => readFile(join(logsDir, name), 'utf8');

/** Every job log under logs/, the job records and the daemons' logs: what a failed assertion shows. */
async function context(jobs: JobRecord[]): Promise<string> {
  const names = (await readdir(logsDir).catch(() => [])).sort();
  const logs = await Promise.all(names.map(async (n) => `== logs/${n}\n${await readLog(n)}`));
  return `${JSON.stringify(jobs)}\n${logs.join('\n')}\n${await cluster.logs()}`;
}

/** Runs submit.sh for a store of experiment `name` (written here); returns the two job ids. */
async function submit(name: string): Promise<{ arrayId: string; finalizeId: string }> {
  await writeExperiment(ws, name, 't', SHARD);
  const out = await run('bash', [SUBMIT, String(WORKERS), `${name}.json`, `stores/${name}`], { cwd: ws.dir, env: JOB_ENV });
  const arrayId = new RegExp(`^teacher-logits array job: (\\d+) \\(tasks 0-${WORKERS - 1}\\)$`, 'm').exec(out.stdout)?.[1];
  const finalizeId = new RegExp(`^finalize job: (\\d+) \\(after all of ${arrayId} succeed\\)$`, 'm').exec(out.stdout)?.[1];
  assert.ok(arrayId !== undefined && finalizeId !== undefined, out.stdout + out.stderr);
  return { arrayId, finalizeId };
}

/** The array's tasks by index: [index, state, exit code]. */
const taskStates = (jobs: JobRecord[], arrayId: string): string[][] =>
  jobs.filter((j) => j.arrayJobId === arrayId).sort((a, b) => Number(a.arrayTaskId) - Number(b.arrayTaskId)).map((t) => [t.arrayTaskId ?? '', t.state, t.exitCode]);
const allCompleted = Array.from({ length: WORKERS }, (_, i) => [String(i), 'COMPLETED', '0:0']);

/** sha256 of every shard file (.parquet) under `store`, by store-relative path. */
async function shardHashes(store: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const split of ['train', 'test']) {
    for (const f of (await readdir(join(store, split))).filter((n) => n.endsWith('.parquet')).sort()) out[`${split}/${f}`] = await sha256File(join(store, split, f));
  }
  return out;
}

/**
 * The store `name` finalized by job `finalizeId` from the parts of array `arrayId`: each part written
 * by the task Slurm named, every shard file byte-identical to the single writer's, the same records,
 * and `distill verify` passes.
 */
async function assertMergedStore(name: string, arrayId: string, finalizeId: string): Promise<void> {
  const store = join(ws.dir, 'stores', name);
  for (let i = 0; i < WORKERS; i++) {
    const part = await readJson<PartManifest>(join(store, `parts/worker-${i}-of-${WORKERS}.json`));
    const expected = { index: i, count: WORKERS, source: 'slurm', describe: `SLURM_ARRAY_TASK_ID=${i}, SLURM_ARRAY_TASK_COUNT=${WORKERS}`, host: hostname() };
    assert.deepEqual({ ...part.worker, pid: 0 }, { ...expected, pid: 0 });
    assert.match(await readLog(`teacher-${arrayId}_${i}.out`), new RegExp(`"msg":"worker ${i} of ${WORKERS} done: `));
  }
  const finLog = await readLog(`finalize-${finalizeId}.out`);
  assert.match(finLog, new RegExp(`"msg":"store finalized: stores/${name}/manifest\\.json"`), finLog);
  const [a, b] = [await shardHashes(singleStore), await shardHashes(store)];
  assert.equal(Object.keys(a).length, 9, 'train 600 + test 300 rows in 100-row shards');
  assert.deepEqual(b, a);
  const records = (m: StoreManifest): unknown[] => Object.values(m.splits).flatMap((s) => s.shards.map((r) => [r.path, r.rowStart, r.rowEnd, r.bytes, r.sha256, r.datasetFingerprint]));
  const merged = await readJson<StoreManifest>(join(store, 'manifest.json'));
  assert.deepEqual(records(merged), records(await readJson<StoreManifest>(join(singleStore, 'manifest.json'))));
  assert.equal(merged.workers?.count, WORKERS);
  await run(process.execPath, [DISTILL_CLI, 'verify', relative(ws.dir, store)], { cwd: ws.dir }); // exits 1 on any problem
}

test(`submit.sh on a real Slurm cluster: a ${WORKERS}-task array and the afterok finalize give the single-writer store byte for byte`, async () => {
  const started = Date.now();
  const { arrayId, finalizeId } = await submit('sharded');
  const jobs = await waitForJobs(cluster, [arrayId, finalizeId], JOB_TIMEOUT_MS);
  assert.deepEqual(taskStates(jobs, arrayId), allCompleted, await context(jobs));
  const fin = jobs.find((j) => j.jobId === finalizeId)!;
  assert.deepEqual([fin.state, fin.exitCode], ['COMPLETED', '0:0'], await context(jobs));
  // afterok held the finalize job back until the last task had ended (Slurm times have 1 s resolution).
  const lastEnd = Math.max(...jobs.filter((j) => j.arrayJobId === arrayId).map((t) => slurmTime(t.endTime)));
  assert.ok(slurmTime(fin.startTime) >= lastEnd, `finalize started ${fin.startTime}, the last task ended ${new Date(lastEnd).toISOString()}`);
  console.log(`# array of ${WORKERS} + finalize through Slurm: ${((Date.now() - started) / 1000).toFixed(1)} s from submission to completion`);
  await assertMergedStore('sharded', arrayId, finalizeId);
});

test('a failed task leaves finalize pending (DependencyNeverSatisfied); scontrol requeue of the task, then finalize.sbatch, give the same store', async () => {
  // Another process holds worker 1's lock: task 1 fails at once with a LockError, 0 and 2 succeed.
  const held = await acquireLock(join(ws.dir, `stores/requeued/parts/worker-1-of-${WORKERS}.lock`), 'worker 1', 'test: another process running worker 1');
  const { arrayId, finalizeId } = await submit('requeued');
  let jobs = await waitForJobs(cluster, [arrayId, finalizeId], JOB_TIMEOUT_MS);
  assert.deepEqual(taskStates(jobs, arrayId), [['0', 'COMPLETED', '0:0'], ['1', 'FAILED', '1:0'], ['2', 'COMPLETED', '0:0']], await context(jobs));
  const fin = jobs.find((j) => j.jobId === finalizeId)!;
  assert.deepEqual([fin.state, fin.reason], ['PENDING', 'DependencyNeverSatisfied'], await context(jobs));
  assert.match(await readLog(`teacher-${arrayId}_1.out`), /^error: .*worker 1 of 3 is locked by another writer \(pid \d+ on /m);
  assert.equal(await readFile(join(ws.dir, 'stores/requeued/manifest.json')).catch(() => null), null, 'nothing finalized');

  // The recovery submit.sh documents.
  await held.release();
  await cluster.client('scancel', [finalizeId]);
  await cluster.client('scontrol', ['requeue', `${arrayId}_1`]);
  const requeued = Date.now();
  jobs = await waitForJobs(cluster, [arrayId], JOB_TIMEOUT_MS);
  console.log(`# requeued task 1: done ${((Date.now() - requeued) / 1000).toFixed(1)} s after scontrol requeue (it may not start before AuthInfo cred_expire, 30 s here)`);
  assert.deepEqual(taskStates(jobs, arrayId), allCompleted, await context(jobs));
  const refin = /^(\d+)/.exec((await run('sbatch', ['--parsable', '--export=ALL', join(projectRoot, 'docs/deploy/slurm/finalize.sbatch')], { cwd: ws.dir, env: { ...JOB_ENV, STORE: 'stores/requeued' } })).stdout)![1]!;
  jobs = await waitForJobs(cluster, [refin], JOB_TIMEOUT_MS);
  assert.deepEqual(jobs.map((j) => [j.state, j.exitCode]), [['COMPLETED', '0:0']], await context(jobs));
  await assertMergedStore('requeued', arrayId, refin);
});
