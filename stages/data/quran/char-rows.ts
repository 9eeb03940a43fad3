import { createHash } from 'node:crypto';
import { DIACRITIC_CLASSES } from './diacritic-tables.ts';
import type { QuranVerse } from './quran-split.ts';

/** Label of positions that are not scored (spaces, padding). */
export const IGNORE_INDEX = -100;

/** The rows of one split of a character-level token-classification dataset (row-major, `context` values per row). */
export interface CharRows {
  context: number;
  rows: number;
  inputIds: Int32Array;
  attentionMask: Uint8Array;
  labels: Int16Array;
  length: Int32Array;
  wordFinal: Uint8Array;
  chapter: Int32Array;
  verse: Int32Array;
  record: CharRowsRecord;
}

/** Counts and hashes of a split, as in data-record.json `splits.<split>`. */
export interface CharRowsRecord {
  verses: number;
  windows: number;
  letters: number;
  wordFinalLetters: number;
  spaces: number;
  forcedMidWordCuts: number;
  unkTokens: number;
  classCounts: Record<string, number>;
  /** sha256 of the little-endian int32 values of each column over all rows (padding included). */
  sha256: { input_ids: string; labels: string; word_final: string; length: string; attention_mask: string };
}

/**
 * Windows of a verse of n characters (data_spec.md, section 4): at most `context` characters each; a longer
 * rest is cut at the last space at offset 1..context from its start (that space is in no window), or, with
 * no such space, at start + context (a forced mid-word cut).
 */
export function cutWindows(chars: readonly string[], context: number): { spans: [number, number][]; forced: number } {
  const spans: [number, number][] = [];
  let start = 0;
  let forced = 0;
  while (chars.length - start > context) {
    let cut = -1;
    for (let k = start + context; k >= start + 1; k--) {
      if (chars[k] === ' ') {
        cut = k;
        break;
      }
    }
    if (cut < 0) {
      spans.push([start, start + context]);
      start += context;
      forced += 1;
    } else {
      spans.push([start, cut]);
      start = cut + 1;
    }
  }
  spans.push([start, chars.length]);
  return { spans, forced };
}

function int32Sha(values: ArrayLike<number>): string {
  const buf = Int32Array.from(values);
  return createHash('sha256').update(new Uint8Array(buf.buffer)).digest('hex');
}

/**
 * The rows of one split (data_spec.md, section 4): verses in the given order, windows in order; ids from
 * `symbolIds` (unknown characters -> `unkId`), labels = class ids with -100 on spaces and padding,
 * word_final = 1 at a letter whose next character in the verse is a space or the verse end.
 * The twin of ar_data.py's `make_rows`.
 */
export function charRows(verses: readonly QuranVerse[], symbolIds: ReadonlyMap<string, number>, context: number, unkId = 1): CharRows {
  const spans: { v: QuranVerse; a: number; b: number }[] = [];
  let forced = 0;
  for (const v of verses) {
    const cut = cutWindows(v.chars, context);
    forced += cut.forced;
    for (const [a, b] of cut.spans) spans.push({ v, a, b });
  }
  const n = spans.length;
  const out = {
    inputIds: new Int32Array(n * context), attentionMask: new Uint8Array(n * context), labels: new Int16Array(n * context).fill(IGNORE_INDEX),
    wordFinal: new Uint8Array(n * context), length: new Int32Array(n), chapter: new Int32Array(n), verse: new Int32Array(n),
  };
  const classCounts = new Array<number>(DIACRITIC_CLASSES.length).fill(0);
  let unk = 0;
  let wordFinalLetters = 0;
  spans.forEach(({ v, a, b }, r) => {
    out.length[r] = b - a;
    out.chapter[r] = v.chapter;
    out.verse[r] = v.verse;
    for (let k = a; k < b; k++) {
      const at = r * context + (k - a);
      const ch = v.chars[k]!;
      const id = symbolIds.get(ch);
      if (id === undefined) unk += 1;
      out.inputIds[at] = id ?? unkId;
      out.attentionMask[at] = 1;
      if (ch === ' ') continue;
      out.labels[at] = v.classes[k]!;
      classCounts[v.classes[k]!]! += 1;
      if (k + 1 === v.chars.length || v.chars[k + 1] === ' ') {
        out.wordFinal[at] = 1;
        wordFinalLetters += 1;
      }
    }
  });
  const letters = classCounts.reduce((x, y) => x + y, 0);
  const realChars = out.length.reduce((x, y) => x + y, 0);
  const record: CharRowsRecord = {
    verses: verses.length, windows: n, letters, wordFinalLetters, spaces: realChars - letters, forcedMidWordCuts: forced, unkTokens: unk,
    classCounts: Object.fromEntries(DIACRITIC_CLASSES.map((c, i) => [c, classCounts[i]!])),
    sha256: {
      input_ids: int32Sha(out.inputIds), labels: int32Sha(out.labels), word_final: int32Sha(out.wordFinal),
      length: int32Sha(out.length), attention_mask: int32Sha(out.attentionMask),
    },
  };
  return { context, rows: n, ...out, record };
}
