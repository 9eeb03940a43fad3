/**
 * The evaluate stage's math against hand-worked values. Scores are built as logits = ln(p), so
 * softmax(logits) = p exactly (up to float rounding) and every expected number below is worked out
 * by hand from the chosen probabilities (the working is in the comments).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { argmaxRows, logSoftmaxRows, topProbability } from '../../../../stages/evaluate/class-scores.ts';
import type { ClassScores } from '../../../../stages/evaluate/class-scores.ts';
import { cascadeCurve } from '../../../../stages/evaluate/cascade-curve.ts';
import { accuracy, meanKl, negativeLogLikelihood, top1Agreement } from '../../../../stages/evaluate/classification-metrics.ts';
import { errorAttribution } from '../../../../stages/evaluate/error-attribution.ts';
import { expectedCalibrationError } from '../../../../stages/evaluate/expected-calibration-error.ts';
import { latencyStats, quantile } from '../../../../stages/evaluate/latency-stats.ts';
import { perClassAccuracy } from '../../../../stages/evaluate/per-class-accuracy.ts';
import { robustnessSummary } from '../../../../stages/evaluate/robustness-summary.ts';
import { sliceMetrics } from '../../../../stages/evaluate/slice-metrics.ts';

const close = (a: number, b: number, tol = 1e-12, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} got ${a}, expected ${b}`);

/** Scores whose softmax is the given probability rows. */
function fromProbs(rows: number[][]): ClassScores {
  return { rows: rows.length, classes: rows[0]!.length, logits: Float64Array.from(rows.flat().map(Math.log)) };
}

/** One-hot-ish scores predicting the given classes (logit 3 on the class, 0 elsewhere). */
function predicting(classes: number, preds: number[]): ClassScores {
  return { rows: preds.length, classes, logits: Float64Array.from(preds.flatMap((p) => Array.from({ length: classes }, (_, c) => (c === p ? 3 : 0)))) };
}

void test('log-softmax, argmax and confidence of hand-made rows', () => {
  const s = fromProbs([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7]]);
  const lp = logSoftmaxRows(s);
  close(lp[0]!, Math.log(0.5), 1e-15);
  close(lp[5]!, Math.log(0.7), 1e-15);
  assert.deepEqual([...argmaxRows(s)], [0, 2]);
  close(topProbability(s)[1]!, 0.7, 1e-15);
  // Large logits do not overflow: softmax([1000, 1000]) = [0.5, 0.5]; ties go to the first class.
  const big: ClassScores = { rows: 1, classes: 2, logits: new Float32Array([1000, 1000]) };
  close(logSoftmaxRows(big)[0]!, -Math.LN2, 1e-12);
  assert.deepEqual([...argmaxRows(big)], [0]);
});

void test('accuracy, agreement, KL(teacher || student) and NLL against closed forms', () => {
  // teacher p = [.5, .25, .25], student q = [.25, .5, .25]:
  // KL = .5 ln(.5/.25) + .25 ln(.25/.5) + .25 ln 1 = .25 ln 2 = 0.17328679513998632.
  // Row 2: teacher = student = [.2, .2, .6] -> KL 0. Mean = 0.25 ln 2 / 2.
  const teacher = fromProbs([[0.5, 0.25, 0.25], [0.2, 0.2, 0.6]]);
  const student = fromProbs([[0.25, 0.5, 0.25], [0.2, 0.2, 0.6]]);
  close(meanKl(teacher, student), (0.25 * Math.LN2) / 2, 1e-12, 'KL');
  close(meanKl(teacher, teacher), 0, 1e-15, 'KL(p||p)');
  // A zero-probability teacher class contributes nothing: p = [1, 0] (logit -inf is not finite, so
  // use a very negative logit), q = [.5, .5] -> KL = ln 2.
  const hard: ClassScores = { rows: 1, classes: 2, logits: new Float64Array([0, -800]) };
  close(meanKl(hard, fromProbs([[0.5, 0.5]])), Math.LN2, 1e-12, 'KL hard');
  const labels = [0, 2];
  // Student: row 0 predicts 1 (wrong), row 1 predicts 2 (right) -> 0.5. Teacher: both right -> 1.
  close(accuracy(student, labels), 0.5);
  close(accuracy(teacher, labels), 1);
  close(top1Agreement(student, teacher), 0.5);
  // NLL = -(ln .25 + ln .6) / 2 = (ln 4 - ln .6) / 2 = 0.9485...
  close(negativeLogLikelihood(student, labels), (Math.log(4) - Math.log(0.6)) / 2, 1e-12, 'NLL');
  assert.throws(() => negativeLogLikelihood(student, [0, 3]), { name: 'DataError', message: /row 1 is 3/ });
  assert.throws(() => accuracy(student, [0]), { name: 'DataError', message: /1 rows, expected 2/ });
});

