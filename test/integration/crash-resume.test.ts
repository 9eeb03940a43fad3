/**
 * Crash tests: the teacher-logits and train-student processes are killed with SIGKILL at seeded
 * random points, then re-run (teacher-logits resumes by itself, train-student with --resume), and the
 * final outputs are compared with an uninterrupted run's: the same shard sha256s (and a store that
 * verifies), the same weights.bin bytes. FAULT_TRIALS trials per stage: `make test-faults` runs 20;
 * `make test` none (FAULT_TRIALS unset: skipped), as a random delay proves nothing about which state
 * it hit; the deterministic fault points of every stage (fault-points.test.ts) run there instead.
 * Each trial is killed a time after its own first output file appeared (what comes before is
 * process start-up, which writes nothing), drawn from mulberry32(FAULT_SEED, default 7) uniformly
 * over [0, the uninterrupted run's time from first output to end]; the tally counts the state each
 * kill left. The figures of docs/reliability.md come from `make test-faults`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../pipeline/provenance.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { verifyStoreDir } from '../../stages/verify/verify-store-dir.ts';
import { describeOutputs, RUN_LAYOUT, STORE_LAYOUT } from '../helpers/fault-points.ts';
import { copyWorkspace, goodExperiment, goodWorkspace } from '../helpers/good-workspace.ts';
import type { TeacherWorkspace } from '../helpers/teacher-workspace.ts';

const TRIALS = Number(process.env.FAULT_TRIALS ?? 0);
const SKIP = TRIALS > 0 ? false : 'FAULT_TRIALS unset: the seeded random trials run in `make test-faults` (fault-points.test.ts covers every partial state in `make test`)';
const rand = mulberry32(Number(process.env.FAULT_SEED ?? 7));
const base = TRIALS > 0 ? await goodWorkspace({ train: false }) : { dir: '', dataset: '', train: 0, test: 0 };
// Many small shards and batches, two epochs: the kill lands inside the work more often.
if (TRIALS > 0) await writeFile(
  join(base.dir, 'crash.json'),
  JSON.stringify(goodExperiment({ teacherLogits: { store: 'stores/crash', shardRows: 50, batchSize: 10, device: 'cpu' }, train: { run: 'runs/crash', epochs: 2, batchSize: 50, backend: 'cpu' } })),
);

/**
 * Runs `distill args` in `cwd`. With `watch`, polls that folder every 10 ms and reports when the
 * first file appeared in it (`firstOutputMs`); with `killAfterOutputMs` too, kills the process with
 * SIGKILL that many ms after its first output file appeared.
 */
function distill(
  args: string[],
  cwd: string,
  opts: { killAfterOutputMs?: number; watch?: string } = {},
): Promise<{ code: number | null; killed: boolean; ms: number; firstOutputMs: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(projectRoot, 'bin/distill.js'), ...args, '--log-format', 'json'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let firstOutputMs: number | null = null;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | null = null;
    const poll = opts.watch === undefined ? null : setInterval(() => {
      if (firstOutputMs !== null) return;
      void fileCount(opts.watch!).then((n) => {
        if (n === 0 || firstOutputMs !== null) return;
        firstOutputMs = performance.now() - t0;
        if (opts.killAfterOutputMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterOutputMs);
      });
    }, 10);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({ code, killed: signal === 'SIGKILL', ms: performance.now() - t0, firstOutputMs, stderr });
    });
  });
}

async function shas(dir: string): Promise<string[]> {
  const store = await openStore(dir);
  return store.splits().flatMap((s) => store.shards(s).map((r) => `${r.path.slice(dir.length)} ${r.sha256}`));
}

/** Files present in a folder tree (a killed run's partial output). */
async function fileCount(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name !== '.lock').length;
}

interface Tally {
  trials: number;
  killed: number;
  /** What each kill left in the output folder (partialState), counted; runs that ended first as "finished before the kill". */
  states: Record<string, number>;
  /** The uninterrupted run's first output and end (ms from start): kill delays are drawn over the difference. */
  windowMs: [number, number];
}

/**
 * FAULT_TRIALS crash-and-resume trials of a stage on copies of `base`: an uninterrupted run first (the
 * reference, and its duration), then per trial a run killed at a seeded random time, a re-run with
 * `resumeArgs`, and `check(trial, reference)`. Returns the tally (reported as a test diagnostic).
 */
async function crashTrials(stage: string, out: string, resumeArgs: string[], check: (ws: TeacherWorkspace, ref: TeacherWorkspace) => Promise<void>): Promise<Tally> {
  const ref = await copyWorkspace(base);
  const full = await distill([stage, '-c', 'crash.json'], ref.dir, { watch: join(ref.dir, out) });
  assert.equal(full.code, 0, full.stderr);
  const from = full.firstOutputMs ?? 0;
  const tally: Tally = { trials: 0, killed: 0, states: {}, windowMs: [Math.round(from), Math.round(full.ms)] };
  for (let i = 0; i < TRIALS; i++) {
    const ws = await copyWorkspace(base);
    const at = Math.round(rand() * (full.ms - from));
    const first = await distill([stage, '-c', 'crash.json'], ws.dir, { watch: join(ws.dir, out), killAfterOutputMs: at });
    tally.trials++;
    if (first.killed) tally.killed++;
    else assert.equal(first.code, 0, first.stderr);
    const state = first.killed ? await partialState(stage, join(ws.dir, out)) : 'finished before the kill';
    tally.states[state] = (tally.states[state] ?? 0) + 1;
    const again = await distill([stage, '-c', 'crash.json', ...resumeArgs], ws.dir);
    assert.equal(again.code, 0, `trial ${i} (killed ${at} ms after its first output): ${again.stderr}`);
    await check(ws, ref);
    await rm(ws.dir, { recursive: true, force: true });
  }
  return tally;
}

test(`teacher-logits killed at ${TRIALS} seeded random points resumes to the shards of an uninterrupted run`, { skip: SKIP }, async (t) => {
  const tally = await crashTrials('teacher-logits', 'stores/crash', [], async (ws, ref) => {
    assert.deepEqual(await shas(join(ws.dir, 'stores/crash')), await shas(join(ref.dir, 'stores/crash')));
    assert.deepEqual((await verifyStoreDir(join(ws.dir, 'stores/crash'), ws.dir)).problems, []);
  });
  t.diagnostic(`teacher-logits: ${JSON.stringify(tally)}`);
});

test(`train-student killed at ${TRIALS} seeded random points resumes (--resume) to the weights of an uninterrupted run`, { skip: SKIP }, async (t) => {
  // The trials start from a workspace whose store is complete: only train-student is killed.
  assert.equal((await distill(['teacher-logits', '-c', 'crash.json'], base.dir)).code, 0);
  const tally = await crashTrials('train-student', 'runs/crash', ['--resume'], async (ws, ref) => {
    const weights = await readFile(join(ref.dir, 'runs/crash/weights.bin'));
    assert.ok((await readFile(join(ws.dir, 'runs/crash/weights.bin'))).equals(weights), 'weights.bin differs from the uninterrupted run');
  });
  t.diagnostic(`train-student: ${JSON.stringify(tally)}`);
});

/** The partial state a killed stage left in its output folder, in the words of the deterministic trials. */
const partialState = (stage: string, out: string): Promise<string> => describeOutputs(out, stage === 'teacher-logits' ? STORE_LAYOUT : RUN_LAYOUT);
