/**
 * The assembled sequence report on hand-made rows: its parts equal the pieces called directly (each
 * piece has its own hand-counted test), the cascades take tau from validation, not from test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diacriticErrorRates, segmentWords } from '../../../../stages/evaluate/diacritic-error-rates.ts';
import { buildSequenceReport } from '../../../../stages/evaluate/sequence-report.ts';
import type { SequenceSplit } from '../../../../stages/evaluate/sequence-report.ts';
import { splitPositionsOf } from '../../../../stages/evaluate/split-positions.ts';
import type { SplitPositions } from '../../../../stages/evaluate/split-positions.ts';
import { trainWordCounts } from '../../../../stages/evaluate/word-frequency-buckets.ts';

const X = -100;
const L = 5;
const V = 3;
// Row 0 "34 5" + pad, row 1 "67" + pad x3; ids 2 = space. Gold classes 0..2.
const IDS = [3, 4, 2, 5, 0, 6, 7, 0, 0, 0];
const MASK = [1, 1, 1, 1, 0, 1, 1, 0, 0, 0];
const GOLD = [1, 2, X, 0, X, 1, 1, X, X, X];
const WEIGHT = MASK;

/** Logits putting probability `conf` on `cls` at each position (the rest shared). */
function logits(cls: number[], conf: number[]): Float64Array {
  const out = new Float64Array(cls.length * V);
  cls.forEach((c, i) => {
    for (let k = 0; k < V; k++) out[i * V + k] = Math.log(k === c ? conf[i]! : (1 - conf[i]!) / (V - 1));
  });
  return out;
}

function split(studentCls: number[], studentConf: number[]): SplitPositions {
  const teacherCls = GOLD.map((g) => (g < 0 ? 0 : g));
  const s: SequenceSplit = {
    teacher: { rows: 2, positions: L, classes: V, logits: logits(teacherCls, teacherCls.map(() => 0.9)) },
    student: { rows: 2, positions: L, classes: V, logits: logits(studentCls, studentConf) },
    weight: WEIGHT,
    labels: GOLD,
    positionSlices: { word_final: [0, 1, 0, 1, 0, 0, 1, 0, 0, 0] },
    rowSlices: { genre: ['a', 'b'] },
    inputIds: IDS,
    attentionMask: MASK,
  };
  return splitPositionsOf(s);
}

test('token classification report: tokens, slices, DER/WER and the word cascade from validation', () => {
  // Student wrong at position 1 (case ending of "34") with low confidence on test.
  const studentCls = [1, 0, 0, 0, 0, 1, 1, 0, 0, 0];
  const conf = [0.9, 0.4, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
  const sep = new Set([2]);
  const counts = trainWordCounts(IDS, MASK, GOLD, L, sep);
  const r = buildSequenceReport(split(studentCls, conf), split(studentCls, conf), { diacritics: { separators: sep, trainWordCounts: counts } });
  assert.equal(r.tokens.positions, 5);
  assert.equal(r.tokens.student.accuracy, 4 / 5);
  assert.deepEqual(r.slices.word_final!.map((x) => [x.value, x.metrics.positions]), [['0', 2], ['1', 3]]);
  assert.deepEqual(r.slices.genre!.map((x) => [x.value, x.metrics.positions]), [['a', 3], ['b', 2]]);
  const words = segmentWords(IDS, MASK, GOLD, L, sep);
  assert.deepEqual(r.diacritics!.student, diacriticErrorRates(studentCls, GOLD, words));
  assert.equal(r.diacritics!.student.der, 1 / 5);
  assert.equal(r.diacritics!.teacher.der, 0);
  assert.equal(r.diacritics!.agreement.internal, 1);
  assert.equal(r.diacritics!.byWordFrequency.student.rare.words, 3);
  assert.equal(r.diacritics!.cascade.wordsDeferredShare, 1 / 3);
  assert.equal(r.diacritics!.cascade.cascade.der, 0);
});

test('the cascade threshold comes from validation: a sure validation student defers nothing on test', () => {
  const studentCls = [1, 0, 0, 0, 0, 1, 1, 0, 0, 0];
  const unsure = [0.9, 0.4, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
  const sep = new Set([2]);
  // On validation the student is right everywhere: no gap, tau = 0.
  const validation = split(GOLD.map((g) => (g < 0 ? 0 : g)), unsure.map(() => 0.95));
  const r = buildSequenceReport(validation, split(studentCls, unsure), { diacritics: { separators: sep, trainWordCounts: new Map() } });
  assert.equal(r.diacritics!.cascade.threshold.tau, 0);
  assert.equal(r.diacritics!.cascade.wordsDeferredShare, 0);
  assert.equal(r.diacritics!.cascade.cascade.der, 1 / 5);
});

test('LM parts: NLL by bucket over target tokens and both cascades', () => {
  const studentCls = [1, 0, 0, 0, 0, 1, 1, 0, 0, 0];
  const conf = [0.9, 0.4, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
  const r = buildSequenceReport(split(studentCls, conf), split(studentCls, conf), { tokenBuckets: new Map([[0, 'frequent'], [1, 'frequent'], [2, 'rare']]) });
  assert.deepEqual(r.lm!.nllByBucket.map((b) => [b.bucket, b.positions]), [['frequent', 4], ['rare', 1]]);
  assert.equal(r.lm!.cascade.position.unitsDeferredShare, 1 / 5);
  assert.equal(r.lm!.cascade.window.level, 'window');
  // Per genre (the row slice): row 0 ("a") has targets 0, 1, 3 (student p(label) 0.9, 0.3, 0.9; teacher 0.9 everywhere), row 1 ("b") 5, 6.
  assert.deepEqual(r.lm!.rowSlices.genre!.map((g) => [g.value, g.positions, g.baselinePerplexity]), [['a', 3, null], ['b', 2, null]]);
  const a = r.lm!.rowSlices.genre![0]!;
  assert.ok(Math.abs(a.studentPerplexity - Math.exp(-(Math.log(0.9) + Math.log(0.3) + Math.log(0.9)) / 3)) < 1e-12, `${a.studentPerplexity}`);
  assert.ok(Math.abs(a.teacherPerplexity - 1 / 0.9) < 1e-12);
  assert.ok(Math.abs(a.klTeacherStudent - r.slices.genre![0]!.metrics.klTeacherStudent) < 1e-15);
});
