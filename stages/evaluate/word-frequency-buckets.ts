/**
 * Words by how often the training split has them: a word is its letters' ids (undiacritised input),
 * counted over the train split; a test word is `frequent` (count >= frequentMin, default 10), `rare`
 * (1 .. frequentMin - 1) or `unseen` (0). DER/WER are then reported per bucket.
 */
import type { DiacriticErrorRates, Word } from './diacritic-error-rates.ts';
import { diacriticErrorRates, segmentWords } from './diacritic-error-rates.ts';

/** Bucket names, in report order. */
export const WORD_FREQUENCY_BUCKETS = ['frequent', 'rare', 'unseen'] as const;
export type WordFrequencyBucket = (typeof WORD_FREQUENCY_BUCKETS)[number];

/** Default train count from which a word is frequent. */
export const DEFAULT_FREQUENT_MIN = 10;

/** The key of a word: its input ids joined (all its positions, labelled or not, are letters). */
export function wordKey(inputIds: ArrayLike<number>, word: Word): string {
  return Array.from(word, (i) => inputIds[i]!).join(',');
}

/** How many times each word occurs in a split. */
export function countWords(inputIds: ArrayLike<number>, words: readonly Word[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of words) {
    const k = wordKey(inputIds, w);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Word counts of a (train) split from its columns; words as in segmentWords. */
export function trainWordCounts(inputIds: ArrayLike<number>, mask: ArrayLike<number>, labels: ArrayLike<number>, L: number, separators: ReadonlySet<number>): Map<string, number> {
  return countWords(inputIds, segmentWords(inputIds, mask, labels, L, separators));
}

/** The bucket of a train count. */
export function frequencyBucket(count: number, frequentMin = DEFAULT_FREQUENT_MIN): WordFrequencyBucket {
  if (count >= frequentMin) return 'frequent';
  return count > 0 ? 'rare' : 'unseen';
}

/** DER/WER per frequency bucket (every bucket listed, empty ones with zero denominators). */
export function errorRatesByWordFrequency(
  pred: ArrayLike<number>,
  gold: ArrayLike<number>,
  inputIds: ArrayLike<number>,
  words: readonly Word[],
  trainCounts: ReadonlyMap<string, number>,
  frequentMin = DEFAULT_FREQUENT_MIN,
): Record<WordFrequencyBucket, DiacriticErrorRates> {
  const groups: Record<WordFrequencyBucket, Word[]> = { frequent: [], rare: [], unseen: [] };
  for (const w of words) groups[frequencyBucket(trainCounts.get(wordKey(inputIds, w)) ?? 0, frequentMin)].push(w);
  return {
    frequent: diacriticErrorRates(pred, gold, groups.frequent),
    rare: diacriticErrorRates(pred, gold, groups.rare),
    unseen: diacriticErrorRates(pred, gold, groups.unseen),
  };
}
