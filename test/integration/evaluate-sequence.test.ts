/**
 * `distill evaluate` and `distill export` on sequence students through the real CLI, on tiny real
 * data (test/helpers/sequence-eval-workspace.ts): the tiny ONNX sequence teacher, a token dataset
 * written by the project's writer, a dense per-position store and students from train-student.
 * Independent checks: the teacher's token accuracy / NLL is recomputed in float64 from the fixture's
 * weights (tinySequenceForward); the student's accuracy and NLL must equal what train-student measured
 * on the same test split (its own tfjs loop over its own batches), and the causal LM's NLL what the
 * exported model.onnx gives when run here with ONNX Runtime; DER must equal 1 - token accuracy (every
 * labelled letter is in a word); word and position counts are counted from the rows as written.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { TokenRow } from '../../pipeline/dataset/token-table.ts';
import type { SequenceEvaluateReport } from '../../stages/evaluate/sequence-evaluate-report.ts';
import { tokenRobustnessSuite } from '../../stages/evaluate/token-robustness-suite.ts';
import { tinySequenceForward } from '../fixtures/tiny-sequence-teacher.ts';
import { runCli } from '../helpers/run-cli.ts';
import { sequenceEvalWorkspace, trainStudentRun, writeSequenceEvalExperiment } from '../helpers/sequence-eval-workspace.ts';
import type { SequenceEvalWorkspace } from '../helpers/sequence-eval-workspace.ts';

const WINDOW_MLP = { arch: 'window-mlp' as const, window: 2, dModel: 16, hidden: [32] };
const TRANSFORMER = { arch: 'transformer' as const, dModel: 16, layers: 1, heads: 2, mlpRatio: 2 };

async function evaluate(ws: SequenceEvalWorkspace, config: string, reportDir?: string): Promise<SequenceEvaluateReport> {
  const res = await runCli(['evaluate', '-c', config], { cwd: ws.dir });
  assert.equal(res.code, 0, res.stderr);
  const run = JSON.parse(await readFile(join(ws.dir, config), 'utf8')).train.run as string;
  return JSON.parse(await readFile(join(ws.dir, reportDir ?? join(run, 'report'), 'metrics.json'), 'utf8')) as SequenceEvaluateReport;
}

/** Log-softmax of `n` values of `z` from `at`, float64. */
function logSoftmax(z: ArrayLike<number>, at: number, n: number): number[] {
  let max = -Infinity;
  for (let c = 0; c < n; c++) max = Math.max(max, z[at + c]!);
  let s = 0;
  for (let c = 0; c < n; c++) s += Math.exp(z[at + c]! - max);
  return Array.from({ length: n }, (_, c) => z[at + c]! - max - Math.log(s));
}

/** The teacher's token accuracy on labelled letters of token-classification rows, float64. */
function teacherTokenAccuracy(ws: SequenceEvalWorkspace, rows: readonly TokenRow[]): { right: number; positions: number } {
  let right = 0;
  let positions = 0;
  for (const r of rows) {
    const z = tinySequenceForward(ws.teacher.weights, r.inputIds, Array.from(r.inputIds, () => 1), 1, r.inputIds.length);
    for (let t = 0; t < r.inputIds.length; t++) {
      const y = r.labels![t]!;
      if (y === -100) continue;
      positions++;
      const lp = logSoftmax(z, t * ws.classes, ws.classes);
      if (lp.indexOf(Math.max(...lp)) === y) right++;
    }
  }
  return { right, positions };
}

/** Mean next-token NLL of `logitsOf(row)` ([L * V], padded row) over the real next tokens, float64. */
function nextTokenNll(ws: SequenceEvalWorkspace, rows: readonly TokenRow[], logitsOf: (i: number) => ArrayLike<number>): { nll: number; positions: number } {
  let sum = 0;
  let positions = 0;
  rows.forEach((r, i) => {
    const z = logitsOf(i);
    for (let t = 0; t + 1 < r.inputIds.length; t++) {
      sum -= logSoftmax(z, t * ws.vocab, ws.vocab)[r.inputIds[t + 1]!]!;
      positions++;
    }
  });
  return { nll: sum / positions, positions };
}

