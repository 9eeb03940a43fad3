/**
 * View stores (teacherLogits.views, docs/store-format.md "View stores") end to end on a small MNIST
 * subset (600 train + 200 test rows) with tiny generated ONNX teachers:
 * - consistency: an identity teacher (its logits are its input) records exactly what ONNX Runtime was
 *   fed for every (row, view); the student's training batches must hold the same float32 values;
 * - the existing guarantees: shards independent of batch size and workers (+ finalize), resume after a
 *   lost shard, `distill verify`, DuckDB reading the long (row, view) layout, top-k per view;
 * - training: resume to the same weights, viewTargets view0 vs consistent, a hard-label student on
 *   the stored views, and the configuration errors.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBListValue } from '@duckdb/node-api';
import { augmentView } from '../../pipeline/augment/augment-view.ts';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { readDatasetManifest, columnsWithRole } from '../../pipeline/dataset/dataset-manifest.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { CollectingReporter, silentReporter } from '../../pipeline/reporter.ts';
import { openStore, verifyStore } from '../../pipeline/store/open-store.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { finalizeStore } from '../../stages/teacher-logits/finalize-store.ts';
import { runTeacherLogits, runTeacherWorker } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { datasetSplitSource } from '../../stages/train-student/dataset-split-source.ts';
import { epochPlan } from '../../stages/train-student/epoch-plan.ts';
import { runTrainStudent } from '../../stages/train-student/run-train-student.ts';
import { streamBatches } from '../../stages/train-student/stream-batches.ts';
import { chunkRowCounts } from '../../stages/train-student/chunked-split.ts';
import { makeIdentityTeacher } from '../fixtures/identity-teacher.ts';
import { tinyTeacherForward } from '../fixtures/tiny-teacher.ts';
import { runCli } from '../helpers/run-cli.ts';
import { verifyPath } from '../../stages/verify/verify-path.ts';
import { PIXEL_SCALE, teacherWorkspace, writeExperiment, writeTeacher } from '../helpers/teacher-workspace.ts';

const ws = await teacherWorkspace(600, 200, 300);
const tiny = await writeTeacher(ws, 'tiny', { hidden: 16 });
const VIEWS = { count: 4, seed: 3, image: { shift: 2, rotation: 12, scale: 0.1 } };
const readJson = async <T>(p: string): Promise<T> => JSON.parse(await readFile(p, 'utf8')) as T;
const shaList = async (store: string): Promise<string[]> => Object.values((await readJson<StoreManifest>(join(ws.dir, store, 'manifest.json'))).splits).flatMap((s) => s.shards.map((r) => `${r.path} ${r.sha256}`));
const capture = async (name: string, teacherLogits: Record<string, unknown>, teacher = 'tiny'): Promise<StoreManifest> =>
  runTeacherLogits(await loadExperiment(await writeExperiment(ws, name, teacher, teacherLogits), [], ws.dir), {}, silentReporter);

/** Writes the identity teacher (784 "classes": its input) and its card. */
async function writeIdentityTeacher(): Promise<void> {
  const bytes = makeIdentityTeacher(784);
  const dir = join(ws.dir, 'teachers/identity');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), bytes);
  await writeFile(
    join(dir, 'card.json'),
    JSON.stringify({
      formatVersion: 1,
      name: 'identity',
      model: 'model.onnx',
      sha256: sha256Bytes(bytes),
      inputs: [{ name: 'pixels', column: 'pixels', dtype: 'float32', shape: ['batch', 784], preprocess: { scale: PIXEL_SCALE, offset: 0 } }],
      output: { name: 'logits', kind: 'logits' },
      classes: { count: 784 },
    }),
  );
}

