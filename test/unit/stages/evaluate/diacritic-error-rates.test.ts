/**
 * DER/WER, case-ending agreement, frequency buckets and the word cascade on hand-made character rows.
 * Ids: 0 pad, 1 unk, 2 space, 3.. letters; classes: 0 none, 1 fatha, 2 damma, 3 kasra. Every expected
 * value is counted by hand in the comments.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caseEndingAgreement, diacriticErrorRates, segmentWords } from '../../../../stages/evaluate/diacritic-error-rates.ts';
import { IGNORE_INDEX as X } from '../../../../stages/evaluate/sequence-scores.ts';
import { countWords, errorRatesByWordFrequency, frequencyBucket } from '../../../../stages/evaluate/word-frequency-buckets.ts';
import { wordCascade } from '../../../../stages/evaluate/word-cascade.ts';

const L = 8;
// Row 0: "ab c" then padding; row 1: "abd e" then padding ("e" is a one-letter word).
const IDS = [3, 4, 2, 5, 0, 0, 0, 0, 3, 4, 6, 2, 7, 0, 0, 0];
const MASK = [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0];
const GOLD = [1, 2, X, 0, X, X, X, X, 1, 0, 3, X, 2, X, X, X];
const SEP = new Set([2]);

test('segmentWords: spaces, padding and unlabelled positions are not letters; words never cross rows', () => {
  assert.deepEqual(segmentWords(IDS, MASK, GOLD, L, SEP), [[0, 1], [3], [8, 9, 10], [12]]);
});

test('DER and WER with and without case endings, counted by hand', () => {
  const words = segmentWords(IDS, MASK, GOLD, L, SEP);
  // Wrong: position 1 (case ending of "ab"), position 9 (internal letter of "abd").
  const pred = [1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 2, 0, 0, 0];
  const r = diacriticErrorRates(pred, GOLD, words);
  // 7 letters, 2 wrong; without case endings: letters 0, 8, 9 -> 1 wrong of 3.
  assert.equal(r.letters, 7);
  assert.equal(r.der, 2 / 7);
  assert.equal(r.lettersNoCaseEnding, 3);
  assert.equal(r.derNoCaseEnding, 1 / 3);
  // Words "ab" and "abd" wrong of 4; without case endings only "ab" and "abd" remain and "abd" is wrong.
  assert.equal(r.wer, 2 / 4);
  assert.equal(r.wordsNoCaseEnding, 2);
  assert.equal(r.werNoCaseEnding, 1 / 2);
});

test('case-ending agreement separates word-final from word-internal letters', () => {
  const words = segmentWords(IDS, MASK, GOLD, L, SEP);
  const student = [1, 2, 0, 0, 0, 0, 0, 0, 1, 0, 3, 0, 2, 0, 0, 0];
  const teacher = [1, 1, 0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 2, 0, 0, 0];
  const a = caseEndingAgreement(student, teacher, words);
  // Case endings 1, 3, 10, 12: agree at 10 and 12 -> 2/4; internal 0, 8, 9: agree at 0 and 9 -> 2/3.
  assert.equal(a.caseEnding, 0.5);
  assert.equal(a.internal, 2 / 3);
});

test('word frequency buckets: frequent >= 10, rare 1..9, unseen 0 in train', () => {
  assert.deepEqual([frequencyBucket(10), frequencyBucket(9), frequencyBucket(1), frequencyBucket(0)], ['frequent', 'rare', 'rare', 'unseen']);
  const words = segmentWords(IDS, MASK, GOLD, L, SEP);
  const train = countWords(IDS, words);
  assert.equal(train.get('3,4'), 1);
  const pred = [1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 2, 0, 0, 0];
  const byBucket = errorRatesByWordFrequency(pred, GOLD, IDS, words, new Map([['3,4', 12], ['5', 2]]));
  assert.deepEqual([byBucket.frequent.words, byBucket.frequent.der], [1, 1 / 2]);
  assert.deepEqual([byBucket.rare.words, byBucket.rare.der], [1, 0]);
  assert.deepEqual([byBucket.unseen.words, byBucket.unseen.letters, byBucket.unseen.der], [2, 4, 1 / 4]);
});

test('word cascade: tau chosen on validation, applied to test; word confidence is the min over its letters', () => {
  const words = segmentWords(IDS, MASK, GOLD, L, SEP);
  const teacherPred = Int32Array.from(GOLD, (g) => (g < 0 ? 0 : g));
  const studentPred = [1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 2, 0, 0, 0];
  // Word confidences: "ab" min(0.9, 0.5) = 0.5, "c" 0.95, "abd" min(0.99, 0.6, 0.99) = 0.6, "e" 0.7.
  const conf = [0.9, 0.5, 0, 0.95, 0, 0, 0, 0, 0.99, 0.6, 0.99, 0, 0.7, 0, 0, 0];
  const split = { words, gold: GOLD, studentPred, teacherPred, studentConfidence: conf };
  const r = wordCascade(split, split, 0.9);
  // Gap 2 errors -> target 0.2: defer "ab" (0.5) and "abd" (0.6); tau = next confidence 0.7.
  assert.equal(r.threshold.tau, 0.7);
  assert.equal(r.wordsDeferredShare, 0.5);
  assert.equal(r.lettersDeferredShare, 5 / 7);
  assert.equal(r.cascade.der, 0);
  assert.equal(r.student.der, 2 / 7);
  // The same tau on a test split whose words are all sure defers nothing.
  const sure = { ...split, studentConfidence: conf.map(() => 0.99) };
  const onTest = wordCascade(split, sure, 0.9);
  assert.equal(onTest.wordsDeferredShare, 0);
  assert.equal(onTest.cascade.der, 2 / 7);
});

test('cascade threshold: nothing deferred when the student is no worse; ties are never split', async () => {
  const { chooseCascadeThreshold } = await import('../../../../stages/evaluate/unit-cascade.ts');
  assert.deepEqual(chooseCascadeThreshold({ confidence: [0.1, 0.2], studentCost: [0, 1], teacherCost: [1, 0] }), { tau: 0, recover: 0.9, deferredShare: 0, unreachable: false });
  // Two units tie at 0.3: the cut after the first alone is not possible, so both go (share 2/3).
  const t = chooseCascadeThreshold({ confidence: [0.3, 0.3, 0.9], studentCost: [1, 0, 0], teacherCost: [0, 0, 0] }, 1);
  assert.equal(t.tau, 0.9);
  assert.equal(t.deferredShare, 2 / 3);
  // Gap 3 - 1 = 2, recover half: target 2, met by deferring the least sure unit alone.
  const u = chooseCascadeThreshold({ confidence: [0.1, 0.5, 0.9], studentCost: [1, 1, 1], teacherCost: [0, 0, 1] }, 0.5);
  assert.equal(u.tau, 0.5);
  assert.equal(u.unreachable, false);
});