void test('ECE with 15 bins and the reliability diagram of a 4-row example', () => {
  // conf .9 lands in bin 13 = (13/15, 14/15] = (.8667, .9333]; conf .7 in bin 10 = (.6667, .7333].
  // Rows: .9 right, .9 wrong, .7 right, .7 right.
  // ECE = 2/4 |.5 - .9| + 2/4 |1 - .7| = .2 + .15 = .35.
  const s = fromProbs([[0.9, 0.1], [0.9, 0.1], [0.7, 0.3], [0.7, 0.3]]);
  const cal = expectedCalibrationError(s, [0, 1, 0, 0]);
  close(cal.ece, 0.35, 1e-12, 'ECE');
  assert.equal(cal.binCount, 15);
  assert.equal(cal.bins.length, 15);
  assert.deepEqual(cal.bins.map((b) => b.count), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2, 0]);
  close(cal.bins[13]!.confidence!, 0.9, 1e-12);
  assert.equal(cal.bins[13]!.accuracy, 0.5);
  assert.equal(cal.bins[10]!.accuracy, 1);
  assert.equal(cal.bins[0]!.confidence, null);
  close(cal.bins[14]!.hi, 1);
  // A perfectly calibrated model: conf 1 and always right -> ECE 0; conf 1 falls in the last bin.
  const sure: ClassScores = { rows: 2, classes: 2, logits: new Float64Array([0, -800, -800, 0]) };
  const perfect = expectedCalibrationError(sure, [0, 1]);
  assert.equal(perfect.ece, 0);
  assert.equal(perfect.bins[14]!.count, 2);
});

// Rows (label, teacher pred, student pred), worked by hand:
//   r0 (0,0,0) both right     r1 (0,1,1) copied      r2 (0,1,2) both wrong, different classes
//   r3 (1,1,2) own error      r4 (2,0,2) teacher error fixed by the student   r5 (2,2,0) own error
const LABELS = [0, 0, 0, 1, 2, 2];
const T = predicting(3, [0, 1, 1, 1, 0, 2]);
const S = predicting(3, [0, 1, 2, 2, 2, 0]);

void test('error attribution splits student errors into copied, both-wrong and own', () => {
  assert.deepEqual(errorAttribution(T, S, LABELS), {
    rows: 6,
    studentErrors: 4,
    copied: 1,
    bothWrong: 1,
    own: 2,
    teacherErrors: 3,
    teacherErrorsFixed: 1,
    copiedShare: 0.25,
    sharedShare: 0.5,
    ownShare: 0.5,
  });
  assert.equal(errorAttribution(T, T, LABELS).copiedShare, 1);
  assert.equal(errorAttribution(S, S, [0, 1, 2, 2, 2, 0]).copiedShare, null);
});

void test('per-class accuracy of teacher and student', () => {
  // class 0: rows 0-2, teacher right on r0, student right on r0 -> 1/3, 1/3.
  // class 1: row 3, teacher right, student wrong -> 1, 0. class 2: rows 4-5 -> teacher 1/2, student 1/2.
  const pc = perClassAccuracy(T, S, LABELS, ['zero', 'one', 'two']);
  assert.deepEqual(pc.map((c) => [c.name, c.count, c.teacher, c.student, c.delta]), [
    ['zero', 3, 1 / 3, 1 / 3, 0],
    ['one', 1, 1, 0, -1],
    ['two', 2, 0.5, 0.5, 0],
  ]);
  const missing = perClassAccuracy(predicting(4, [0]), predicting(4, [0]), [0]);
  assert.deepEqual(missing[3], { class: 3, name: '3', count: 0, teacher: null, student: null, delta: null });
});

void test('slice metrics: worst student loss first', () => {
  // slice a = rows 0,1,3: teacher right r0,r3 (2/3), student right r0 (1/3), agree r0,r1 (2/3).
  // slice b = rows 2,4,5: teacher right r5 (1/3), student right r4 (1/3), agree none (0).
  const m = sliceMetrics('site', ['a', 'a', 'b', 'a', 'b', 'b'], T, S, LABELS);
  assert.equal(m.distinctValues, 2);
  assert.equal(m.omitted, 0);
  assert.deepEqual(m.values, [
    { value: 'a', rows: 3, teacherAccuracy: 2 / 3, studentAccuracy: 1 / 3, delta: -1 / 3, agreement: 2 / 3 },
    { value: 'b', rows: 3, teacherAccuracy: 1 / 3, studentAccuracy: 1 / 3, delta: 0, agreement: 0 },
  ]);
  const capped = sliceMetrics('id', [1, 2, 3, 4, 5, 6], T, S, LABELS, 2);
  assert.equal(capped.values.length, 2);
  assert.equal(capped.omitted, 4);
  // row 3 (own error) and row 5 (own error) lose a full point each; r3 sorts first by value.
  assert.deepEqual(capped.values.map((v) => [v.value, v.delta]), [['4', -1], ['6', -1]]);
});