test('consistency: the student is given, bit for bit, the input ONNX Runtime was fed for the (row, view) it trains on; view0 keeps the unaugmented targets', async () => {
  await writeIdentityTeacher();
  await capture('identity', { views: VIEWS, splits: ['train'], batchSize: 50 }, 'identity');
  const store = await openStore(join(ws.dir, 'stores/identity'));
  const dataset = await readDatasetManifest(join(ws.dir, ws.dataset));
  const [feature] = columnsWithRole(dataset, 'feature');
  const [label] = columnsWithRole(dataset, 'label');
  const split = datasetSplitSource({ dir: join(ws.dir, ws.dataset), manifest: dataset, split: 'train', feature: feature!, label: label!, store });
  const shards = await Promise.all(store.shards('train').map((s) => store.readShard('train', s.index)));
  /** The teacher's input for (row, view), as ORT echoed it into the store. */
  const fed = (row: number, view: number): Float32Array => {
    const t = shards.find((s) => s.rowStart <= row && row < s.rowEnd)!;
    const at = (row - t.rowStart) * 4 + view;
    return t.logits!.subarray(at * 784, (at + 1) * 784);
  };
  const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const seen = new Set<number>();
  let augmentedDiffer = 0;
  for (const targets of ['consistent', 'view0'] as const) {
    for (const epoch of [1, 2]) {
      const plan = epochPlan(chunkRowCounts(split), 5, epoch, 2);
      for await (const b of streamBatches(split, plan, { batchSize: 64, scale: PIXEL_SCALE, views: { seed: 5, targets } })) {
        for (let i = 0; i < b.size; i++) {
          const row = b.rows[i]!;
          const view = b.views![i]!;
          seen.add(view);
          const x = b.x.subarray(i * 784, (i + 1) * 784);
          assert.ok(bytes(x).equals(bytes(fed(row, view))), `row ${row} view ${view}: the student's input is not what the teacher was fed`);
          const target = b.logits!.subarray(i * 784, (i + 1) * 784);
          assert.ok(bytes(target).equals(bytes(fed(row, targets === 'consistent' ? view : 0))), `row ${row} view ${view} (${targets}): wrong targets`);
          if (view !== 0 && !bytes(x).equals(bytes(fed(row, 0)))) augmentedDiffer++;
        }
      }
    }
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3], 'every view is drawn');
  assert.ok(augmentedDiffer > 1000, `augmented views differ from view 0 (${augmentedDiffer} examples)`);
  // Without the views option (evaluation) the stream gives view 0, the unaugmented input.
  for await (const b of streamBatches(split, epochPlan(chunkRowCounts(split), 5, 1, 2), { batchSize: 600, scale: PIXEL_SCALE })) {
    for (let i = 0; i < b.size; i++) assert.ok(bytes(b.x.subarray(i * 784, (i + 1) * 784)).equals(bytes(fed(b.rows[i]!, 0))));
  }
});

