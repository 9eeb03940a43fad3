import { DataError } from '../errors.ts';

/** The built-in character tokenizer's vocabulary file (COMMON.md char-vocab JSON). */
export interface CharVocabulary {
  kind: 'char';
  normalization: 'NFC';
  pad: '<pad>';
  unk: '<unk>';
  /** id = index; `<pad>` = 0, `<unk>` = 1, then the characters. */
  symbols: string[];
}

/** Id of the padding symbol. */
export const PAD_ID = 0;
/** Id of the unknown symbol. */
export const UNK_ID = 1;

/**
 * Builds a character vocabulary from (NFC-normalised) texts, normally the train split only:
 * `<pad>`, `<unk>`, then every distinct code point sorted by code point. `counts[id]` = occurrences
 * (0 for pad and unk). Characters are code points, not UTF-16 units (an astral character is one symbol).
 */
export function buildCharVocabulary(texts: Iterable<string>): { vocabulary: CharVocabulary; counts: number[] } {
  const seen = new Map<string, number>();
  for (const text of texts) {
    for (const ch of text.normalize('NFC')) seen.set(ch, (seen.get(ch) ?? 0) + 1);
  }
  const chars = [...seen.keys()].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const symbols = ['<pad>', '<unk>', ...chars];
  return {
    vocabulary: { kind: 'char', normalization: 'NFC', pad: '<pad>', unk: '<unk>', symbols },
    counts: [0, 0, ...chars.map((c) => seen.get(c)!)],
  };
}

/** Checks a parsed char-vocab JSON; a DataError names the file and what is wrong. */
export function parseCharVocabulary(value: unknown, file: string): CharVocabulary {
  const v = value as Partial<CharVocabulary> | null;
  const bad = (what: string): DataError => new DataError(`${file}: not a char vocabulary (${what}; expected {"kind":"char","normalization":"NFC","pad":"<pad>","unk":"<unk>","symbols":["<pad>","<unk>",...]})`);
  if (!v || typeof v !== 'object' || v.kind !== 'char') throw bad('kind is not "char"');
  if (v.normalization !== 'NFC') throw bad(`normalization is ${JSON.stringify(v.normalization)}`);
  if (!Array.isArray(v.symbols) || v.symbols[0] !== '<pad>' || v.symbols[1] !== '<unk>') throw bad('symbols must start with "<pad>", "<unk>"');
  if (new Set(v.symbols).size !== v.symbols.length) throw bad('symbols has duplicates');
  return v as CharVocabulary;
}

/** Encodes text with a char vocabulary: NFC, one id per code point, unknown characters -> `<unk>` (counted). */
export class CharEncoder {
  private readonly ids: Map<string, number>;
  /** Characters encoded as `<unk>` so far. */
  unknown = 0;

  constructor(readonly vocabulary: CharVocabulary) {
    this.ids = new Map(vocabulary.symbols.slice(2).map((s, i) => [s, i + 2]));
  }

  /** Vocabulary size (symbols, pad and unk included). */
  get vocabSize(): number {
    return this.vocabulary.symbols.length;
  }

  /** One id per code point of the NFC text. */
  encode(text: string): Int32Array {
    const s = text.normalize('NFC');
    const out = new Int32Array(s.length); // UTF-16 units >= code points
    let n = 0;
    for (const ch of s) {
      const id = this.ids.get(ch);
      if (id === undefined) this.unknown++;
      out[n++] = id ?? UNK_ID;
    }
    return n === out.length ? out : out.slice(0, n);
  }
}
