/**
 * Deterministic fault points: every stage that writes (data, teacher-logits and its sharded workers,
 * finalize, train-student, export, evaluate) is killed with SIGKILL at named points of its writes,
 * then run again, and what it then holds must equal an uninterrupted run's outputs byte for byte.
 *
 * The CLI runs with DISTILL_FAULT_POINT (pipeline/io/fault-point.ts): it stops itself right before a
 * named file is renamed into place (only the temporary file exists) or right after; the test
 * watches the file system and kills it there (test/helpers/fault-points.ts). Each trial asserts the
 * partial state the kill left ("temp files only (1)", "shards 2, part records 2; no manifest",
 * "checkpoint, ...; no run manifest", ...), so each partial state is exercised on every run, not
 * when a random delay happens to land in it (the seeded random trials are crash-resume.test.ts).
 * The tally of every test lists the points and the states they hit.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../pipeline/store/open-store.ts';
import type { EvaluateReport } from '../../stages/evaluate/evaluate-report.ts';
import { verifyStoreDir } from '../../stages/verify/verify-store-dir.ts';
import { describeOutputs, filesUnder, RUN_LAYOUT, runToFaultPoint, STORE_LAYOUT } from '../helpers/fault-points.ts';
import type { FaultPointSpec, OutputLayout } from '../helpers/fault-points.ts';
import { copyWorkspace, goodExperiment, goodWorkspace } from '../helpers/good-workspace.ts';
import { runCli } from '../helpers/run-cli.ts';
import { treeHashes } from '../helpers/tree-hashes.ts';

const base = await goodWorkspace({ train: false });
// Shards of 50 rows (16 in all), two epochs, an evaluation small enough for a few seconds.
const crash = goodExperiment({
  teacherLogits: { store: 'stores/crash', shardRows: 50, batchSize: 10, device: 'cpu' },
  train: { run: 'runs/crash', epochs: 2, batchSize: 50, backend: 'cpu' },
  evaluate: { report: 'eval/report', export: 'eval/export', corruptionRows: 50, severities: [1], latencyRuns: 3, throughputBatches: 1 },
});
await writeFile(join(base.dir, 'crash.json'), JSON.stringify(crash));
await writeFile(join(base.dir, 'sharded.json'), JSON.stringify({ ...crash, teacherLogits: { ...(crash.teacherLogits as object), store: 'stores/sharded' } }));
/** The uninterrupted runs, stage by stage (filled in by the tests below, in order). */
const ref = await copyWorkspace(base);
/** Where the trials run; each trial removes the folder of the stage it kills first. */
const ws = await copyWorkspace(base);

const WORKER = (i: number): string[] => ['teacher-logits', '-c', 'sharded.json', '--num-shards', '2', '--shard-index', String(i)];

async function cli(args: string[], cwd: string): Promise<void> {
  const r = await runCli(args, { cwd });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
}

const readJson = async <T>(p: string): Promise<T> => JSON.parse(await readFile(p, 'utf8')) as T;
const bytesEqual = async (a: string, b: string): Promise<void> => assert.ok((await readFile(a)).equals(await readFile(b)), `${a} differs from the uninterrupted run's ${b}`);

/** One trial: `args` killed at `point`, the state under `dir` asserted, `resume` run, then `check`. */
interface Trial {
  point: FaultPointSpec;
  expect: string;
  /** Also in `make test` (one trial per kind of partial state of each stage); the rest with FAULT_POINTS=all (`make test-faults`). */
  core?: true;
}

/** `make test-faults` sets FAULT_POINTS=all: every trial below; otherwise the core ones. */
const ALL = process.env.FAULT_POINTS === 'all';

/**
 * Runs the trials of one stage in `ws`: before each, `reset` (removes what the stage wrote); `args`
 * killed at the point; the state `layout` describes under `dir` must be `expect`; `resume` then ends
 * with exit 0 and `check` compares with `ref`. Returns the tally lines.
 */