test('a view store: independent of batch size and workers (finalize), resumes after a lost shard, passes verify, reads in DuckDB as (row, view) rows; its logits are the teacher on augmentView inputs; top-k per view', async () => {
  const dense = await capture('dense', { views: VIEWS, batchSize: 64, splits: ['train'] });
  assert.deepEqual(dense.encoding.views, { count: 4, seed: 3, column: 'pixels', augment: { kind: 'image', shift: 2, rotation: 12, scale: 0.1, geometry: { height: 28, width: 28, channels: 1, layout: 'hwc' } } });
  const expected = await shaList('stores/dense');

  // Two workers at batch 7 (1 row x 4 views per ORT call; the single writer ran 16 rows per call), then finalize.
  const shardedFile = await writeExperiment(ws, 'sharded', 'tiny', { views: VIEWS, batchSize: 7, splits: ['train'] });
  const exp = await loadExperiment(shardedFile, [], ws.dir);
  for (const index of [1, 0]) await runTeacherWorker(exp, { index, count: 2, source: 'flags', describe: `--shard-index ${index}, --num-shards 2` }, {}, silentReporter);
  await finalizeStore(join(ws.dir, 'stores/sharded'), silentReporter);
  assert.deepEqual((await shaList('stores/sharded')).map((s) => s.split(' ')[1]), expected.map((s) => s.split(' ')[1]), '2 workers at batch 7 + finalize');

  await rm(join(ws.dir, 'stores/dense/train/part-00001.parquet'));
  await rm(join(ws.dir, 'stores/dense/manifest.json'));
  const resumed = await capture('dense', { views: VIEWS, batchSize: 64, splits: ['train'] });
  assert.equal(resumed.timing.rowsComputed, 256, 'only the lost shard was recomputed');
  assert.deepEqual(await shaList('stores/dense'), expected);

  const verified = await verifyPath(join(ws.dir, 'stores/dense'), ws.dir);
  assert.deepEqual(verified.problems, []);

  // DuckDB reads the long layout; view 0 is the identity; the values are readShard's.
  const store = await openStore(join(ws.dir, 'stores/dense'));
  await verifyStore(store);
  const t0 = await store.readShard('train', 0);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const r = await con.runAndReadAll(`select row, view, dx, dy, angle, scale, logits from read_parquet('${join(ws.dir, 'stores/dense/train')}/*.parquet') order by row, view`);
    const rows = r.getRows();
    assert.equal(rows.length, 600 * 4);
    const p = t0.viewParams!;
    assert.equal(p.kind, 'image');
    rows.slice(0, 256 * 4).forEach(([row, view, dx, dy, angle, scale, logits], i) => {
      assert.deepEqual([Number(row), Number(view)], [Math.floor(i / 4), i % 4]);
      if (p.kind === 'image') assert.deepEqual([dx, dy, angle, scale], [p.dx[i], p.dy[i], p.angle[i], p.scale[i]]);
      assert.deepEqual(((logits as DuckDBListValue).items as number[]).map(Number), Array.from(t0.logits!.subarray(i * 10, (i + 1) * 10)));
    });
    const identity = await con.runAndReadAll(`select count(*) from read_parquet('${join(ws.dir, 'stores/dense/train')}/*.parquet') where view = 0 and (dx <> 0 or dy <> 0 or angle <> 0 or scale <> 1)`);
    assert.equal(Number(identity.getRows()[0]![0]), 0);
  } finally {
    con.closeSync();
  }

  // The stored logits are the tiny teacher (run in JS, independently of ORT) on augmentView's inputs.
  const dataset = await readDatasetManifest(join(ws.dir, ws.dataset));
  const [feature] = columnsWithRole(dataset, 'feature');
  const [label] = columnsWithRole(dataset, 'label');
  const src = datasetSplitSource({ dir: join(ws.dir, ws.dataset), manifest: dataset, split: 'train', feature: feature!, label: label!, store });
  const chunk = await src.load(0);
  const policy = store.encoding.views!;
  for (const i of [1, 2, 3, 5, 6, 7, 40 * 4 + 1, 255 * 4 + 3]) {
    const row = Math.floor(i / 4);
    const aug = new Uint8Array(784);
    augmentView(policy, t0.viewParams!, i, chunk.features.subarray(row * 784, (row + 1) * 784) as Uint8Array, aug);
    const want = tinyTeacherForward(tiny.weights, Array.from(aug, (v) => Math.fround(v * PIXEL_SCALE)), 1);
    t0.logits!.subarray(i * 10, (i + 1) * 10).forEach((z, c) => assert.ok(Math.abs(z - want[c]!) < 1e-4, `row ${row} view ${i % 4} class ${c}: ${z} vs ${want[c]}`));
  }

  // Top-k per view: each (row, view) keeps the 3 largest of that view's dense logits.
  const topk = await capture('topk', { views: VIEWS, encoding: { mode: 'topk', k: 3, temperature: 2 }, splits: ['train'] });
  assert.deepEqual(topk.encoding.views, dense.encoding.views);
  const k0 = await (await openStore(join(ws.dir, 'stores/topk'))).readShard('train', 0);
  for (let i = 0; i < 256 * 4; i++) {
    const z = Array.from(t0.logits!.subarray(i * 10, (i + 1) * 10));
    const want = z.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 3).map(([, c]) => c);
    assert.deepEqual(Array.from(k0.topkIndex!.subarray(i * 3, (i + 1) * 3)), want, `entry ${i}`);
  }
});

