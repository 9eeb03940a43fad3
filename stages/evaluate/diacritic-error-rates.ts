/**
 * Diacritisation scored the standard way (Zitouni et al. 2006; Fadel et al. 2019): DER = share of
 * letters whose diacritic class is wrong, WER = share of words with at least one wrong letter, each
 * with and without case endings (the word's last letter, whose mark follows from syntax).
 *
 * Conventions, stated once: spaces, punctuation (any id the caller lists as a separator) and padding
 * are not letters and never count; a letter counts only when it has a label (not -100); the class
 * "none" (no diacritic) is a class like any other and counts (the "including no-diacritic" variant).
 * Without case endings, the word-final letter is dropped from both DER and WER, and a one-letter word
 * then has nothing left and leaves the WER denominator.
 */
import { DataError } from '../../pipeline/errors.ts';
import { IGNORE_INDEX } from './sequence-scores.ts';

/** DER/WER with and without case endings, with their denominators. */
export interface DiacriticErrorRates {
  der: number;
  derNoCaseEnding: number;
  wer: number;
  werNoCaseEnding: number;
  letters: number;
  lettersNoCaseEnding: number;
  words: number;
  wordsNoCaseEnding: number;
}

/**
 * The scored letters of one word (flat positions), in order; the last one is the case ending. -1 is
 * a letter missing from a perturbed row (see remapWords): scored wrong, never in agreement.
 */
export type Word = readonly number[];

/**
 * Splits rows of character ids into words: a word is a maximal run of real tokens (mask 1) that are
 * not separators, within one row. Returns each word's positions (flat index row * L + position) that
 * have a label (labels != -100); words left with no labelled letter are dropped.
 */
export function segmentWords(inputIds: ArrayLike<number>, mask: ArrayLike<number>, labels: ArrayLike<number>, L: number, separators: ReadonlySet<number>): Word[] {
  if (inputIds.length % L !== 0 || mask.length !== inputIds.length || labels.length !== inputIds.length) {
    throw new DataError(`segmentWords: input_ids (${inputIds.length}), attention_mask (${mask.length}) and labels (${labels.length}) must be rows * L = rows * ${L}`);
  }
  const out: Word[] = [];
  let word: number[] = [];
  const close = (): void => {
    if (word.length > 0) out.push(word);
    word = [];
  };
  for (let i = 0; i < inputIds.length; i++) {
    if (i % L === 0) close();
    if (mask[i] !== 1 || separators.has(inputIds[i]!)) close();
    else if (labels[i] !== IGNORE_INDEX) word.push(i);
  }
  close();
  return out;
}

/** DER and WER of `pred` against `gold` over `words` (see the file comment for the conventions). */
export function diacriticErrorRates(pred: ArrayLike<number>, gold: ArrayLike<number>, words: readonly Word[]): DiacriticErrorRates {
  let letters = 0;
  let errors = 0;
  let lettersNc = 0;
  let errorsNc = 0;
  let wrongWords = 0;
  let wordsNc = 0;
  let wrongWordsNc = 0;
  for (const w of words) {
    let wrong = 0;
    let wrongInternal = 0;
    w.forEach((i, k) => {
      const bad = i < 0 || pred[i] !== gold[i] ? 1 : 0;
      wrong += bad;
      if (k < w.length - 1) wrongInternal += bad;
    });
    letters += w.length;
    errors += wrong;
    lettersNc += w.length - 1;
    errorsNc += wrongInternal;
    if (wrong > 0) wrongWords++;
    if (w.length > 1) {
      wordsNc++;
      if (wrongInternal > 0) wrongWordsNc++;
    }
  }
  const rate = (a: number, b: number): number => (b > 0 ? a / b : 0);
  return {
    der: rate(errors, letters),
    derNoCaseEnding: rate(errorsNc, lettersNc),
    wer: rate(wrongWords, words.length),
    werNoCaseEnding: rate(wrongWordsNc, wordsNc),
    letters,
    lettersNoCaseEnding: lettersNc,
    words: words.length,
    wordsNoCaseEnding: wordsNc,
  };
}

/** Agreement of student and teacher classes on case endings vs word-internal letters. */
export interface CaseEndingAgreement {
  caseEnding: number;
  internal: number;
  caseEndingLetters: number;
  internalLetters: number;
}

/** Share of case-ending letters (and of word-internal letters) where `student` and `teacher` agree. */
export function caseEndingAgreement(student: ArrayLike<number>, teacher: ArrayLike<number>, words: readonly Word[]): CaseEndingAgreement {
  let ce = 0;
  let ceAgree = 0;
  let inner = 0;
  let innerAgree = 0;
  for (const w of words) {
    w.forEach((i, k) => {
      const same = i >= 0 && student[i] === teacher[i] ? 1 : 0;
      if (k === w.length - 1) {
        ce++;
        ceAgree += same;
      } else {
        inner++;
        innerAgree += same;
      }
    });
  }
  return { caseEnding: ce > 0 ? ceAgree / ce : 0, internal: inner > 0 ? innerAgree / inner : 0, caseEndingLetters: ce, internalLetters: inner };
}
