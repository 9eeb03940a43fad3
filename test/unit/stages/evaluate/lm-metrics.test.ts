/**
 * LM metrics on hand-made logits over a 3-token vocabulary: NLL by token bucket against a float64
 * loop, and the position/window cascade (threshold from validation, applied to test) checked by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lmCascade, lmRowSlices, nllByTokenBucket } from '../../../../stages/evaluate/lm-metrics.ts';
import { splitPositionsOf } from '../../../../stages/evaluate/split-positions.ts';
import type { SplitPositions } from '../../../../stages/evaluate/split-positions.ts';

const ln = Math.log;
// 2 windows x 2 positions, V = 3, labels all 0. Probabilities chosen so p(label) is exact.
// Student: p = (0.5, 0.25, 0.25), (0.9, 0.05, 0.05), (0.2, 0.4, 0.4), (0.8, 0.1, 0.1).
const S = [0.5, 0.25, 0.25, 0.9, 0.05, 0.05, 0.2, 0.4, 0.4, 0.8, 0.1, 0.1].map(ln);
// Teacher: p(label) = 0.8 everywhere.
const T = [0.8, 0.1, 0.1, 0.8, 0.1, 0.1, 0.8, 0.1, 0.1, 0.8, 0.1, 0.1].map(ln);
const Y = [0, 1, 0, 2];
const W = [1, 1, 1, 1];

function split(labels: number[]): SplitPositions {
  const seq = (l: number[]) => ({ rows: 2, positions: 2, classes: 3, logits: Float64Array.from(l) });
  return splitPositionsOf({ teacher: seq(T), student: seq(S), weight: W, labels, rowSlices: { genre: ['news', 'lore'] } }, seq(T.map((x, i) => (i % 3 === 0 ? x : 0))));
}

test('nllByTokenBucket averages -log p(label) per bucket of the target token', () => {
  const sp = split(Y);
  const r = nllByTokenBucket(sp, new Map([[0, 'frequent'], [1, 'rare'], [2, 'rare']]));
  assert.deepEqual(r.map((b) => [b.bucket, b.positions]), [['frequent', 2], ['rare', 2]]);
  assert.ok(Math.abs(r[0]!.studentNll - -(ln(0.5) + ln(0.2)) / 2) < 1e-12);
  assert.ok(Math.abs(r[1]!.studentNll - -(ln(0.05) + ln(0.1)) / 2) < 1e-12);
  assert.ok(Math.abs(r[1]!.teacherNll - -(ln(0.1) + ln(0.1)) / 2) < 1e-12);
});

test('BAD CALL a target token without a bucket is a DataError naming the id', () => {
  const sp = split(Y);
  assert.throws(() => nllByTokenBucket(sp, new Map([[0, 'frequent']])), { name: 'DataError', message: /token id 1/ });
});

test('lmRowSlices: perplexity of each model and KL per value of a per-row slice', () => {
  const sp = split(Y);
  const g = lmRowSlices(sp);
  assert.deepEqual(g.genre!.map((x) => [x.value, x.positions]), [['lore', 2], ['news', 2]]);
  // Window 0 ("news"): labels 0, 1; student p = 0.5, 0.05; teacher 0.8, 0.1.
  const news = g.genre![1]!;
  assert.ok(Math.abs(news.studentPerplexity - Math.exp(-(ln(0.5) + ln(0.05)) / 2)) < 1e-12);
  assert.ok(Math.abs(news.teacherPerplexity - Math.exp(-(ln(0.8) + ln(0.1)) / 2)) < 1e-12);
  // The baseline puts logit log(0.8) on id 0 and 0 elsewhere: p(0) = 0.8 / 2.8, p(1) = 1 / 2.8.
  assert.ok(Math.abs(news.baselinePerplexity! - Math.exp(-(ln(0.8 / 2.8) + ln(1 / 2.8)) / 2)) < 1e-12);
  const kl = (t: number[], s: number[]): number => t.reduce((a, p, c) => a + p * ln(p / s[c]!), 0);
  assert.ok(Math.abs(news.klTeacherStudent - (kl([0.8, 0.1, 0.1], [0.5, 0.25, 0.25]) + kl([0.8, 0.1, 0.1], [0.9, 0.05, 0.05])) / 2) < 1e-12);
});

test('position cascade: defers the least confident positions until 90% of the NLL gap is bought back', () => {
  const sp = split([0, 0, 0, 0]);
  const r = lmCascade(sp, sp, 'position', 0.9);
  // Student confidences (top probability) 0.5, 0.9, 0.4, 0.8: positions 2 then 0 go first. Deferring
  // those two leaves the student's 0.9 and 0.8, within 10% of the gap; one alone is not enough.
  const s = -(ln(0.5) + ln(0.9) + ln(0.2) + ln(0.8));
  const t = -4 * ln(0.8);
  const afterTwo = -(ln(0.8) + ln(0.9) + ln(0.8) + ln(0.8));
  assert.ok(afterTwo <= t + 0.1 * (s - t));
  assert.ok(-(ln(0.5) + ln(0.9) + 2 * ln(0.8)) > t + 0.1 * (s - t));
  assert.equal(r.threshold.tau, 0.8);
  assert.equal(r.unitsDeferredShare, 0.5);
  assert.ok(Math.abs(r.cascadePerplexity - Math.exp(afterTwo / 4)) < 1e-9);
  assert.ok(Math.abs(r.perplexityRecovered! - (Math.exp(s / 4) - Math.exp(afterTwo / 4)) / (Math.exp(s / 4) - Math.exp(t / 4))) < 1e-12);
});

test('window cascade: a window is deferred whole, its confidence the mean of its positions', () => {
  const sp = split([0, 0, 0, 0]);
  const r = lmCascade(sp, sp, 'window', 0.5);
  // Window confidences: (0.5 + 0.9) / 2 = 0.7 and (0.4 + 0.8) / 2 = 0.6; window 1 goes first.
  assert.ok(Math.abs(r.threshold.tau - 0.7) < 1e-12);
  assert.equal(r.unitsDeferredShare, 0.5);
  assert.equal(r.positionsDeferredShare, 0.5);
  const after = -(ln(0.5) + ln(0.9) + 2 * ln(0.8));
  assert.ok(Math.abs(r.cascadePerplexity - Math.exp(after / 4)) < 1e-9);
});