async function trials(stage: string, args: string[], dir: string, layout: OutputLayout, list: Trial[], opts: { reset: () => Promise<void>; resume?: string[]; check: () => Promise<void> }): Promise<string[]> {
  const tally: string[] = [];
  for (const { point, expect } of list.filter((x) => ALL || x.core)) {
    await opts.reset();
    const killed = await runToFaultPoint(args, ws.dir, point);
    assert.ok(killed.killed, `${stage} ${point.phase} ${point.file}: not killed at the point (exit ${killed.code}): ${killed.stderr}`);
    const state = await describeOutputs(join(ws.dir, dir), layout);
    tally.push(`${stage} killed ${point.phase} ${point.file}: ${state}`);
    assert.equal(state, expect, `${stage} killed ${point.phase} ${point.file}`);
    await cli(opts.resume ?? args, ws.dir);
    await opts.check();
  }
  return tally;
}

const shardHashes = async (store: string): Promise<string[]> => {
  const s = await openStore(store);
  return s.splits().flatMap((split) => s.shards(split).map((r) => `${r.path.slice(store.length)} ${r.sha256}`));
};
/** The store at `rel` in ws holds the shards (sha256 of each) of the reference's uninterrupted single writer, and verifies. */
async function sameStore(rel: string): Promise<void> {
  assert.deepEqual(await shardHashes(join(ws.dir, rel)), await shardHashes(join(ref.dir, 'stores/crash')));
  assert.deepEqual((await verifyStoreDir(join(ws.dir, rel), ws.dir)).problems, []);
}

