/**
 * `make test-slurm`: docs/deploy/slurm/submit.sh on a real single-node Slurm cluster (munged,
 * slurmctld and slurmd from Debian's packages, started by test/helpers/slurm-cluster.ts). A 3-task
 * job array of `distill teacher-logits` workers and the finalize job chained with
 * --dependency=afterok run through the scheduler on a small MNIST subset with a tiny seeded ONNX
 * teacher; the merged store must hold the shards (sha256 of every file) of a single-writer run.
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
import { jobRecords, startSlurmCluster } from '../helpers/slurm-cluster.ts';
import type { JobRecord } from '../helpers/slurm-cluster.ts';
import { teacherWorkspace, writeExperiment, writeTeacher } from '../helpers/teacher-workspace.ts';

const run = promisify(execFile);
/** The distill CLI the jobs run (one place to change when the entry point moves). */
const DISTILL_CLI = process.env.DISTILL_CLI ?? join(projectRoot, 'pipeline/bin/distill.js');
const SUBMIT = join(projectRoot, 'docs/deploy/slurm/submit.sh');
/** How long the array and finalize may take on a loaded 2-core machine before the test gives up. */
const JOB_TIMEOUT_MS = Number(process.env.SLURM_TEST_TIMEOUT_S ?? 300) * 1000;
const WORKERS = 3;

const cluster = await startSlurmCluster({ cpus: 12, memoryMb: 16384 });
after(() => cluster.stop());

const ws = await teacherWorkspace(600, 300, 200);
await writeTeacher(ws, 't', { seed: 7 });
const SHARD = { shardRows: 100, batchSize: 50, intraOpThreads: 1 };

/** sha256 of every shard file (.parquet) under `store`, by store-relative path. */
async function shardHashes(store: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const split of ['train', 'test']) {
    for (const f of (await readdir(join(store, split))).filter((n) => n.endsWith('.parquet')).sort()) out[`${split}/${f}`] = await sha256File(join(store, split, f));
  }
  return out;
}

