import { deriveSeed, seededPermutation } from '../../../pipeline/seeded-random.ts';
import type { MappedVerse } from './map-verse.ts';

/** Splits of the ar-diacritics experiment, in dedup order. */
export const QURAN_SPLITS = ['train', 'validation', 'test'] as const;
export type QuranSplitName = (typeof QURAN_SPLITS)[number];

/** One verse after the mapping, with its place in the file. */
export interface QuranVerse extends MappedVerse {
  chapter: number;
  verse: number;
}

/** The label of the chapter permutation's seed: deriveSeed(seed, SPLIT_SEED_LABEL). */
export const SPLIT_SEED_LABEL = 'ar-diacritics/split';

/** Share of all verses that test, then validation, fill before the rest goes to train. */
const SPLIT_SHARE: Record<'test' | 'validation', number> = { test: 0.1, validation: 0.1 };

/**
 * Chapters per split (data_spec.md, section 2): the sorted chapter numbers permuted by
 * seededPermutation(n, deriveSeed(seed, 'ar-diacritics/split')); in that order a chapter goes to test
 * while test holds fewer than 10% of all verses, else to validation likewise, else to train. Sorted lists.
 */
export function splitChapters(verseCounts: ReadonlyMap<number, number>, seed: number): Record<QuranSplitName, number[]> {
  const chapters = [...verseCounts.keys()].sort((a, b) => a - b);
  const order = seededPermutation(chapters.length, deriveSeed(seed, SPLIT_SEED_LABEL));
  const total = [...verseCounts.values()].reduce((a, b) => a + b, 0);
  const got = { test: 0, validation: 0 };
  const out: Record<QuranSplitName, number[]> = { train: [], validation: [], test: [] };
  for (const k of order) {
    const c = chapters[k]!;
    const name = (['test', 'validation'] as const).find((s) => got[s] < SPLIT_SHARE[s] * total) ?? 'train';
    if (name !== 'train') got[name] += verseCounts.get(c)!;
    out[name].push(c);
  }
  for (const s of QURAN_SPLITS) out[s].sort((a, b) => a - b);
  return out;
}

/** Verses per split after the cross-split dedup, and what it removed. */
export interface QuranSplit {
  chapters: Record<QuranSplitName, number[]>;
  verses: Record<QuranSplitName, QuranVerse[]>;
  versesBeforeDedup: Record<QuranSplitName, number>;
  removed: Record<QuranSplitName, number>;
  versesAfterDedup: Record<QuranSplitName, number>;
  /** Kept verses whose undiacritised string (not their marks) occurs in an earlier split. */
  keptButSameUndiacritisedInEarlierSplit: Record<QuranSplitName, number>;
}

/** The dedup key of a verse: its mapped diacritised form (characters + classes). */
function diacritisedKey(v: MappedVerse): string {
  return `${v.chars.join('')}\u0000${v.classes.join(',')}`;
}

/**
 * Assigns verses (in file order) to splits by chapter and removes, from a later split (order train,
 * validation, test), every verse whose mapped diacritised form occurs in an earlier split. Duplicates inside
 * one split stay. The twin of ar_data.py's `build` (split part).
 */
export function splitVerses(verses: readonly QuranVerse[], seed: number): QuranSplit {
  const counts = new Map<number, number>();
  for (const v of verses) counts.set(v.chapter, (counts.get(v.chapter) ?? 0) + 1);
  const chapters = splitChapters(counts, seed);
  const splitOf = new Map<number, QuranSplitName>();
  for (const s of QURAN_SPLITS) for (const c of chapters[s]) splitOf.set(c, s);
  const seen = new Map<QuranSplitName, Set<string>>(QURAN_SPLITS.map((s) => [s, new Set()]));
  const seenPlain = new Map<QuranSplitName, Set<string>>(QURAN_SPLITS.map((s) => [s, new Set()]));
  for (const v of verses) {
    seen.get(splitOf.get(v.chapter)!)!.add(diacritisedKey(v));
    seenPlain.get(splitOf.get(v.chapter)!)!.add(v.chars.join(''));
  }
  const zero = (): Record<QuranSplitName, number> => ({ train: 0, validation: 0, test: 0 });
  const out: QuranSplit = {
    chapters, verses: { train: [], validation: [], test: [] }, versesBeforeDedup: zero(), removed: zero(), versesAfterDedup: zero(), keptButSameUndiacritisedInEarlierSplit: zero(),
  };
  for (const v of verses) {
    const s = splitOf.get(v.chapter)!;
    out.versesBeforeDedup[s] += 1;
    const earlier = QURAN_SPLITS.slice(0, QURAN_SPLITS.indexOf(s));
    if (earlier.some((e) => seen.get(e)!.has(diacritisedKey(v)))) {
      out.removed[s] += 1;
      continue;
    }
    if (earlier.some((e) => seenPlain.get(e)!.has(v.chars.join('')))) out.keptButSameUndiacritisedInEarlierSplit[s] += 1;
    out.verses[s].push(v);
  }
  for (const s of QURAN_SPLITS) out.versesAfterDedup[s] = out.verses[s].length;
  return out;
}
