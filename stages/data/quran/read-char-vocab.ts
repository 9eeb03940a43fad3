import { readFile } from 'node:fs/promises';
import { DataError } from '../../../pipeline/errors.ts';

/** A character vocabulary file (COMMON.md): `{"kind":"char","normalization":"NFC","pad":"<pad>","unk":"<unk>","symbols":[...]}`. */
export interface CharVocab {
  /** The file's exact bytes (copied into the dataset; its sha256 is what cards compare). */
  bytes: Buffer;
  symbols: string[];
  /** id of each symbol (its index). */
  ids: Map<string, number>;
}

/** Reads and checks a char vocabulary: pad id 0, unk id 1, distinct single-code-point symbols after them. */
export async function readCharVocab(path: string): Promise<CharVocab> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read the character vocabulary (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let v: { kind?: unknown; normalization?: unknown; pad?: unknown; unk?: unknown; symbols?: unknown };
  try {
    v = JSON.parse(bytes.toString('utf8')) as typeof v;
  } catch (err) {
    throw new DataError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (v.kind !== 'char') throw new DataError(`${path}: "kind" must be "char", but is ${JSON.stringify(v.kind)}`);
  if (v.normalization !== 'NFC') throw new DataError(`${path}: "normalization" must be "NFC", but is ${JSON.stringify(v.normalization)}`);
  const symbols = v.symbols;
  if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === 'string')) throw new DataError(`${path}: "symbols" must be a list of strings`);
  if (symbols[0] !== v.pad || symbols[1] !== v.unk) throw new DataError(`${path}: symbols[0] must be the pad symbol and symbols[1] the unk symbol (${JSON.stringify(v.pad)}, ${JSON.stringify(v.unk)})`);
  const ids = new Map<string, number>();
  symbols.forEach((s: string, i: number) => {
    if (i >= 2 && Array.from(s).length !== 1) throw new DataError(`${path}: symbols[${i}] is ${JSON.stringify(s)}, expected one character`);
    if (ids.has(s)) throw new DataError(`${path}: symbols[${i}] repeats symbols[${ids.get(s)}]`);
    ids.set(s, i);
  });
  return { bytes, symbols: symbols as string[], ids };
}