test('token classification (window-MLP): token metrics, DER/WER, cascade on validation, slices, token suite, checked export, up to date', async () => {
  const ws = await sequenceEvalWorkspace({ task: 'token-classification' });
  await writeSequenceEvalExperiment(ws, 'hard', WINDOW_MLP, { train: { alpha: 1 } });
  await writeSequenceEvalExperiment(ws, 'tc', WINDOW_MLP, { evaluate: { baselineRun: 'runs/hard' } });
  const hard = await trainStudentRun(ws, 'hard');
  const run = await trainStudentRun(ws, 'tc');
  const r = await evaluate(ws, 'tc.json');
  assert.equal(r.report, 'sequence');
  assert.equal(r.task, 'token-classification');
  assert.equal(r.inputs.dataset.rows, 40);

  // The teacher's token accuracy, recomputed in float64 from the fixture's weights.
  const ref = teacherTokenAccuracy(ws, ws.rows.test);
  const t = r.sequence.tokens;
  assert.equal(t.positions, ref.positions);
  assert.ok(Math.abs(t.teacher.accuracy - ref.right / ref.positions) < 1e-12, `teacher ${t.teacher.accuracy} vs float64 ${ref.right / ref.positions}`);
  assert.ok(t.teacher.accuracy > 0.8, `labels are the teacher's argmax with 10% noise: ${t.teacher.accuracy}`);
  // The students: what train-student measured on the same test split, and better than chance (1/5).
  assert.ok(Math.abs(t.student.accuracy - run.test!.accuracy) < 1e-9, `student ${t.student.accuracy} vs train-student's test ${run.test!.accuracy}`);
  assert.ok(Math.abs(t.student.nll - run.test!.sequence!.nll) < 1e-4, `student NLL ${t.student.nll} vs train-student's ${run.test!.sequence!.nll}`);
  assert.ok(r.baseline && Math.abs(r.baseline.tokens.accuracy - hard.test!.accuracy) < 1e-9, `baseline ${r.baseline?.tokens.accuracy} vs ${hard.test!.accuracy}`);
  assert.ok(t.student.accuracy > 0.35 && r.baseline.tokens.accuracy > 0.35, `students ${t.student.accuracy}, ${r.baseline.tokens.accuracy}`);
  assert.ok(t.klTeacherStudent > 0 && t.student.perplexity > t.teacher.perplexity * 0.5);

  // Diacritisation: every labelled letter is in a word, so DER = 1 - token accuracy; words counted from the rows.
  const d = r.sequence.diacritics!;
  assert.ok(d, 'a char vocabulary with a space: the DER/WER section');
  assert.ok(Math.abs(d.teacher.der - (1 - t.teacher.accuracy)) < 1e-12 && Math.abs(d.student.der - (1 - t.student.accuracy)) < 1e-12);
  const words = ws.rows.test.reduce((n, row) => n + Array.from(row.inputIds).join(',').split(',2,').filter((w) => w !== '').length, 0);
  assert.equal(d.teacher.words, words);
  assert.equal(d.teacher.letters, ref.positions);
  assert.ok(d.student.wer >= d.student.der && d.student.wer <= 1);
  assert.ok(r.baseline.diacritics && Math.abs(r.baseline.diacritics.der - (1 - r.baseline.tokens.accuracy)) < 1e-12);
  // Cascade: tau chosen on the 40 validation rows, scored on test; it never makes DER worse than the student's.
  assert.deepEqual({ on: r.selection.on, split: r.selection.split, rows: r.selection.rows }, { on: 'validation', split: 'validation', rows: 40 });
  assert.ok(d.cascade.cascade.der <= d.student.der + 1e-12 && d.cascade.cascade.der >= d.teacher.der - 1e-12, JSON.stringify(d.cascade));
  assert.ok(d.cascade.wordsDeferredShare > 0, 'the student is worse than the teacher: some words go to the teacher');
  // Slices: word_final per position, genre per row; each covers every target position once.
  assert.deepEqual(Object.keys(r.sequence.slices).sort(), ['genre', 'word_final']);
  for (const values of Object.values(r.sequence.slices)) assert.equal(values.reduce((n, v) => n + v.metrics.positions, 0), ref.positions);
  assert.deepEqual(r.sequence.slices.genre!.map((v) => v.value), ['fiction', 'news', 'science']);

  // Token robustness: every entry of the suite at severities 1 and 3, on the first 16 rows.
  assert.ok(r.robustness.skipped === null, JSON.stringify(r.robustness));
  if (r.robustness.skipped === null) {
    const symbols = ['<pad>', '<unk>', ' ', ...Array.from({ length: ws.vocab - 3 }, (_, i) => String.fromCharCode(97 + i))];
    const expected = tokenRobustnessSuite(symbols).filter((e) => e.severity === 1 || e.severity === 3);
    assert.equal(r.robustness.rows, 16);
    assert.deepEqual(r.robustness.measurements.map((m) => `${m.kind}@${m.severity}`), expected.map((e) => `${e.kind}@${e.severity}`));
    assert.ok(r.robustness.kinds.includes('drop-space') && !r.robustness.kinds.includes('confusable'));
    const sub3 = r.robustness.measurements.find((m) => m.kind === 'substitute' && m.severity === 3)!;
    assert.ok(sub3.teacherAccuracy < r.robustness.clean.teacherAccuracy, `10% substitutions hurt the teacher: ${sub3.teacherAccuracy} vs ${r.robustness.clean.teacherAccuracy}`);
    assert.ok(r.robustness.clean.teacherDer !== undefined && sub3.studentDer !== undefined);
  }

  // Export: checked at every position of the 40 test rows; both models timed.
  assert.ok(r.export.exportable);
  if (r.export.exportable) assert.ok(r.export.parity.maxAbsDiff <= 1e-4 && r.export.parity.rows === 40, JSON.stringify(r.export.parity));
  assert.ok(existsSync(join(ws.dir, 'runs/tc/export/model.onnx')) && existsSync(join(ws.dir, 'runs/tc/export/export-manifest.json')));
  assert.ok(r.speed.student !== null && r.headline.latencySpeedup !== null && r.headline.latencySpeedup > 0);
  const md = await readFile(join(ws.dir, 'runs/tc/report/report.md'), 'utf8');
  assert.match(md, /## Diacritisation: DER and WER/);
  assert.match(md, /### Cascade: words deferred to the teacher \(threshold chosen on the "validation" split\)/);
  const html = await readFile(join(ws.dir, 'runs/tc/report/report.html'), 'utf8');
  assert.match(html, /id="student-der"/);

  // Like make: evaluate again is up to date and rewrites nothing. distill export on its own: checked at every position of the 40 test rows.
  const before = await readFile(join(ws.dir, 'runs/tc/report/metrics.json'), 'utf8');
  const again = await runCli(['evaluate', '-c', 'tc.json'], { cwd: ws.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /report.html is up to date \(same resolved config, inputs and code\): nothing re-evaluated/);
  assert.equal(await readFile(join(ws.dir, 'runs/tc/report/metrics.json'), 'utf8'), before);
  const exported = await runCli(['export', '-c', 'tc.json', '--out', 'exported'], { cwd: ws.dir });
  assert.equal(exported.code, 0, exported.stderr);
  const manifest = JSON.parse(await readFile(join(ws.dir, 'exported/export-manifest.json'), 'utf8')) as { parity: { rows: number; maxAbsDiff: number }; sequence: { arch: string } };
  assert.equal(manifest.sequence.arch, 'window-mlp');
  assert.ok(manifest.parity.rows === 40 && manifest.parity.maxAbsDiff <= 1e-4);
});

test('causal LM (transformer): NLL against float64 and ONNX references, NLL by token frequency, LM cascades', async () => {
  const ws = await sequenceEvalWorkspace({ task: 'causal-lm' });
  await writeSequenceEvalExperiment(ws, 'lm', TRANSFORMER);
  const run = await trainStudentRun(ws, 'lm');
  const r = await evaluate(ws, 'lm.json');
  assert.equal(r.task, 'causal-lm');
  assert.equal(r.inputs.dataset.positions, ws.context - 1);
  const t = r.sequence.tokens;
  // The teacher's NLL from the fixture's weights, float64: position t predicts token t + 1.
  const L = ws.context;
  const teacherRef = nextTokenNll(ws, ws.rows.test, (i) => tinySequenceForward(ws.teacher.weights, ws.rows.test[i]!.inputIds, Array.from(ws.rows.test[i]!.inputIds, () => 1), 1, ws.rows.test[i]!.inputIds.length));
  assert.equal(t.positions, teacherRef.positions);
  assert.ok(Math.abs(t.teacher.nll - teacherRef.nll) < 1e-5, `teacher NLL ${t.teacher.nll} vs float64 ${teacherRef.nll}`);
  assert.ok(t.teacher.perplexity < ws.vocab - 3, `the text is sampled from the teacher: perplexity ${t.teacher.perplexity} < uniform ${ws.vocab - 3}`);
  // The student's NLL from its exported ONNX model, run here on the padded test rows.
  assert.ok(r.export.exportable && r.export.parity.maxAbsDiff <= 1e-4);
  const session = await ort.InferenceSession.create(join(ws.dir, 'runs/lm/export/model.onnx'));
  const ids = new Int32Array(ws.rows.test.length * L);
  const mask = new Float32Array(ws.rows.test.length * L);
  ws.rows.test.forEach((row, i) => Array.from(row.inputIds).forEach((id, p) => ((ids[i * L + p] = id), (mask[i * L + p] = 1))));
  const out = await session.run({ input_ids: new ort.Tensor('int32', ids, [ws.rows.test.length, L]), attention_mask: new ort.Tensor('float32', mask, [ws.rows.test.length, L]) });
  const logits = out.logits!.data as Float32Array;
  const studentRef = nextTokenNll(ws, ws.rows.test, (i) => logits.subarray(i * L * ws.vocab, (i + 1) * L * ws.vocab));
  await session.release();
  assert.ok(Math.abs(t.student.nll - studentRef.nll) < 1e-4, `student NLL ${t.student.nll} vs ONNX ${studentRef.nll}`);
  assert.ok(Math.abs(t.student.nll - run.test!.sequence!.nll) < 1e-4 && Math.abs(t.student.accuracy - run.test!.accuracy) < 1e-9, `student vs train-student's test: ${JSON.stringify(run.test)}`);
  assert.ok(t.student.perplexity < ws.vocab && t.student.perplexity > t.teacher.perplexity * 0.9, `student perplexity ${t.student.perplexity}, teacher ${t.teacher.perplexity}`);

  // NLL by target-token frequency covers every position; the cascades are chosen on validation.
  const lm = r.sequence.lm!;
  assert.deepEqual(lm.nllByBucket.map((b) => b.bucket), ['frequent', 'middle', 'rare']);
  assert.equal(lm.nllByBucket.reduce((n, b) => n + b.positions, 0), t.positions);
  assert.equal(r.selection.on, 'validation');
  for (const c of [lm.cascade.position, lm.cascade.window]) {
    assert.ok(c.cascadePerplexity <= c.studentPerplexity + 1e-9, JSON.stringify(c));
    assert.ok(Math.abs(c.studentPerplexity - t.student.perplexity) < 1e-9 && Math.abs(c.teacherPerplexity - t.teacher.perplexity) < 1e-9);
  }
  assert.equal(r.sequence.diacritics, undefined);
  assert.deepEqual(r.sequence.slices.genre!.map((v) => v.value), ['fiction', 'news']);
  assert.ok(r.robustness.skipped === null && r.robustness.kinds.includes('unseen'));
  const md = await readFile(join(ws.dir, 'runs/lm/report/report.md'), 'utf8');
  assert.match(md, /## Language model: NLL by target-token frequency/);

  // Per genre: every target position once; the perplexities are the genre slice's.
  const genres = lm.rowSlices.genre!;
  assert.deepEqual(genres.map((g) => g.value), ['fiction', 'news']);
  assert.equal(genres.reduce((n, g) => n + g.positions, 0), t.positions);
  for (const g of genres) {
    const m = r.sequence.slices.genre!.find((x) => x.value === g.value)!.metrics;
    assert.ok(g.teacherPerplexity === m.teacher.perplexity && g.studentPerplexity === m.student.perplexity && g.klTeacherStudent === m.klTeacherStudent && g.baselinePerplexity === null, JSON.stringify(g));
  }
  assert.match(md, /### Perplexity and KL by genre/);
  assert.match(await readFile(join(ws.dir, 'runs/lm/report/report.html'), 'utf8'), /<h3 id="lm-genre">Perplexity and KL by genre<\/h3>/);

  // Scored 3 rows at a time instead of all 40 at once: the same report, figure for figure.
  await writeSequenceEvalExperiment(ws, 'lm-b3', TRANSFORMER, { train: { run: 'runs/lm' }, evaluate: { batchSize: 3, report: 'runs/lm/report-b3', export: 'runs/lm/export-b3' } });
  const b3 = await evaluate(ws, 'lm-b3.json', 'runs/lm/report-b3');
  assert.deepEqual(b3.sequence, r.sequence);
  assert.deepEqual(b3.robustness, r.robustness);
});

test('a GRU student (no ONNX exporter): evaluate reports why and times the teacher only; export refuses with the reason', async () => {
  const ws = await sequenceEvalWorkspace({ task: 'token-classification', rows: { train: 40, validation: 16, test: 16 } });
  await writeSequenceEvalExperiment(ws, 'gru', { arch: 'gru', dModel: 8, layers: 1 }, { train: { epochs: 1 }, evaluate: { corruptions: [] } });
  await trainStudentRun(ws, 'gru');
  const r = await evaluate(ws, 'gru.json');
  assert.ok(!r.export.exportable && /student\.arch "gru" is not exported to ONNX/.test(r.export.reason), JSON.stringify(r.export));
  assert.equal(r.speed.student, null);
  assert.equal(r.headline.latencySpeedup, null);
  assert.deepEqual(r.robustness, { featureKind: 'tokens', skipped: 'evaluate.corruptions is []' });
  assert.ok(r.sequence.tokens.positions > 0 && r.sequence.diacritics !== undefined);
  assert.match(await readFile(join(ws.dir, 'runs/gru/report/report.md'), 'utf8'), /The student has no ONNX export: student\.arch "gru" is not exported/);
  const res = await runCli(['export', '-c', 'gru.json'], { cwd: ws.dir });
  assert.equal(res.code, 2, res.stdout);
  assert.match(res.stderr, /nothing exported: student\.arch "gru" is not exported to ONNX yet/);
  assert.ok(!existsSync(join(ws.dir, 'runs/gru/export/model.onnx')));
});
