/**
 * The ar-diacritics split, dedup and windows (data_spec.md sections 2 and 4) on hand-made verses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSeed, seededPermutation } from '../../../../pipeline/seeded-random.ts';
import { IGNORE_INDEX, charRows, cutWindows } from '../../../../stages/data/quran/char-rows.ts';
import { SPLIT_SEED_LABEL, splitChapters, splitVerses } from '../../../../stages/data/quran/quran-split.ts';
import type { QuranVerse } from '../../../../stages/data/quran/quran-split.ts';

test('the chapter permutation seed and its first entries are those of ar_data.py --selftest', () => {
  assert.equal(deriveSeed(20251201, SPLIT_SEED_LABEL), 145486841);
  assert.deepEqual([...seededPermutation(114, 145486841).subarray(0, 8)], [38, 101, 37, 13, 98, 94, 95, 82]);
});

test('chapters fill test, then validation, while each holds < 10% of all verses; the rest is train', () => {
  const counts = new Map(Array.from({ length: 20 }, (_, i) => [i + 1, 5] as [number, number]));
  const split = splitChapters(counts, 7);
  // 100 verses: test takes chapters until it holds 10 (two chapters of 5), validation likewise
  assert.equal(split.test.length, 2);
  assert.equal(split.validation.length, 2);
  assert.equal(split.train.length, 16);
  const order = [...seededPermutation(20, deriveSeed(7, SPLIT_SEED_LABEL))].map((k) => k + 1);
  assert.deepEqual(split.test, order.slice(0, 2).sort((a, b) => a - b));
  assert.deepEqual(split.validation, order.slice(2, 4).sort((a, b) => a - b));
});

function verse(chapter: number, v: number, text: string, classes?: number[]): QuranVerse {
  const chars = Array.from(text);
  return { chapter, verse: v, chars, classes: classes ?? chars.map((c) => (c === ' ' ? 0 : 1)) };
}

test('dedup removes a verse whose diacritised form is in an earlier split; same letters with other marks stay and are counted', () => {
  // 10 one-verse chapters: test gets the first chapter of the order, validation the second, train the rest
  const counts = new Map(Array.from({ length: 10 }, (_, i) => [i + 1, 1] as [number, number]));
  const { test: [testCh], validation: [valCh] } = splitChapters(counts, 3);
  const trainCh = [...counts.keys()].filter((c) => c !== testCh && c !== valCh);
  const verses = [
    ...trainCh.map((c, i) => verse(c!, 1, i === 0 ? '\u0628\u062a' : `\u0644${'\u0645'.repeat(i)}`)),
    verse(valCh!, 1, '\u0628\u062a', [2, 2]), // same letters as a train verse, other marks: kept
    verse(testCh!, 1, '\u0628\u062a'), // same letters and marks as the train verse: removed
  ].sort((a, b) => a.chapter - b.chapter);
  const out = splitVerses(verses, 3);
  assert.deepEqual(out.removed, { train: 0, validation: 0, test: 1 });
  assert.deepEqual(out.keptButSameUndiacritisedInEarlierSplit, { train: 0, validation: 1, test: 0 });
  assert.deepEqual(out.versesBeforeDedup, { train: 8, validation: 1, test: 1 });
  assert.equal(out.verses.test.length, 0);
});

test('windows cut at the last space within L (the space belongs to no window); a word longer than L is cut by force', () => {
  assert.deepEqual(cutWindows(Array.from('ab cd ef'), 5), { spans: [[0, 5], [6, 8]], forced: 0 });
  assert.deepEqual(cutWindows(Array.from('abcdefg'), 3), { spans: [[0, 3], [3, 6], [6, 7]], forced: 2 });
  assert.deepEqual(cutWindows(Array.from('abc'), 3), { spans: [[0, 3]], forced: 0 });
  assert.deepEqual(cutWindows(Array.from(' abc d'), 4), { spans: [[0, 4], [5, 6]], forced: 0 }, 'a space at offset 0 is not a cut point');
});

test('rows: ids, labels -100 on spaces and padding, word_final at a letter before a space or the verse end (also across a window cut)', () => {
  const ids = new Map([['a', 2], ['b', 3], [' ', 4]]);
  const v = verse(1, 1, 'ab ba a', [5, 6, 0, 7, 8, 0, 9]);
  const rows = charRows([v, verse(1, 2, 'z', [1])], ids, 5);
  assert.equal(rows.rows, 3);
  assert.deepEqual([...rows.length], [5, 1, 1]);
  assert.deepEqual([...rows.inputIds], [2, 3, 4, 3, 2, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual([...rows.labels], [5, 6, IGNORE_INDEX, 7, 8, 9, -100, -100, -100, -100, 1, -100, -100, -100, -100]);
  assert.deepEqual([...rows.wordFinal], [0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual([...rows.attentionMask], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual([...rows.verse], [1, 1, 2]);
  assert.equal(rows.record.unkTokens, 1);
  assert.equal(rows.record.letters, 6);
  assert.equal(rows.record.spaces, 1);
  assert.equal(rows.record.wordFinalLetters, 4);
});
