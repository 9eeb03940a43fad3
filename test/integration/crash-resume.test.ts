/**
 * Crash tests: the teacher-logits and train-student processes are killed with SIGKILL at seeded
 * random points, then re-run (teacher-logits resumes by itself, train-student with --resume), and the
 * final outputs are compared with an uninterrupted run's: the same shard sha256s (and a store that
 * verifies), the same weights.bin bytes. FAULT_TRIALS trials per stage (default 1 in `make test`;
 * `make test-faults` runs 20). Each trial is killed a time after its own first output file appeared
 * (what comes before is process start-up, which writes nothing), drawn from mulberry32(FAULT_SEED,
 * default 7) uniformly over [0, the uninterrupted run's time from first output to end]. The figures of docs/reliability.md come from `make test-faults`.
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
import { copyWorkspace, goodExperiment, goodWorkspace } from '../helpers/good-workspace.ts';
import type { TeacherWorkspace } from '../helpers/teacher-workspace.ts';

const TRIALS = Number(process.env.FAULT_TRIALS ?? 1);
const rand = mulberry32(Number(process.env.FAULT_SEED ?? 7));
const base = await goodWorkspace({ train: false });
// Many small shards and batches, two epochs: the kill lands inside the work more often.
await writeFile(
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
  opts: { killAfterOutputMs?: number; watch?: string; killWhen?: () => Promise<boolean> } = {},
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
    // A deterministic fault point: SIGKILL as soon as `killWhen` sees its file (polled every 5 ms).
    let fired = false;
    const point = opts.killWhen === undefined ? null : setInterval(() => {
      void opts.killWhen!().then((hit) => {
        if (hit && !fired) {
          fired = true;
          child.kill('SIGKILL');
        }
      });
    }, 5);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      if (point) clearInterval(point);
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
  /** What each kill left in the output folder (partialState), counted; finished runs as "finished before the kill". */
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

test(`teacher-logits killed at ${TRIALS} seeded random points resumes to the shards of an uninterrupted run`, async (t) => {
  const tally = await crashTrials('teacher-logits', 'stores/crash', [], async (ws, ref) => {
    assert.deepEqual(await shas(join(ws.dir, 'stores/crash')), await shas(join(ref.dir, 'stores/crash')));
    assert.deepEqual((await verifyStoreDir(join(ws.dir, 'stores/crash'), ws.dir)).problems, []);
  });
  t.diagnostic(`teacher-logits: ${JSON.stringify(tally)}`);
});

test(`train-student killed at ${TRIALS} seeded random points resumes (--resume) to the weights of an uninterrupted run`, async (t) => {
  // The trials start from a workspace whose store is complete: only train-student is killed.
  assert.equal((await distill(['teacher-logits', '-c', 'crash.json'], base.dir)).code, 0);
  const tally = await crashTrials('train-student', 'runs/crash', ['--resume'], async (ws, ref) => {
    const weights = await readFile(join(ref.dir, 'runs/crash/weights.bin'));
    assert.ok((await readFile(join(ws.dir, 'runs/crash/weights.bin'))).equals(weights), 'weights.bin differs from the uninterrupted run');
  });
  t.diagnostic(`train-student: ${JSON.stringify(tally)}`);
});

/** Whether a file exists. */
const exists = (file: string): Promise<boolean> => readFile(file).then(() => true, () => false);

/** The partial state a killed stage left in its output folder, named for the tally. */
async function partialState(stage: string, out: string): Promise<string> {
  const files = (await readdir(out, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile() && e.name !== '.lock').map((e) => e.name);
  const finals = files.filter((n) => !n.includes('.tmp-'));
  if (finals.length === 0) return files.length === 0 ? 'nothing written' : 'temp files only';
  if (stage === 'teacher-logits') return finals.includes('manifest.json') ? 'manifest written (complete)' : `shards on disk (${finals.filter((n) => /\.(parquet|arrow)$/.test(n)).length}), no manifest`;
  if (finals.includes('run-manifest.json')) return 'run manifest written (complete)';
  const checkpoints = finals.filter((n) => /^epoch-\d+\.json$/.test(n)).length;
  return checkpoints > 0 ? `checkpoint (${checkpoints}), no final model` : 'config only, no checkpoint';
}

/**
 * Deterministic fault points: each stage is killed (SIGKILL) as soon as a named file has appeared,
 * then resumed, and its outputs must equal an uninterrupted run's byte for byte. The test asserts the
 * partial state each kill left (read from the folder after the kill) and prints the tally.
 */
test('deterministic fault points: killed when a given part record / checkpoint / manifest appears, resumed byte-identical', async (t) => {
  const ws0 = await copyWorkspace(base);
  await rm(join(ws0.dir, 'stores/crash'), { recursive: true, force: true });
  await rm(join(ws0.dir, 'runs/crash'), { recursive: true, force: true });
  const ref = await copyWorkspace(ws0);
  assert.equal((await distill(['teacher-logits', '-c', 'crash.json'], ref.dir)).code, 0);
  assert.equal((await distill(['train-student', '-c', 'crash.json'], ref.dir)).code, 0);
  const points: { stage: string; out: string; file: string; expect: RegExp; resume: string[] }[] = [
    { stage: 'teacher-logits', out: 'stores/crash', file: 'train/part-00001.parquet.json', expect: /^shards on disk \(\d+\), no manifest$/, resume: [] },
    { stage: 'teacher-logits', out: 'stores/crash', file: 'manifest.json', expect: /^manifest written \(complete\)$/, resume: [] },
    { stage: 'train-student', out: 'runs/crash', file: 'checkpoints/epoch-0001.json', expect: /^checkpoint \(1\), no final model$/, resume: ['--resume'] },
  ];
  const tally: string[] = [];
  for (const p of points) {
    const ws = await copyWorkspace(ws0);
    if (p.stage === 'train-student') assert.equal((await distill(['teacher-logits', '-c', 'crash.json'], ws.dir)).code, 0);
    const out = join(ws.dir, p.out);
    const killed = await distill([p.stage, '-c', 'crash.json'], ws.dir, { killWhen: () => exists(join(out, p.file)) });
    const state = killed.killed ? await partialState(p.stage, out) : 'finished before the kill';
    tally.push(`${p.stage} killed at ${p.file}: ${state}`);
    assert.match(state, p.expect, `${p.stage} at ${p.file}`);
    const again = await distill([p.stage, '-c', 'crash.json', ...p.resume], ws.dir);
    assert.equal(again.code, 0, again.stderr);
    if (p.stage === 'teacher-logits') {
      assert.deepEqual(await shas(out), await shas(join(ref.dir, p.out)));
      assert.deepEqual((await verifyStoreDir(out, ws.dir)).problems, []);
    } else assert.ok((await readFile(join(out, 'weights.bin'))).equals(await readFile(join(ref.dir, p.out, 'weights.bin'))), 'weights.bin differs from the uninterrupted run');
    await rm(ws.dir, { recursive: true, force: true });
  }
  t.diagnostic(`fault points: ${tally.join('; ')}`);
});
