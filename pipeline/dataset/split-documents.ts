import { createHash } from 'node:crypto';
import { ConfigError, DataError } from '../errors.ts';
import { deriveSeed, seededPermutation } from '../seeded-random.ts';

/** A text document: its id, text and per-document slice values (e.g. genre). */
export interface TextDocument {
  id: string;
  text: string;
  /** Where it came from, for error messages: `file` or `file row N`. */
  where: string;
  slices: Record<string, string | number>;
  /** classification: the document's class. */
  label?: number;
  /** token-classification with the char tokenizer: a class (or -100) per character of the NFC text. */
  labels?: number[];
}

/** Split fractions in split order, e.g. { train: 0.8, validation: 0.1, test: 0.1 }. */
export type SplitFractions = Record<string, number>;

/**
 * Assigns documents to splits by document (never a window across splits): ids sorted, permuted by
 * seededPermutation(n, deriveSeed(seed, 'data/split')); every split but the first gets
 * round(fraction * n) documents in order, the first split gets the rest. Returns ids per split,
 * ascending. Reproducible from (ids, seed, fractions) alone.
 */
export function splitDocuments(ids: readonly string[], seed: number, fractions: SplitFractions): Record<string, string[]> {
  const names = Object.keys(fractions);
  const sum = Object.values(fractions).reduce((a, b) => a + b, 0);
  if (names.length === 0 || Object.values(fractions).some((f) => !(f >= 0)) || Math.abs(sum - 1) > 1e-9) {
    throw new ConfigError(`split fractions must be >= 0 and sum to 1, but got ${JSON.stringify(fractions)}`);
  }
  const sorted = [...ids].sort();
  if (new Set(sorted).size !== sorted.length) throw new DataError(`document ids are not unique (e.g. "${sorted.find((id, i) => sorted[i + 1] === id)}")`);
  const perm = seededPermutation(sorted.length, deriveSeed(seed, 'data/split'));
  const out: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
  let at = 0;
  for (const name of names.slice(1)) {
    const k = Math.round(fractions[name]! * sorted.length);
    for (let i = 0; i < k && at < sorted.length; i++) out[name]!.push(sorted[perm[at++]!]!);
  }
  while (at < sorted.length) out[names[0]!]!.push(sorted[perm[at++]!]!);
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** sha256 of a document's UTF-8 text: the key of exact-duplicate removal. */
export function textKey(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Removes exact duplicates across splits: in split order, a document whose key equals that of a
 * document in an earlier split is dropped from the later one. Duplicates inside one split stay.
 * Returns the kept documents per split (order kept) and the removed ones with the id they repeat.
 */
export function removeCrossSplitDuplicates<T extends { id: string }>(
  splits: Record<string, readonly T[]>,
  key: (doc: T) => string,
): { kept: Record<string, T[]>; removed: { split: string; id: string; sameAs: string }[] } {
  const earlier = new Map<string, string>();
  const kept: Record<string, T[]> = {};
  const removed: { split: string; id: string; sameAs: string }[] = [];
  for (const [split, docs] of Object.entries(splits)) {
    const here = new Map<string, string>();
    kept[split] = [];
    for (const d of docs) {
      const k = key(d);
      const prior = earlier.get(k);
      if (prior !== undefined) removed.push({ split, id: d.id, sameAs: prior });
      else {
        kept[split].push(d);
        if (!here.has(k)) here.set(k, d.id);
      }
    }
    for (const [k, id] of here) earlier.set(k, id);
  }
  return { kept, removed };
}