void test('cascade: exact operating point and the sweep of a 5-row example', () => {
  // (student conf, student right, teacher right): r0 .95 R R, r1 .6 W R, r2 .8 R W, r3 .7 W R, r4 .99 R R.
  // Student alone: 3/5. Deferring the least confident first: r1 -> 4/5, r3 -> 5/5, r2 -> 4/5, ...
  const labels = [0, 1, 0, 1, 0];
  const student = fromProbs([[0.95, 0.05], [0.6, 0.4], [0.8, 0.2], [0.7, 0.3], [0.99, 0.01]]);
  const teacher = predicting(2, [0, 1, 1, 1, 0]);
  const latency = { studentMs: 1, teacherMs: 10 };
  const c = cascadeCurve(teacher, student, labels, { target: 0.9, latency });
  // target .9: defer r1 and r3 (conf < .8): tau = .8, share .4, accuracy 1, time 1 + .4 * 10 = 5 ms.
  close(c.operatingPoint.tau, 0.8, 1e-12);
  close(c.operatingPoint.deferredShare, 0.4);
  close(c.operatingPoint.accuracy, 1);
  close(c.operatingPoint.timeMs!, 5, 1e-12);
  assert.equal(c.operatingPoint.unreachable, false);
  const low = cascadeCurve(teacher, student, labels, { target: 0.75 });
  close(low.operatingPoint.tau, 0.7, 1e-12);
  assert.equal(low.operatingPoint.timeMs, null);
  assert.equal(cascadeCurve(teacher, student, labels, { target: 0.5 }).operatingPoint.tau, 0);
  // Deferring everything gives the teacher's accuracy (4/5); a target of 1.01 is unreachable.
  const never = cascadeCurve(teacher, student, labels, { target: 1.01 });
  assert.equal(never.operatingPoint.unreachable, true);
  close(never.operatingPoint.accuracy, 0.8);
  // The sweep is ordered by tau, starts with no deferral and ends deferring all.
  const first = c.points[0]!;
  const last = c.points[c.points.length - 1]!;
  assert.deepEqual([first.tau, first.deferredShare, first.accuracy], [0, 0, 0.6]);
  assert.deepEqual([last.deferredShare, last.accuracy, last.timeMs], [1, 0.8, 11]);
  const atP9 = c.points.find((p) => p.tau === 0.9)!;
  // tau .9 defers r1, r3, r2 (conf .6, .7, .8): accuracy 4/5.
  assert.deepEqual([atP9.deferredShare, atP9.accuracy], [0.6, 0.8]);
  for (let i = 1; i < c.points.length; i++) assert.ok(c.points[i]!.deferredShare >= c.points[i - 1]!.deferredShare);
});

void test('quantiles follow numpy linear interpolation', () => {
  // numpy.percentile([1, 2, 3, 4, 10], 95) = 4 + 0.8 * (10 - 4) = 8.8 (position 0.95 * 4 = 3.8).
  close(quantile([10, 1, 3, 2, 4], 0.95), 8.8, 1e-12);
  assert.equal(quantile([10, 1, 3, 2, 4], 0.5), 3);
  assert.equal(quantile([7], 0.95), 7);
  // [1, 2, 3, 4]: p50 at position 1.5 -> 2.5; p95 at 2.85 -> 3.85.
  const st = latencyStats([4, 1, 3, 2]);
  assert.deepEqual([st.runs, st.p50, st.mean, st.min], [4, 2.5, 2.5, 1]);
  close(st.p95, 3.85, 1e-12);
  assert.throws(() => quantile([], 0.5), { name: 'RangeError' });
});

void test('robustness summary: mean accuracy drops and the degradation ratio', () => {
  // Clean: teacher .99, student .97. Noise drops: teacher .01/.03, student .05/.11 -> means .02, .08.
  // Blur: teacher .00/.02 -> .01, student .02/.04 -> .03. Overall: teacher (.01+.03+0+.02)/4 = .015,
  // student (.05+.11+.02+.04)/4 = .055; ratio = 3.666...
  const r = robustnessSummary({ teacherAccuracy: 0.99, studentAccuracy: 0.97, agreement: 0.98 }, [
    { kind: 'gaussian-noise', severity: 1, rows: 100, teacherAccuracy: 0.98, studentAccuracy: 0.92, agreement: 0.9 },
    { kind: 'gaussian-noise', severity: 3, rows: 100, teacherAccuracy: 0.96, studentAccuracy: 0.86, agreement: 0.8 },
    { kind: 'blur', severity: 1, rows: 100, teacherAccuracy: 0.99, studentAccuracy: 0.95, agreement: 0.97 },
    { kind: 'blur', severity: 3, rows: 100, teacherAccuracy: 0.97, studentAccuracy: 0.93, agreement: 0.95 },
  ]);
  close(r.teacherMeanDrop, 0.015, 1e-12);
  close(r.studentMeanDrop, 0.055, 1e-12);
  close(r.dropRatio!, 0.055 / 0.015, 1e-9);
  assert.equal(r.worstKind, 'gaussian-noise');
  close(r.kinds[0]!.dropRatio!, 4, 1e-9);
  close(r.kinds[1]!.dropRatio!, 3, 1e-9);
  close(r.kinds[0]!.meanAgreement, 0.85, 1e-12);
  const flat = robustnessSummary({ teacherAccuracy: 1, studentAccuracy: 1, agreement: 1 }, [
    { kind: 'contrast', severity: 1, rows: 10, teacherAccuracy: 1, studentAccuracy: 0.9, agreement: 0.9 },
  ]);
  assert.equal(flat.dropRatio, null);
});
