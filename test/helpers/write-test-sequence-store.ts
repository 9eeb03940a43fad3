/**
 * Tiny per-position (sequence) store shards for student tests, written with the store contract's own
 * writer (shardTable) and read back through Parquet and decodeShard, so tests train from exactly what
 * a store holds. The "teacher" is a seeded bigram table: the logits at position t depend on token t.
 * Sampled draws use a plain seeded generator (not the store's counter-based one; tests need only
 * N draws from softmax(z / T_c)).
 */
import { decodeTable, encodeTable } from '../../pipeline/io/table-files.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { decodeShard } from '../../pipeline/store/decode-shard.ts';
import type { ShardColumns } from '../../pipeline/store/shard-table.ts';
import { shardTable } from '../../pipeline/store/shard-table.ts';
import type { ShardTargets, StoreEncoding } from '../../pipeline/store/soft-target-store.ts';

/** A tiny token split: rows * L ids, right-padded (pad id 0), with their lengths. */
export interface TinyTokens {
  rows: number;
  context: number;
  vocab: number;
  ids: Int32Array;
  mask: Uint8Array;
  length: Int32Array;
}

/** Seeded rows of hand-made token ids in [2, V) (0 = pad, 1 = unk), lengths between L/2 and L. */
export function tinyTokens(rows: number, context: number, vocab: number, seed: number): TinyTokens {
  const r = mulberry32(seed);
  const ids = new Int32Array(rows * context);
  const mask = new Uint8Array(rows * context);
  const length = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    length[i] = Math.ceil(context / 2) + Math.floor(r() * (context - Math.ceil(context / 2) + 1));
    for (let t = 0; t < length[i]!; t++) {
      ids[i * context + t] = 2 + Math.floor(r() * (vocab - 2));
      mask[i * context + t] = 1;
    }
  }
  return { rows, context, vocab, ids, mask, length };
}

/** The encoding of a tiny store: P = L - 1 next-token positions (causal LM). */
export function tinyEncoding(mode: StoreEncoding['mode'], vocab: number, context: number, temperature = 2): StoreEncoding {
  const base = { precision: 'float32' as const, classes: vocab, positions: context - 1, target: 'next-token' as const };
  if (mode === 'dense') return { mode, ...base };
  if (mode === 'topk') return { mode, ...base, k: 3, temperature };
  return { mode, ...base, temperature, samples: 8, slots: 8, seed: 5 };
}

function softmaxRow(z: Float32Array, t: number): number[] {
  const m = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp((v - m) / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function topkColumns(z: Float32Array, k: number, t: number, cols: { idx: Uint32Array; logit: Float32Array; tail: Float32Array }, at: number): void {
  const row = Array.from(z);
  const order = row.map((_, j) => j).sort((a, b) => (row[b] !== row[a] ? row[b]! - row[a]! : a - b));
  const rest = order.slice(k).map((j) => row[j]! / t);
  const m = Math.max(...rest);
  order.slice(0, k).forEach((j, s) => {
    cols.idx[at * k + s] = j;
    cols.logit[at * k + s] = row[j]!;
  });
  cols.tail[at] = m + Math.log(rest.reduce((s, v) => s + Math.exp(v - m), 0));
}

/** N draws from the distribution `p` by inverse CDF with the generator `r`: class -> times drawn. */
export function drawCounts(p: ArrayLike<number>, n: number, r: () => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (let s = 0; s < n; s++) {
    let u = r();
    let j = 0;
    while (j < p.length - 1 && u >= p[j]!) u -= p[j++]!;
    counts.set(j, (counts.get(j) ?? 0) + 1);
  }
  return counts;
}

function sampleColumns(z: Float32Array, n: number, m: number, t: number, r: () => number, idx: Int32Array, count: Uint16Array, at: number): void {
  const counts = drawCounts(softmaxRow(z, t), n, r);
  const slots = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  slots.forEach(([j, c], s) => {
    idx[at * m + s] = j;
    count[at * m + s] = c;
  });
}

/**
 * The per-position teacher logits of a split, [rows * P * V] (zeros at padding positions), from a
 * seeded bigram table scaled by 4.
 */
export function bigramTeacher(tokens: TinyTokens, seed: number): Float32Array {
  const { rows, context: l, vocab: v } = tokens;
  const r = mulberry32(seed);
  const table = Float32Array.from({ length: v * v }, () => (r() - 0.5) * 8);
  const p = l - 1;
  const out = new Float32Array(rows * p * v);
  for (let i = 0; i < rows; i++) {
    for (let t = 0; t < tokens.length[i]! - 1; t++) out.set(table.subarray(tokens.ids[i * l + t]! * v, (tokens.ids[i * l + t]! + 1) * v), (i * p + t) * v);
  }
  return out;
}

/** The shard columns of `tokens` under `encoding` from per-position teacher logits. */
export function sequenceColumns(tokens: TinyTokens, logits: Float32Array, encoding: StoreEncoding, seed = 9): ShardColumns {
  const { rows, vocab: v } = tokens;
  const p = encoding.positions!;
  const base = { rowStart: 0, rows, length: Int32Array.from(tokens.length) };
  if (encoding.mode === 'dense') return { ...base, logits };
  const at = (i: number, t: number): Float32Array => logits.subarray((i * p + t) * v, (i * p + t + 1) * v);
  if (encoding.mode === 'topk') {
    const k = encoding.k!;
    const cols = { idx: new Uint32Array(rows * p * k), logit: new Float32Array(rows * p * k), tail: new Float32Array(rows * p) };
    for (let i = 0; i < rows; i++) for (let t = 0; t < tokens.length[i]! - 1; t++) topkColumns(at(i, t), k, encoding.temperature!, cols, i * p + t);
    return { ...base, topkIndex: cols.idx, topkLogit: cols.logit, tailLogSumExp: cols.tail };
  }
  const m = encoding.slots!;
  const r = mulberry32(seed);
  const idx = new Int32Array(rows * p * m);
  const count = new Uint16Array(rows * p * m);
  for (let i = 0; i < rows; i++) for (let t = 0; t < tokens.length[i]! - 1; t++) sampleColumns(at(i, t), encoding.samples!, m, encoding.temperature!, r, idx, count, i * p + t);
  return { ...base, sampleIndex: idx, sampleCount: count };
}

/** Writes the columns as one Parquet shard in memory and reads it back through decodeShard. */
export function roundTripShard(encoding: StoreEncoding, cols: ShardColumns): ShardTargets {
  const name = 'train/part-00000.parquet';
  const table = decodeTable(encodeTable(shardTable(encoding, cols), 'parquet'), 'parquet', name);
  return decodeShard(table, encoding, { split: 'train', index: 0, rowStart: 0, rowEnd: cols.rows, name });
}
