/**
 * The sequence sections of the evaluate report, assembled from teacher and student scores on the
 * validation and test splits (pure: nothing is run here). Token metrics and slices are on test; the
 * cascades choose tau on validation and score it on test; the diacritisation and LM parts are added
 * for their task. This is the one call the evaluate orchestration makes for a token dataset.
 */
import type { DiacriticErrorRates, CaseEndingAgreement } from './diacritic-error-rates.ts';
import { caseEndingAgreement, diacriticErrorRates, segmentWords } from './diacritic-error-rates.ts';
import type { BucketNll, LmCascadeResult } from './lm-metrics.ts';
import { lmCascade, nllByTokenBucket } from './lm-metrics.ts';
import { argmaxRows, topProbability } from './class-scores.ts';
import type { SequenceScores, TargetPositions } from './sequence-scores.ts';
import { gatherTargetPositions } from './sequence-scores.ts';
import type { TokenMetrics } from './token-metrics.ts';
import { tokenMetrics } from './token-metrics.ts';
import type { TokenSliceMetrics } from './token-slice-metrics.ts';
import { rowSliceToPositions, tokenSliceMetrics } from './token-slice-metrics.ts';
import type { WordCascadeResult, WordCascadeSplit } from './word-cascade.ts';
import { wordCascade } from './word-cascade.ts';
import type { WordFrequencyBucket } from './word-frequency-buckets.ts';
import { errorRatesByWordFrequency } from './word-frequency-buckets.ts';

/** One split's scores and columns ([rows * P] per-position arrays). */
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
  lm?: { nllByBucket: BucketNll[]; cascade: { position: LmCascadeResult; window: LmCascadeResult } };
}

function gather(split: SequenceSplit): { t: TargetPositions; s: TargetPositions } {
  return { t: gatherTargetPositions(split.teacher, split.weight, split.labels, 'teacher scores'), s: gatherTargetPositions(split.student, split.weight, split.labels, 'student scores') };
}

/** Per-position argmax and student top probability over all rows * P positions (for word metrics). */
function wordSplit(split: SequenceSplit, sep: ReadonlySet<number>): WordCascadeSplit {
  const P = split.student.positions;
  const flat = (s: SequenceScores) => ({ rows: s.rows * s.positions, classes: s.classes, logits: s.logits });
  const words = segmentWords(split.inputIds!, split.attentionMask!, split.labels, P, sep);
  return { words, gold: split.labels, studentPred: argmaxRows(flat(split.student)), teacherPred: argmaxRows(flat(split.teacher)), studentConfidence: topProbability(flat(split.student)) };
}

/**
 * Builds the sequence sections. `diacritics` (token classification with words) and `tokenBuckets`
 * (causal LM: id -> bucket) add their parts.
 */
export function buildSequenceReport(validation: SequenceSplit, test: SequenceSplit, opts: { diacritics?: DiacriticOptions; tokenBuckets?: ReadonlyMap<number, string> } = {}): SequenceReport {
  const { t, s } = gather(test);
  const P = test.student.positions;
  const slices: Record<string, TokenSliceMetrics[]> = {};
  for (const [name, col] of Object.entries(test.positionSlices ?? {})) slices[name] = tokenSliceMetrics(t, s.scores, col, name);
  for (const [name, col] of Object.entries(test.rowSlices ?? {})) slices[name] = tokenSliceMetrics(t, s.scores, rowSliceToPositions(col, P), name);
  const report: SequenceReport = { tokens: tokenMetrics(t.scores, s.scores, t.labels), slices };
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
    const val = gather(validation);
    const vs = { teacher: val.t, student: val.s, positions: validation.student.positions };
    const ts = { teacher: t, student: s, positions: P };
    report.lm = { nllByBucket: nllByTokenBucket(t, s, opts.tokenBuckets), cascade: { position: lmCascade(vs, ts, 'position'), window: lmCascade(vs, ts, 'window') } };
  }
  return report;
}
