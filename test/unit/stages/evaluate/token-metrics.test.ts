/**
 * Token metrics on hand-made logits: every expected value is computed here by an independent float64
 * loop over the target positions written out by hand (or by hand on paper, noted inline).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatherTargetPositions, IGNORE_INDEX } from '../../../../stages/evaluate/sequence-scores.ts';
import { splitPositionsOf } from '../../../../stages/evaluate/split-positions.ts';
import type { SplitPositions } from '../../../../stages/evaluate/split-positions.ts';
import { tokenMetrics } from '../../../../stages/evaluate/token-metrics.ts';
import { rowSliceToPositions, tokenSliceMetrics } from '../../../../stages/evaluate/token-slice-metrics.ts';

// 2 rows x 3 positions x 3 classes. Row 1 position 2 is padding (weight 0), row 0 position 1 has label -100.
const W = [1, 1, 1, 1, 1, 0];
const Y = [0, IGNORE_INDEX, 2, 1, 1, 0];
const T = [3, 0, 0, 9, 9, 9, 0, 0, 2, 0, 2, 0, 0, 0, 1, 5, 5, 5];
const S = [1, 0, 0, 0, 9, 0, 1, 0, 0, 0, 1, 1, 2, 0, 0, -5, 5, -5];

/** Teacher T and student S on 2 rows x 3 positions, scored per position (split-positions.ts). */
function positions(t: number[] = T, s: number[] = S, rows = 2, P = 3, V = 3, weight: number[] = W, labels: number[] = Y): SplitPositions {
  const seq = (l: number[]) => ({ rows, positions: P, classes: V, logits: Float64Array.from(l) });
  return splitPositionsOf({ teacher: seq(t), student: seq(s), weight, labels });
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

test('gatherTargetPositions keeps weight-1 positions whose label is not -100, in order', () => {
  const g = gatherTargetPositions({ rows: 2, positions: 3, classes: 3, logits: Float32Array.from(S) }, W, Y);
  assert.deepEqual([...g.index], [0, 2, 3, 4]);
  assert.deepEqual([...g.labels], [0, 2, 1, 1]);
  assert.deepEqual([...g.scores.logits.slice(3, 6)], [1, 0, 0]);
});

test('tokenMetrics matches a float64 loop: accuracy, NLL, perplexity, agreement, KL, entropy, attribution', () => {
  const p = positions();
  assert.deepEqual([...p.targets], [0, 2, 3, 4]);
  const m = tokenMetrics(p);
  const kept = [0, 2, 3, 4];
  let nll = 0;
  let kl = 0;
  let hs = 0;
  let ht = 0;
  for (const i of kept) {
    const pt = softmax(T.slice(i * 3, i * 3 + 3));
    const ps = softmax(S.slice(i * 3, i * 3 + 3));
    nll -= Math.log(ps[Y[i]!]!);
    for (let c = 0; c < 3; c++) {
      kl += pt[c]! * Math.log(pt[c]! / ps[c]!);
      hs -= ps[c]! * Math.log(ps[c]!);
      ht -= pt[c]! * Math.log(pt[c]!);
    }
  }
  assert.equal(m.positions, 4);
  // student argmax 0,0,1,0 vs labels 0,2,1,1 -> 2 right; teacher argmax 0,2,1,2 (first on ties) -> 3 right.
  assert.equal(m.student.accuracy, 0.5);
  assert.equal(m.teacher.accuracy, 0.75);
  assert.equal(m.agreement, 0.5);
  assert.ok(Math.abs(m.student.nll - nll / 4) < 1e-12);
  assert.ok(Math.abs(m.student.perplexity - Math.exp(nll / 4)) < 1e-9);
  assert.ok(Math.abs(m.klTeacherStudent - kl / 4) < 1e-12);
  assert.ok(Math.abs(m.student.entropy - hs / 4) < 1e-12);
  assert.ok(Math.abs(m.teacher.entropy - ht / 4) < 1e-12);
  // student wrong at positions 2 (teacher right: own) and 4 (teacher wrong with 2, student 0: both wrong).
  assert.equal(m.attribution.own, 1);
  assert.equal(m.attribution.bothWrong, 1);
  assert.equal(m.attribution.copied, 0);
});

test('token ECE: one position per row of the classification ECE', () => {
  // Two positions, student confidence softmax([ln 3, 0]) = 0.75 right and 0.75 wrong: |0.5 - 0.75| = 0.25.
  const z = [Math.log(3), 0, Math.log(3), 0];
  const m = tokenMetrics(positions(z, z, 1, 2, 2, [1, 1], [0, 1]));
  assert.ok(Math.abs(m.student.ece - 0.25) < 1e-12);
});

test('slices per position and per row partition the target positions', () => {
  const p = positions();
  const wordFinal = [0, 0, 1, 0, 1, 1];
  const bySlice = tokenSliceMetrics(p, wordFinal, 'word_final');
  assert.deepEqual(bySlice.map((x) => [x.value, x.metrics.positions, x.metrics.student.accuracy]), [['0', 2, 1], ['1', 2, 0]]);
  const genre = rowSliceToPositions(['news', 'humor'], 3);
  const byGenre = tokenSliceMetrics(p, genre, 'genre');
  assert.deepEqual(byGenre.map((x) => [x.value, x.metrics.positions]), [['humor', 2], ['news', 2]]);
});

test('BAD CALL a label outside the vocabulary or a short weight array is a DataError naming it', () => {
  const seq = { rows: 1, positions: 2, classes: 2, logits: new Float64Array(4) };
  assert.throws(() => gatherTargetPositions(seq, [1, 1], [0, 7]), { name: 'DataError', message: /position 1 has label 7/ });
  assert.throws(() => gatherTargetPositions(seq, [1], [0, 1]), { name: 'DataError', message: /weight has 1 values/ });
  assert.throws(() => splitPositionsOf({ teacher: seq, student: seq, weight: [1, 1], labels: [0, 7] }), { name: 'DataError', message: /position 1 has label 7/ });
  assert.throws(() => tokenMetrics(positions(T, S, 2, 3, 3, [0, 0, 0, 0, 0, 0])), { name: 'DataError', message: /no target position/ });
});
