/**
 * From token rows and per-position outputs to target positions, on hand-made rows: next-token labels
 * only where both tokens are real, the last position dropped from a causal LM's outputs, a
 * per-position slice read at the predicted token; and the case-ending share of the DER gap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caseEndingGapShare } from '../../../../stages/evaluate/build-sequence-evaluate-report.ts';
import type { DiacriticErrorRates } from '../../../../stages/evaluate/diacritic-error-rates.ts';
import { sequenceTargets, targetLogits, targetSlice } from '../../../../stages/evaluate/sequence-targets.ts';

const X = -100;
// Two rows of L = 4: "5 6 7" + pad, "8" + pad x3.
const rows = { split: 'test', rows: 2, L: 4, inputIds: Int32Array.of(5, 6, 7, 0, 8, 0, 0, 0), attentionMask: Uint8Array.of(1, 1, 1, 0, 1, 0, 0, 0), labels: Int32Array.of(1, X, 2, X, 0, X, X, X) };

test('next-token targets: position t predicts token t + 1 where both are real; a one-token row has none', () => {
  const t = sequenceTargets({ ...rows, labels: null }, 'next-token');
  assert.equal(t.positions, 3);
  assert.deepEqual([...t.labels], [6, 7, X, X, X, X]);
  assert.deepEqual([...t.weight], [1, 1, 0, 0, 0, 0]);
});

test('token targets are the labels column, weighted by the mask; no labels is a DataError', () => {
  const t = sequenceTargets(rows, 'token');
  assert.equal(t.positions, 4);
  assert.deepEqual([...t.labels], [...rows.labels]);
  assert.deepEqual([...t.weight], [...rows.attentionMask]);
  assert.throws(() => sequenceTargets({ ...rows, labels: null }, 'token'), { name: 'DataError', message: /split "test": token classification needs per-position labels/ });
});

test('outputs narrowed to the target positions: the last position of each row dropped for a causal LM', () => {
  const C = 2;
  const logits = Float32Array.from({ length: 2 * 4 * C }, (_, i) => i);
  assert.equal(targetLogits(logits, 2, 4, C, 'token'), logits);
  assert.deepEqual([...targetLogits(logits, 2, 4, C, 'next-token')], [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13]);
  assert.throws(() => targetLogits(logits.subarray(1), 2, 4, C, 'token'), { name: 'DataError', message: /15 values, expected rows \* L \* classes = 2 \* 4 \* 2/ });
  // A per-position slice is read at the predicted token.
  assert.deepEqual([...targetSlice(Int32Array.of(0, 1, 0, 1, 1, 0, 0, 0), 2, 4, 'next-token')], [1, 0, 1, 0, 0, 0]);
});

test('case-ending share of the DER gap: student minus teacher errors on word-final letters over all extra errors', () => {
  const rates = (errors: number, internalErrors: number): DiacriticErrorRates => ({ der: errors / 100, derNoCaseEnding: internalErrors / 70, letters: 100, lettersNoCaseEnding: 70, wer: 0, werNoCaseEnding: 0, words: 30, wordsNoCaseEnding: 30 });
  // Teacher: 10 errors, 4 internal (6 on case endings); student: 30 errors, 12 internal (18 on case endings): 12 of 20 extra on case endings.
  assert.equal(caseEndingGapShare(rates(10, 4), rates(30, 12)), 0.6);
  assert.equal(caseEndingGapShare(rates(10, 4), rates(10, 2)), null);
});
