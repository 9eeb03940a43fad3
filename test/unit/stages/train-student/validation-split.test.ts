/**
 * train-student with dataset.validation on a small MNIST subset and a real store: a carve-out is left
 * out of training and is what every epoch is measured on; the test split is scored once; best-epoch
 * selection and early stopping decide on validation only and are refused without it.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadExperiment } from '../../../../pipeline/config/load-experiment.ts';
import { resolveValidation } from '../../../../pipeline/config/validation-rows.ts';
import { columnsWithRole } from '../../../../pipeline/dataset/dataset-manifest.ts';
import { silentReporter } from '../../../../pipeline/reporter.ts';
import type { EpochMetrics } from '../../../../pipeline/student/run-manifest.ts';
import { runMnistData } from '../../../../stages/data/run-mnist.ts';
import { datasetSplitSource } from '../../../../stages/train-student/dataset-split-source.ts';
import { sequentialPlan } from '../../../../stages/train-student/epoch-plan.ts';
import { chunkRowCounts } from '../../../../stages/train-student/chunked-split.ts';
import { runTrainStudent } from '../../../../stages/train-student/run-train-student.ts';
import { streamBatches } from '../../../../stages/train-student/stream-batches.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';
import { writeTestStore } from '../../../helpers/write-test-store.ts';
import { openStore } from '../../../../pipeline/store/open-store.ts';
import { verifyRunDir } from '../../../../stages/verify/verify-run-dir.ts';

const ws = await tmpDir();
const { manifest: dataset } = await runMnistData({ out: join(ws, 'data'), limitTrain: 600, limitTest: 200, rowsPerFile: 200 }, silentReporter);
await writeTestStore({ datasetDir: join(ws, 'data'), dataset, out: join(ws, 'store'), splits: ['train', 'test'], shardRows: 250 });

let n = 0;
async function experiment(validation: unknown, train: object = {}) {
  const name = `val-${++n}`;
  const cfg = {
    name,
    seed: 3,
    dataset: { path: 'data', ...(validation !== undefined ? { validation } : {}) },
    teacherLogits: { store: 'store' },
    student: { arch: 'mlp', hidden: [16] },
    train: { run: `runs/${name}`, epochs: 2, batchSize: 50, backend: 'cpu', ...train },
  };
  await writeFile(join(ws, `${name}.json`), JSON.stringify(cfg));
  return { exp: await loadExperiment(`${name}.json`, [], ws), runDir: join(ws, 'runs', name) };
}

test('a carve-out splits the train rows in two disjoint sets: training reads the rest, with its soft targets', async () => {
  const plan = resolveValidation({ seed: 3, dataset: { path: 'data', trainSplit: 'train', evalSplit: 'test', validation: { rows: 100 } } }, 600);
  assert.ok(plan?.kind === 'carve-out');
  const store = await openStore(join(ws, 'store'));
  const feature = columnsWithRole(dataset, 'feature')[0]!;
  const label = columnsWithRole(dataset, 'label')[0]!;
  const seen = { only: [] as number[], except: [] as number[] };
  for (const keep of ['only', 'except'] as const) {
    const split = datasetSplitSource({ dir: join(ws, 'data'), manifest: dataset, split: 'train', feature, label, store, rowSelection: { ids: plan.rows, keep } });
    for await (const b of streamBatches(split, sequentialPlan(chunkRowCounts(split)), { batchSize: 64, scale: 1 })) {
      seen[keep].push(...b.rows);
      // Each row keeps its own targets: compare with the store's logits of that row.
      const full = await store.readShard('train', Math.floor(b.rows[0]! / 250));
      const r = b.rows[0]! - full.rowStart;
      assert.deepEqual([...b.logits!.subarray(0, 10)], [...full.logits!.subarray(r * 10, r * 10 + 10)]);
    }
  }
  assert.deepEqual(seen.only, [...plan.rows]);
  assert.equal(seen.except.length, 500);
  assert.equal(new Set([...seen.only, ...seen.except]).size, 600);
});

test('per-epoch metrics are on the validation rows, the test split is scored once, the manifest records the carve-out', async () => {
  const { exp, runDir } = await experiment({ rows: 100 });
  const m = await runTrainStudent(exp, {}, silentReporter);
  const plan = resolveValidation(exp.config, 600);
  assert.ok(plan?.kind === 'carve-out');
  assert.equal(m.training.rowsPerEpoch, 500);
  assert.deepEqual(m.validation, { kind: 'carve-out', split: 'train', rows: 100, rowIdsSha256: plan.rowIdsSha256, from: 600, requested: { rows: 100 }, seed: 3 });
  const lines = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as EpochMetrics);
  for (const l of lines) assert.deepEqual([l.eval.split, l.eval.role, l.eval.rows], ['train', 'validation', 100]);
  assert.deepEqual([m.test?.split, m.test?.role, m.test?.rows], ['test', 'test', 200]);
  assert.ok(m.test!.agreement !== null);
  assert.deepEqual(m.selection, { rule: 'last', metric: 'loss', on: 'validation', epoch: 2, patience: null, stoppedEarly: false });

  // verify draws the carve-out again from the recorded config: it passes, and a tampered fingerprint is named.
  const ok = await verifyRunDir(runDir, ws);
  assert.deepEqual(ok.problems, []);
  assert.ok(ok.checked.some((c) => c.startsWith('validation rows (carve-out, ids sha256 ')), ok.checked.join('; '));
  const file = join(runDir, 'run-manifest.json');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace(plan.rowIdsSha256, '0'.repeat(64)));
  const bad = await verifyRunDir(runDir, ws);
  assert.ok(bad.problems.some((p) => /records validation .* but its config gives .*"rowIdsSha256":"[0-9a-f]{64}"/.test(p.problem)), JSON.stringify(bad.problems));
  await writeFile(file, text);
});

test('best epoch with early stopping keeps the epoch with the lowest validation loss', async () => {
  const { exp, runDir } = await experiment({ fraction: 0.2 }, { epochs: 6, selectEpoch: 'best', patience: 1, learningRate: 0.05 });
  const m = await runTrainStudent(exp, {}, silentReporter);
  const lines = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as EpochMetrics);
  const best = lines.reduce((a, b) => (b.eval.loss < a.eval.loss ? b : a));
  assert.equal(m.selection?.epoch, best.epoch);
  if (m.selection?.stoppedEarly) assert.equal(lines.length, best.epoch + 1);
  else assert.equal(lines.length, 6);
  assert.equal(m.validation?.rows, 120);
});

test('BAD CALL best-epoch selection or patience without validation rows is refused (it would choose on test)', async () => {
  const a = await experiment(undefined, { selectEpoch: 'best' });
  await assert.rejects(runTrainStudent(a.exp, {}, silentReporter), { name: 'ConfigError', message: /without dataset.validation it would choose on the test split/ });
  const b = await experiment(undefined, { patience: 2 });
  await assert.rejects(runTrainStudent(b.exp, {}, silentReporter), { name: 'ConfigError', message: /train.patience 2/ });
});