test('train-student on a view store: resume gives the weights of an uninterrupted run; view0 trains otherwise; a hard-label student trains on the stored views; bad configs are refused', async () => {
  await capture('train-views', { views: VIEWS, batchSize: 64 });
  const file = join(ws.dir, 'train-views.json');
  const base = await readJson<Record<string, unknown>>(file);
  const student = { student: { arch: 'mlp', hidden: [16] }, train: { run: 'runs/full', backend: 'cpu', epochs: 2, batchSize: 64, alpha: 0.1, temperature: 2, learningRate: 0.01, limitRows: 320, evalBatchSize: 200 } };
  await writeFile(file, JSON.stringify({ ...base, ...student }));
  const load = (...sets: string[]): ReturnType<typeof loadExperiment> => loadExperiment(file, sets, ws.dir);
  const reporter = new CollectingReporter();
  const full = await runTrainStudent(await load(), {}, reporter);
  assert.ok(reporter.messages('info').some((m) => /view store \(K = 4, image\): every epoch shows each training row as one seeded view/.test(m)), 'the run says it trains on views');
  await runTrainStudent(await load('train.run=runs/part', 'train.epochs=1'), {}, silentReporter);
  const resumed = await runTrainStudent(await load('train.run=runs/part'), { resume: true }, silentReporter);
  assert.equal(resumed.outputs.weightsSha256, full.outputs.weightsSha256, 'resume is exact with views');
  const view0 = await runTrainStudent(await load('train.run=runs/view0', 'train.viewTargets="view0"'), {}, silentReporter);
  assert.notEqual(view0.outputs.weightsSha256, full.outputs.weightsSha256);
  // alpha = 1 on the view store trains on the stored views: other weights than the same student on the plain rows.
  const hard = await runTrainStudent(await load('train.run=runs/hard', 'train.alpha=1'), {}, silentReporter);
  assert.equal((await readJson<RunManifest>(join(ws.dir, 'runs/hard/run-manifest.json'))).training.rowsPerEpoch, 320);
  const plainFile = join(ws.dir, 'hard-plain.json');
  const plainLogits: Record<string, unknown> = { ...(base.teacherLogits as Record<string, unknown>), store: 'stores/none' };
  delete plainLogits.views;
  await writeFile(plainFile, JSON.stringify({ ...base, teacherLogits: plainLogits, ...student, train: { ...student.train, run: 'runs/hard-plain', alpha: 1 } }));
  const plain = await runTrainStudent(await loadExperiment(plainFile, [], ws.dir), {}, silentReporter);
  assert.notEqual(plain.outputs.weightsSha256, hard.outputs.weightsSha256);

  await assert.rejects(runTrainStudent(await load('train.run=runs/x', 'teacherLogits.store="stores/missing"'), {}, silentReporter), { name: 'DataError' });
  await assert.rejects(runTrainStudent(await load('train.run=runs/y', 'train.alpha=1', 'teacherLogits.store="stores/missing"'), {}, silentReporter), {
    name: 'ConfigError',
    message: /teacherLogits.views is set, so the student trains on the stored views, but the store .*stores\/missing has no manifest.json yet/,
  });
});

test('BAD CALL the CLI refuses noise views of uint8 pixels (exit 2, one line); train.viewTargets without a view store is refused', async () => {
  // The other refusals of resolveViews: test/unit/stages/teacher-logits/resolve-views.test.ts.
  await writeExperiment(ws, 'bad', 'tiny', { views: { count: 2, noise: { sd: 3 } } });
  const r = await runCli(['teacher-logits', '-c', 'bad.json'], { cwd: ws.dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: teacherLogits.views.noise: column "pixels" holds uint8 values; noise views need a float32\/float64 column \(use views.image for images\)$/m);
  const file = await writeExperiment(ws, 'noviews', 'tiny', { splits: ['train'] });
  await runTeacherLogits(await loadExperiment(file, [], ws.dir), {}, silentReporter);
  const cfg = await readJson<Record<string, unknown>>(file);
  await writeFile(file, JSON.stringify({ ...cfg, student: { arch: 'mlp', hidden: [4] }, train: { run: 'runs/nv', backend: 'cpu', epochs: 1, viewTargets: 'view0' } }));
  await assert.rejects(runTrainStudent(await loadExperiment(file, [], ws.dir), {}, silentReporter), { name: 'ConfigError', message: /train.viewTargets is "view0", but the store .* has no views/ });
});
