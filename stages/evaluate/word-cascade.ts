/**
 * The diacritisation cascade: a word goes to the teacher when the student's confidence in it, the
 * minimum over its letters of the student's top probability, is below tau. The threshold is chosen on
 * validation to buy back a share of the DER gap (unit-cascade.ts) and scored on test: share of words
 * (and letters) deferred, DER/WER after.
 */
import type { DiacriticErrorRates, Word } from './diacritic-error-rates.ts';
import { diacriticErrorRates } from './diacritic-error-rates.ts';
import type { CascadeThreshold, CascadeUnits } from './unit-cascade.ts';
import { chooseCascadeThreshold, DEFAULT_CASCADE_RECOVER, deferredUnits } from './unit-cascade.ts';

/** One split's predictions for the word cascade (flat per-position arrays, row * L + position). */
export interface WordCascadeSplit {
  words: readonly Word[];
  gold: ArrayLike<number>;
  studentPred: ArrayLike<number>;
  teacherPred: ArrayLike<number>;
  /** The student's top probability per position. */
  studentConfidence: ArrayLike<number>;
}

/** What {@link wordCascade} reports (on test). */
export interface WordCascadeResult {
  threshold: CascadeThreshold;
  wordsDeferredShare: number;
  lettersDeferredShare: number;
  student: DiacriticErrorRates;
  teacher: DiacriticErrorRates;
  cascade: DiacriticErrorRates;
}

/** Word confidence (min letter confidence) and letter errors per word under each model. */
export function wordCascadeUnits(split: WordCascadeSplit): CascadeUnits {
  const confidence = split.words.map((w) => Math.min(...w.map((i) => (i < 0 ? 0 : split.studentConfidence[i]!))));
  const errors = (pred: ArrayLike<number>): number[] => split.words.map((w) => w.filter((i) => i < 0 || pred[i] !== split.gold[i]).length);
  return { confidence, studentCost: errors(split.studentPred), teacherCost: errors(split.teacherPred) };
}

/** Chooses tau on `validation` (DER gap, `recover` share) and scores the cascade on `test`. */
export function wordCascade(validation: WordCascadeSplit, test: WordCascadeSplit, recover = DEFAULT_CASCADE_RECOVER): WordCascadeResult {
  const threshold = chooseCascadeThreshold(wordCascadeUnits(validation), recover);
  const conf = wordCascadeUnits(test).confidence;
  const deferred = deferredUnits(conf, threshold.tau);
  const cascadePred = Int32Array.from(test.studentPred);
  let letters = 0;
  let lettersDeferred = 0;
  test.words.forEach((w, k) => {
    letters += w.length;
    if (deferred[k] !== 1) return;
    lettersDeferred += w.length;
    for (const i of w) if (i >= 0) cascadePred[i] = test.teacherPred[i]!;
  });
  const wordsDeferred = deferred.reduce((a, b) => a + b, 0);
  return {
    threshold,
    wordsDeferredShare: test.words.length > 0 ? wordsDeferred / test.words.length : 0,
    lettersDeferredShare: letters > 0 ? lettersDeferred / letters : 0,
    student: diacriticErrorRates(test.studentPred, test.gold, test.words),
    teacher: diacriticErrorRates(test.teacherPred, test.gold, test.words),
    cascade: diacriticErrorRates(cascadePred, test.gold, test.words),
  };
}
