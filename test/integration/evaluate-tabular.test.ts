/**
 * `distill evaluate` on a tabular dataset (numeric vector features, no image shape) through the real
 * CLI: a generated Parquet dataset indexed by `distill data index`, a linear ONNX teacher, a store, a
 * student trained with a validation carve-out, then a full report whose robustness section is the
 * vector suite and whose cascade threshold is chosen on the validation rows and scored on test.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import type { EvaluateReport } from '../../stages/evaluate/evaluate-report.ts';
import { VECTOR_CORRUPTION_KINDS } from '../../stages/evaluate/corrupt-vectors.ts';
import { writeTabularDataset, writeTabularTeacher } from '../fixtures/tabular-dataset.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

test('a tabular dataset gets a full report: the vector robustness suite, the cascade chosen on validation', async () => {
  const ws = await tmpDir('distill-tab-');
  await writeTabularDataset(join(ws, 'data/tab'), 600, 200);
  const indexed = await runCli(['data', 'index', 'data/tab', '--label', 'label'], { cwd: ws });
  assert.equal(indexed.code, 0, indexed.stderr);
  await writeTabularTeacher(join(ws, 'teachers/bayes'));
  await writeFile(
    join(ws, 'exp.json'),
    JSON.stringify({
      name: 'tab',
      seed: 4,
      dataset: { path: 'data/tab', validation: { rows: 120 } },
      teacher: { path: 'teachers/bayes' },
      teacherLogits: { store: 'stores/tab', device: 'cpu', shardRows: 256 },
      student: { arch: 'mlp', hidden: [16] },
      train: { run: 'runs/tab', epochs: 4, batchSize: 32, learningRate: 0.01, backend: 'cpu', temperature: 2, alpha: 0.2 },
      evaluate: { corruptionRows: 200, severities: [1, 5], latencyRuns: 10, throughputBatches: 2 },
    }),
  );
  for (const args of [['teacher-logits', '-c', 'exp.json'], ['train-student', '-c', 'exp.json'], ['evaluate', '-c', 'exp.json']]) {
    const res = await runCli(args, { cwd: ws });
    assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
  }
  const r = JSON.parse(await readFile(join(ws, 'runs/tab/report/metrics.json'), 'utf8')) as EvaluateReport;
  const run = JSON.parse(await readFile(join(ws, 'runs/tab/run-manifest.json'), 'utf8')) as RunManifest;
  assert.equal(r.inputs.dataset.rows, 200);
  assert.ok(r.headline.teacherAccuracy > 0.6, `a real teacher: ${r.headline.teacherAccuracy}`);
  assert.ok(Math.abs(r.headline.studentAccuracy - run.test!.accuracy) <= 1 / 200 + 1e-12, `student ${r.headline.studentAccuracy} vs train-student's test ${run.test!.accuracy}`);
  // Robustness: the vector suite, every kind at both severities; the strongest noise and shift hurt the teacher.
  assert.ok(r.robustness.skipped === null, JSON.stringify(r.robustness));
  if (r.robustness.skipped === null) {
    assert.equal(r.robustness.featureKind, 'vector');
    assert.deepEqual(r.robustness.kinds, [...VECTOR_CORRUPTION_KINDS]);
    assert.equal(r.robustness.measurements.length, 8);
    const clean = r.robustness.summary.clean.teacherAccuracy;
    for (const kind of ['feature-noise', 'mean-shift'] as const) {
      const at5 = r.robustness.measurements.find((m) => m.kind === kind && m.severity === 5)!;
      assert.ok(at5.teacherAccuracy < clean, `${kind} 5: teacher ${at5.teacherAccuracy} vs clean ${clean}`);
    }
  }
  // The cascade: tau chosen on the 120 validation rows, scored on the 200 test rows.
  assert.equal(r.cascade.selection.on, 'validation');
  assert.equal(r.cascade.selection.rows, 120);
  assert.equal(r.cascade.operatingPoint.tau, r.cascade.selection.chosen.tau);
  assert.equal(r.cascade.selection.chosen.unreachable, false);
  assert.ok(r.cascade.selection.chosen.accuracy >= r.cascade.target);
  const md = await readFile(join(ws, 'runs/tab/report/report.md'), 'utf8');
  assert.match(md, /The vector suite on 200 rows, seed 4\./);
  assert.match(md, /tau was chosen on the validation rows \(120 rows held out of "train" \(seeded carve-out\), 120 rows\) and scored once on the test split/);

  // Like make: the same evaluate (and export) again is up to date and rewrites nothing; another config re-evaluates.
  const before = await readFile(join(ws, 'runs/tab/report/metrics.json'), 'utf8');
  const again = await runCli(['evaluate', '-c', 'exp.json'], { cwd: ws });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /report.html is up to date \(same resolved config, inputs and code\): nothing re-evaluated/);
  assert.equal(await readFile(join(ws, 'runs/tab/report/metrics.json'), 'utf8'), before);
  const lighter = await runCli(['evaluate', '-c', 'exp.json', '--set', 'evaluate.severities=[2]'], { cwd: ws });
  assert.equal(lighter.code, 0, lighter.stderr);
  const r2 = JSON.parse(await readFile(join(ws, 'runs/tab/report/metrics.json'), 'utf8')) as EvaluateReport;
  assert.ok(r2.robustness.skipped === null && r2.robustness.measurements.length === 4);
  for (const expectUpToDate of [false, true]) {
    const res = await runCli(['export', '-c', 'exp.json', '--out', 'exported'], { cwd: ws });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(/model.onnx is up to date .*: nothing exported/.test(res.stdout), expectUpToDate, res.stdout);
  }
});