test('data: killed with temp files only, with part of the files in staging, and with a complete staging folder; re-run, the dataset is byte-identical and no staging folder is left', async (t) => {
  const args = ['data', 'mnist', '--out', 'faultdata/mnist', '--limit-train', '600', '--limit-test', '200', '--rows-per-file', '200'];
  await cli(args, ref.dir);
  const layout: OutputLayout = {
    kinds: [
      ['staging files', /^mnist\.staging-\d+\/(train|test)\/part-\d+\.parquet$/],
      ['staging manifest', /^mnist\.staging-\d+\/manifest\.json$/],
      ['staging arrow cache', /^mnist\.staging-\d+\/\.arrow-cache\//],
    ],
    complete: ['dataset manifest', 'mnist/manifest.json'],
  };
  const tally = await trials(
    'data',
    args,
    'faultdata',
    layout,
    [
      { point: { phase: 'before', file: 'train/part-00000.parquet' }, expect: 'temp files only (1)', core: true },
      { point: { phase: 'after', file: 'train/part-00001.parquet' }, expect: 'staging files 2; no dataset manifest', core: true },
      { point: { phase: 'after', file: 'manifest.json' }, expect: 'staging files 4, staging manifest, staging arrow cache 8; no dataset manifest' },
    ],
    {
      reset: () => rm(join(ws.dir, 'faultdata'), { recursive: true, force: true }),
      check: async () => {
        assert.deepEqual((await filesUnder(join(ws.dir, 'faultdata'))).filter((f) => !f.startsWith('mnist/')), [], 'a staging folder was left behind');
        const [mine, theirs] = await Promise.all([treeHashes(join(ws.dir, 'faultdata/mnist')), treeHashes(join(ref.dir, 'faultdata/mnist'))]);
        mine.delete('manifest.json');
        theirs.delete('manifest.json');
        assert.deepEqual(mine, theirs);
        const manifest = async (dir: string): Promise<unknown> => ({ ...(await readJson<Record<string, unknown>>(join(dir, 'faultdata/mnist/manifest.json'))), createdAt: null });
        assert.deepEqual(await manifest(ws.dir), await manifest(ref.dir));
      },
    },
  );
  t.diagnostic(tally.join('; '));
});

test('teacher-logits: killed with temp files only, a shard without its part record, shards without a manifest, and the config without a manifest; resumed to the same shards', async (t) => {
  await cli(['teacher-logits', '-c', 'crash.json'], ref.dir);
  const tally = await trials(
    'teacher-logits',
    ['teacher-logits', '-c', 'crash.json'],
    'stores/crash',
    STORE_LAYOUT,
    [
      { point: { phase: 'before', file: 'train/part-00000.parquet' }, expect: 'temp files only (1)', core: true },
      { point: { phase: 'after', file: 'train/part-00000.parquet' }, expect: 'shards; no manifest', core: true },
      { point: { phase: 'after', file: 'train/part-00001.parquet.json' }, expect: 'shards 2, part records 2; no manifest', core: true },
      { point: { phase: 'after', file: 'config.resolved.json' }, expect: 'shards 16, part records 16, config.resolved.json; no manifest' },
    ],
    { reset: () => rm(join(ws.dir, 'stores/crash'), { recursive: true, force: true }), check: () => sameStore('stores/crash') },
  );
  t.diagnostic(tally.join('; '));
});

test('sharded workers and finalize: a worker killed before its part manifest, finalize killed before and after config.resolved.json; the merged store holds the single writer\'s shards, and a resumed finalize writes what an uninterrupted one does', async (t) => {
  const store = join(ws.dir, 'stores/sharded');
  // Worker 1 killed first (worker 0 has not run): its shards are on disk, its part manifest only as a temp file.
  const tally = await trials('worker 1 of 2', WORKER(1), 'stores/sharded', STORE_LAYOUT, [{ point: { phase: 'before', file: 'parts/worker-1-of-2.json' }, expect: 'shards 8, part records 8, temp files 1; no manifest', core: true }], {
    reset: () => rm(store, { recursive: true, force: true }),
    check: async () => {
      await cli(WORKER(0), ws.dir);
      await cli(['finalize', 'stores/sharded'], ws.dir);
      await sameStore('stores/sharded');
    },
  });
  // What finalize writes from these parts, uninterrupted: the reference for the finalize trials.
  const finalized = new Map([...(await treeHashes(store))].filter(([f]) => f === 'manifest.json' || f === 'config.resolved.json'));
  assert.equal(finalized.size, 2);
  tally.push(
    ...(await trials(
      'finalize',
      ['finalize', 'stores/sharded'],
      'stores/sharded',
      STORE_LAYOUT,
      [
        { point: { phase: 'before', file: 'config.resolved.json' }, expect: 'shards 16, part records 16, part manifests 2, temp files 1; no manifest' },
        { point: { phase: 'after', file: 'config.resolved.json' }, expect: 'shards 16, part records 16, part manifests 2, config.resolved.json; no manifest', core: true },
      ],
      {
        reset: () => Promise.all(['manifest.json', 'config.resolved.json'].map((f) => rm(join(store, f), { force: true }))).then(() => undefined),
        check: async () => {
          const now = await treeHashes(store);
          assert.deepEqual([...finalized].map(([f]) => [f, now.get(f)]), [...finalized], 'manifest.json and config.resolved.json as the uninterrupted finalize wrote them');
          await sameStore('stores/sharded');
        },
      },
    )),
  );
  t.diagnostic(tally.join('; '));
});

test('train-student: killed with a temp checkpoint only, after the first checkpoint, and with the final model but no run manifest; --resume gives the same weights', async (t) => {
  await cli(['train-student', '-c', 'crash.json'], ref.dir);
  const tally = await trials(
    'train-student',
    ['train-student', '-c', 'crash.json'],
    'runs/crash',
    RUN_LAYOUT,
    [
      { point: { phase: 'before', file: 'checkpoints/epoch-0001.bin' }, expect: 'config.resolved.json, metrics.jsonl, temp files 1; no run manifest', core: true },
      { point: { phase: 'after', file: 'checkpoints/epoch-0001.json' }, expect: 'config.resolved.json, metrics.jsonl, checkpoint, checkpoint bin; no run manifest', core: true },
      { point: { phase: 'after', file: 'model.json' }, expect: 'config.resolved.json, metrics.jsonl, checkpoint, checkpoint bin, weights.bin, model.json; no run manifest' },
    ],
    {
      reset: () => rm(join(ws.dir, 'runs/crash'), { recursive: true, force: true }),
      resume: ['train-student', '-c', 'crash.json', '--resume'],
      check: async () => {
        for (const f of ['weights.bin', 'model.json']) await bytesEqual(join(ws.dir, 'runs/crash', f), join(ref.dir, 'runs/crash', f));
      },
    },
  );
  t.diagnostic(tally.join('; '));
});

test('export: killed with temp files only and with model.onnx and card.json but no export manifest; re-run, the same ONNX bytes', async (t) => {
  const args = ['export', '-c', 'crash.json', '--out', 'exports/crash'];
  await cli(args, ref.dir);
  const layout: OutputLayout = { kinds: [['model.onnx', /^model\.onnx$/], ['card.json', /^card\.json$/]], complete: ['export manifest', 'export-manifest.json'] };
  const tally = await trials(
    'export',
    args,
    'exports/crash',
    layout,
    [
      { point: { phase: 'before', file: 'model.onnx' }, expect: 'temp files only (1)', core: true },
      { point: { phase: 'after', file: 'card.json' }, expect: 'model.onnx, card.json; no export manifest' },
    ],
    {
      reset: () => rm(join(ws.dir, 'exports/crash'), { recursive: true, force: true }),
      check: async () => {
        for (const f of ['model.onnx', 'card.json']) await bytesEqual(join(ws.dir, 'exports/crash', f), join(ref.dir, 'exports/crash', f));
        // The same record but its time, and the student run's key (its run manifest records when it was trained).
        const manifest = async (dir: string): Promise<unknown> => {
          const m = await readJson<{ key: { inputs: Record<string, string> } }>(join(dir, 'exports/crash/export-manifest.json'));
          return { ...m, createdAt: null, key: { ...m.key, inputs: { ...m.key.inputs, 'student run': null } } };
        };
        assert.deepEqual(await manifest(ws.dir), await manifest(ref.dir));
      },
    },
  );
  t.diagnostic(tally.join('; '));
});

test('evaluate: killed with the export but no report, and with metrics.json but no report.html; re-run, the same export and measured quality', async (t) => {
  await cli(['evaluate', '-c', 'crash.json'], ref.dir);
  const layout: OutputLayout = {
    kinds: [
      ['export', /^export\/(model\.onnx|card\.json|export-manifest\.json)$/],
      ['metrics.json', /^report\/metrics\.json$/],
      ['report.md', /^report\/report\.md$/],
    ],
    complete: ['report.html', 'report/report.html'],
  };
  /** What evaluate measured that does not depend on timing (latencies and throughput do, and what is chosen by them). */
  const quality = async (dir: string): Promise<unknown> => {
    const r = await readJson<EvaluateReport>(join(dir, 'eval/report/metrics.json'));
    return { inputs: r.inputs, agreement: r.agreement, perClass: r.perClass, errors: r.errors, slices: r.slices, robustness: r.robustness, export: r.export };
  };
  const tally = await trials(
    'evaluate',
    ['evaluate', '-c', 'crash.json'],
    'eval',
    layout,
    [
      { point: { phase: 'after', file: 'export/export-manifest.json' }, expect: 'export 3; no report.html' },
      { point: { phase: 'after', file: 'report/metrics.json' }, expect: 'export 3, metrics.json; no report.html', core: true },
    ],
    {
      reset: () => rm(join(ws.dir, 'eval'), { recursive: true, force: true }),
      check: async () => {
        await bytesEqual(join(ws.dir, 'eval/export/model.onnx'), join(ref.dir, 'eval/export/model.onnx'));
        assert.deepEqual(await quality(ws.dir), await quality(ref.dir));
        assert.deepEqual((await filesUnder(join(ws.dir, 'eval'))).filter((f) => f.startsWith('report/')), ['report/metrics.json', 'report/report.html', 'report/report.md']);
      },
    },
  );
  t.diagnostic(tally.join('; '));
});
