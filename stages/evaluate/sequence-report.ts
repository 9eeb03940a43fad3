/**
 * The sequence sections of the evaluate report, assembled from the per-position numbers of teacher
 * and student on the validation and test splits (split-positions.ts; pure: nothing is run here).
 * Token metrics and slices are on test; the cascades choose tau on validation and score it on test;
 * the diacritisation and LM parts are added for their task. This is the one call the evaluate
 * orchestration makes for a token dataset.
 */
import type { DiacriticErrorRates, CaseEndingAgreement } from './diacritic-error-rates.ts';
import { caseEndingAgreement, diacriticErrorRates, segmentWords } from './diacritic-error-rates.ts';
import type { BucketNll, LmCascadeResult, LmSliceRow } from './lm-metrics.ts';
import { lmCascade, lmRowSlices, nllByTokenBucket } from './lm-metrics.ts';
import type { SequenceScores } from './sequence-scores.ts';
import type { SplitPositions } from './split-positions.ts';
import type { TokenMetrics } from './token-metrics.ts';
import { tokenMetrics } from './token-metrics.ts';
import type { TokenSliceMetrics } from './token-slice-metrics.ts';
import { rowSliceToPositions, tokenSliceMetrics } from './token-slice-metrics.ts';
import type { WordCascadeResult, WordCascadeSplit } from './word-cascade.ts';
import { wordCascade } from './word-cascade.ts';
import type { WordFrequencyBucket } from './word-frequency-buckets.ts';
import { errorRatesByWordFrequency } from './word-frequency-buckets.ts';

/** One split's scores and columns ([rows * P] per-position arrays), all in memory (splitPositionsOf). */
export interface SequenceSplit {
  teacher: SequenceScores;
  student: SequenceScores;
  weight: ArrayLike<number>;
  labels: ArrayLike<number>;
  /** Per-position slice columns (e.g. word_final), [rows * P]. */
  positionSlices?: Readonly<Record<string, ArrayLike<number | string>>>;
  /** Per-row slice columns (e.g. genre), [rows]. */
  rowSlices?: Readonly<Record<string, ArrayLike<number | string>>>;
  /** Token classification: input ids and mask [rows * L] (L = P), for words. */
  inputIds?: ArrayLike<number>;
  attentionMask?: ArrayLike<number>;
}

/** Options of the diacritisation part. */
export interface DiacriticOptions {
  /** Separator ids (space, punctuation). */
  separators: ReadonlySet<number>;
  /** Word counts of the train split (trainWordCounts). */
  trainWordCounts: ReadonlyMap<string, number>;
}

/** The sequence sections. */
export interface SequenceReport {
  tokens: TokenMetrics;
  slices: Record<string, TokenSliceMetrics[]>;
  diacritics?: {
    teacher: DiacriticErrorRates;
    student: DiacriticErrorRates;
    agreement: CaseEndingAgreement;
    byWordFrequency: { teacher: Record<WordFrequencyBucket, DiacriticErrorRates>; student: Record<WordFrequencyBucket, DiacriticErrorRates> };
    cascade: WordCascadeResult;
  };
  lm?: {
    nllByBucket: BucketNll[];
    /** Perplexity of each model and KL per value of each per-row slice column (e.g. genre). */
    rowSlices: Record<string, LmSliceRow[]>;
    cascade: { position: LmCascadeResult; window: LmCascadeResult };
  };
}

/** Per-position argmax and student top probability over all rows * P positions (for word metrics). */
function wordSplit(p: SplitPositions, sep: ReadonlySet<number>): WordCascadeSplit {
  const words = segmentWords(p.inputIds!, p.attentionMask!, p.labels, p.positions, sep);
  return { words, gold: p.labels, studentPred: p.student.pred, teacherPred: p.teacher.pred, studentConfidence: p.student.confidence };
}

/**
 * Builds the sequence sections. `diacritics` (token classification with words) and `tokenBuckets`
 * (causal LM: id -> bucket) add their parts.
 */
export function buildSequenceReport(validation: SplitPositions, test: SplitPositions, opts: { diacritics?: DiacriticOptions; tokenBuckets?: ReadonlyMap<number, string> } = {}): SequenceReport {
  const P = test.positions;
  const slices: Record<string, TokenSliceMetrics[]> = {};
  for (const [name, col] of Object.entries(test.positionSlices ?? {})) slices[name] = tokenSliceMetrics(test, col, name);
  for (const [name, col] of Object.entries(test.rowSlices ?? {})) slices[name] = tokenSliceMetrics(test, rowSliceToPositions(col, P), name);
  const report: SequenceReport = { tokens: tokenMetrics(test), slices };
  if (opts.diacritics) {
    const v = wordSplit(validation, opts.diacritics.separators);
    const w = wordSplit(test, opts.diacritics.separators);
    const byFreq = (pred: ArrayLike<number>) => errorRatesByWordFrequency(pred, w.gold, test.inputIds!, w.words, opts.diacritics!.trainWordCounts);
    report.diacritics = {
      teacher: diacriticErrorRates(w.teacherPred, w.gold, w.words),
      student: diacriticErrorRates(w.studentPred, w.gold, w.words),
      agreement: caseEndingAgreement(w.studentPred, w.teacherPred, w.words),
      byWordFrequency: { teacher: byFreq(w.teacherPred), student: byFreq(w.studentPred) },
      cascade: wordCascade(v, w),
    };
  }
  if (opts.tokenBuckets) {
    report.lm = { nllByBucket: nllByTokenBucket(test, opts.tokenBuckets), rowSlices: lmRowSlices(test), cascade: { position: lmCascade(validation, test, 'position'), window: lmCascade(validation, test, 'window') } };
  }
  return report;
}
