import { createHash } from 'node:crypto';
import type { CausalWindow } from './causal-windows.ts';

/** Counts and hashes of one split (data-record.json `splits.<split>` of lm-brown). */
export interface BrownSplitRecord {
  documents: number;
  windows: number;
  tokens: number;
  documentTokens: number;
  paddedWindows: number;
  targets: number;
  inputIdsSha256: string;
  lengthSha256: string;
  documentSha256: string;
}

/** The windows of one document. */
export interface DocumentWindows {
  document: number;
  /** Tokens of the whole document (before windowing). */
  tokens: number;
  windows: CausalWindow[];
}

function int32Bytes(values: Int32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * The record of one split, as build_data.py computes it: sha256 of the little-endian int32 concatenation
 * of `input_ids` (padding included), of `length` and of `document` over the rows in order; targets =
 * sum of length - 1.
 */
export function brownSplitRecord(docs: readonly DocumentWindows[], context: number): BrownSplitRecord {
  const ids = createHash('sha256');
  const lengths: number[] = [];
  const documents: number[] = [];
  let documentTokens = 0;
  for (const d of docs) {
    documentTokens += d.tokens;
    for (const w of d.windows) {
      ids.update(int32Bytes(w.ids));
      lengths.push(w.length);
      documents.push(d.document);
    }
  }
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const sha = (v: number[]): string => createHash('sha256').update(int32Bytes(Int32Array.from(v))).digest('hex');
  return {
    documents: docs.length,
    windows: lengths.length,
    tokens,
    documentTokens,
    paddedWindows: lengths.filter((l) => l < context).length,
    targets: lengths.reduce((a, l) => a + Math.max(l - 1, 0), 0),
    inputIdsSha256: ids.digest('hex'),
    lengthSha256: sha(lengths),
    documentSha256: sha(documents),
  };
}

/** Occurrences of each id among the real tokens of the windows (`trainTokenCounts` when given the train split). */
export function tokenCounts(docs: readonly DocumentWindows[], vocabSize: number): number[] {
  const counts = new Array<number>(vocabSize).fill(0);
  for (const d of docs) for (const w of d.windows) for (let t = 0; t < w.length; t++) counts[w.ids[t]!]! += 1;
  return counts;
}

/** The frequency buckets of the train token counts (moved down to pipeline/: evaluate uses the same rule). */
export { frequencyBuckets } from '../../../pipeline/dataset/token-frequency-buckets.ts';