/** Polls the jobs until none is pending or running (or a dependency can never be met); throws after JOB_TIMEOUT_MS. */
async function waitForJobs(ids: string[]): Promise<JobRecord[]> {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const jobs = await jobRecords(cluster, ids);
    const active = jobs.filter((j) => /PENDING|RUNNING|CONFIGURING|COMPLETING/.test(j.state) && j.reason !== 'DependencyNeverSatisfied');
    if (active.length === 0) return jobs;
    if (Date.now() > deadline) throw new Error(`Slurm jobs still active after ${JOB_TIMEOUT_MS} ms: ${JSON.stringify(active)}\n${await cluster.logs()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const slurmTime = (t: string): number => Date.parse(`${t}Z`);
const readJson = async <T>(p: string): Promise<T> => JSON.parse(await readFile(p, 'utf8')) as T;

test(`submit.sh on a real Slurm cluster: a ${WORKERS}-task array and the afterok finalize give the single-writer store byte for byte`, async () => {
  const single = await writeExperiment(ws, 'single', 't', SHARD);
  await writeExperiment(ws, 'sharded', 't', SHARD);
  await run(process.execPath, [DISTILL_CLI, 'teacher-logits', '-c', single, '--log-format', 'json'], { cwd: ws.dir });

  const started = Date.now();
  const env = { ...cluster.env, DISTILL: `${process.execPath} ${DISTILL_CLI}`, DEVICE: 'cpu', SBATCH_GRES: 'none' };
  const submitted = await run('bash', [SUBMIT, String(WORKERS), 'sharded.json', 'stores/sharded'], { cwd: ws.dir, env });
  const arrayId = /^teacher-logits array job: (\d+) \(tasks 0-2\)$/m.exec(submitted.stdout)?.[1];
  const finalizeId = new RegExp(`^finalize job: (\\d+) \\(after all of ${arrayId} succeed\\)$`, 'm').exec(submitted.stdout)?.[1];
  assert.ok(arrayId !== undefined && finalizeId !== undefined, submitted.stdout + submitted.stderr);

  const jobs = await waitForJobs([arrayId, finalizeId]);
  const logsDir = join(ws.dir, 'logs');
  const jobLogs = async (): Promise<string> => {
    const names = (await readdir(logsDir).catch(() => [])).sort();
    return (await Promise.all(names.map(async (n) => `== logs/${n}\n${await readFile(join(logsDir, n), 'utf8')}`))).join('\n');
  };
  const context = async (): Promise<string> => `${JSON.stringify(jobs, null, 1)}\n${await jobLogs()}\n${await cluster.logs()}`;
  const tasks = jobs.filter((j) => j.arrayJobId === arrayId).sort((a, b) => Number(a.arrayTaskId) - Number(b.arrayTaskId));
  const fin = jobs.find((j) => j.jobId === finalizeId);
  assert.deepEqual(tasks.map((t) => [t.arrayTaskId, t.state, t.exitCode]), [['0', 'COMPLETED', '0:0'], ['1', 'COMPLETED', '0:0'], ['2', 'COMPLETED', '0:0']], await context());
  assert.deepEqual([fin?.state, fin?.exitCode], ['COMPLETED', '0:0'], await context());
  // afterok held the finalize job back until the last task had ended (Slurm times have 1 s resolution).
  const lastEnd = Math.max(...tasks.map((t) => slurmTime(t.endTime)));
  assert.ok(slurmTime(fin!.startTime) >= lastEnd, `finalize started ${fin!.startTime}, last task ended at ${new Date(lastEnd).toISOString()}`);
  console.log(`# array of ${WORKERS} + finalize through Slurm: ${((Date.now() - started) / 1000).toFixed(1)} s from submission to completion`);

  // Each task was a worker named by Slurm's array variables, not by flags.
  const store = join(ws.dir, 'stores/sharded');
  for (let i = 0; i < WORKERS; i++) {
    const part = await readJson<PartManifest>(join(store, `parts/worker-${i}-of-${WORKERS}.json`));
    assert.deepEqual(
      { ...part.worker, pid: 0 },
      { index: i, count: WORKERS, source: 'slurm', describe: `SLURM_ARRAY_TASK_ID=${i}, SLURM_ARRAY_TASK_COUNT=${WORKERS}`, host: hostname(), pid: 0 },
    );
    assert.match(await readFile(join(logsDir, `teacher-${arrayId}_${i}.out`), 'utf8'), new RegExp(`"msg":"worker ${i} of ${WORKERS} done: `));
  }
  const finLog = await readFile(join(logsDir, `finalize-${finalizeId}.out`), 'utf8');
  assert.match(finLog, /"msg":"store finalized: stores\/sharded\/manifest\.json"/, finLog);

  // The merged store: every shard file byte-identical to the single writer's, the same shard records.
  const singleStore = join(ws.dir, 'stores/single');
  const [a, b] = [await shardHashes(singleStore), await shardHashes(store)];
  assert.equal(Object.keys(a).length, 9, 'train 600 + test 300 rows in 100-row shards');
  assert.deepEqual(b, a);
  const records = (m: StoreManifest): unknown[] => Object.values(m.splits).flatMap((s) => s.shards.map((r) => [r.path, r.rowStart, r.rowEnd, r.bytes, r.sha256, r.datasetFingerprint]));
  const [ms, mm] = [await readJson<StoreManifest>(join(singleStore, 'manifest.json')), await readJson<StoreManifest>(join(store, 'manifest.json'))];
  assert.deepEqual(records(mm), records(ms));
  assert.equal(mm.workers?.count, WORKERS);
  await run(process.execPath, [DISTILL_CLI, 'verify', relative(ws.dir, store)], { cwd: ws.dir }); // exits 1 on any problem
});
