/**
 * Encodes a shard's teacher outputs batch by batch into the store's columns, so a shard never holds
 * more than its encoded targets (a sequence teacher's [B, L, V] output is reduced as it arrives).
 * Classification: one target of C logits per row. Per-position: P positions of V logits per row; only
 * a row's first targetPositions(target, length) positions are encoded, the rest stay empty (zeros,
 * or empty sample slots) and are never checked for NaN/Inf. View store: K targets of C logits per row
 * (row-major by row, view), with the views' parameters alongside.
 */
import type { ShardColumns } from '../../pipeline/store/shard-table.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { targetPositions, targetsPerRow } from '../../pipeline/store/soft-target-store.ts';
import type { ViewParams } from '../../pipeline/augment/view-policy.ts';
import { encodeTopK } from './encode-topk.ts';
import { applyNonFinitePolicy, nonFiniteError } from './non-finite.ts';
import type { NonFiniteReport } from './non-finite.ts';
import { positionKey, samplePosition, splitKey } from './sample-targets.ts';

/** Where a shard's rows come from. */
export interface ShardEncoderPlace {
  split: string;
  rowStart: number;
  rows: number;
  /** Per-position store: real tokens per row of the shard. */
  length?: Int32Array;
  /** Per-position store: tokens L per row of the teacher's output (P, or P + 1 for next-token). */
  context?: number;
  nonFinite: 'error' | 'zero';
  /** View store: the parameters of the shard's rows * K views (written as its view columns). */
  viewParams?: ViewParams;
}

/**
 * A batch already reduced to top-k by the teacher's graph (pipeline/teacher/top-k-graph.ts), per
 * target of the output (n, n * K views, or n * L positions): k ids and logits, the tail log-sum-exp at
 * T_c, the NaN/Inf count of its logits (zeroed in the graph before the reduction).
 */
export interface ReducedTopK {
  index: Int32Array;
  logit: Float32Array;
  /** null when k = V: the tail is empty (-Infinity). */
  tail: Float32Array | null;
  nonFinite: Int32Array;
}

/** The encoder of one shard. */
export interface ShardEncoder {
  /** Adds the teacher output of shard rows [from, from + n): n * C, n * K * C for K views, or n * L * V per-position. */
  add(from: number, n: number, output: Float32Array): void;
  /**
   * Top-k stores: adds the graph-reduced outputs of shard rows [from, from + n), the same values `add`
   * would store (up to float rounding), keeping target positions only. NaN/Inf counts follow the
   * nonFinite policy as in `add` (`error` throws naming the rows; the graph already stored 0 for them).
   */
  addReduced(from: number, n: number, reduced: ReducedTopK): void;
  /** The encoded columns (call after the last batch). */
  columns(): ShardColumns;
  /** NaN/Inf found so far (target positions only). */
  readonly nonFinite: NonFiniteReport;
}

/** A new encoder for one shard. */
export function shardEncoder(encoding: StoreEncoding, place: ShardEncoderPlace): ShardEncoder {
  const p = targetsPerRow(encoding);
  const v = encoding.classes;
  const rows = place.rows;
  const cols: ShardColumns = { rowStart: place.rowStart, rows, ...(place.length ? { length: place.length } : {}), ...(place.viewParams ? { viewParams: place.viewParams } : {}) };
  if (encoding.mode === 'dense') cols.logits = new Float32Array(rows * p * v);
  if (encoding.mode === 'topk') {
    cols.topkIndex = new Uint32Array(rows * p * encoding.k!);
    cols.topkLogit = new Float32Array(rows * p * encoding.k!);
    cols.tailLogSumExp = new Float32Array(rows * p);
  }
  const m = encoding.slots ?? 0;
  if (encoding.mode === 'sampled') {
    cols.sampleIndex = new Int32Array(rows * p * m).fill(-1);
    cols.sampleCount = new Uint16Array(rows * p * m);
  }
  const scratch = { u: new Float64Array(encoding.samples ?? 0), p: new Float64Array(v) };
  const split = splitKey(place.split);
  const nonFinite: NonFiniteReport = { count: 0, rows: [] };
  const targetsOf = (r: number): number => (place.length ? targetPositions(encoding.target, place.length[r]!) : p);

  /** The batch's target logits, n * P * V, padding positions zero. */
  const targetLogits = (from: number, n: number, output: Float32Array): Float32Array => {
    if (encoding.positions === undefined) return output;
    const l = place.context!;
    const buf = new Float32Array(n * p * v);
    for (let r = 0; r < n; r++) buf.set(output.subarray(r * l * v, (r * l + targetsOf(from + r)) * v), r * p * v);
    return buf;
  };

  const add = (from: number, n: number, output: Float32Array): void => {
    const z = targetLogits(from, n, output);
    const nf = applyNonFinitePolicy(z, p * v, place.rowStart + from, place.nonFinite, place.split);
    nonFinite.count += nf.count;
    nonFinite.rows.push(...nf.rows);
    if (encoding.mode === 'dense') cols.logits!.set(z, from * p * v);
    else if (encoding.mode === 'topk') addTopK(from, n, z);
    else addSamples(from, n, z);
  };

  const addTopK = (from: number, n: number, z: Float32Array): void => {
    const k = encoding.k!;
    const enc = encodeTopK(z, n * p, v, k, encoding.temperature!);
    for (let r = 0; r < n; r++) {
      const t = targetsOf(from + r);
      const pos = (from + r) * p;
      cols.topkIndex!.set(enc.index.subarray(r * p * k, (r * p + t) * k), pos * k);
      cols.topkLogit!.set(enc.logit.subarray(r * p * k, (r * p + t) * k), pos * k);
      cols.tailLogSumExp!.set(enc.tailLogSumExp.subarray(r * p, r * p + t), pos);
    }
  };

  const addSamples = (from: number, n: number, z: Float32Array): void => {
    for (let r = 0; r < n; r++) {
      const row = place.rowStart + from + r;
      const t = targetsOf(from + r);
      for (let pos = 0; pos < t; pos++) {
        const out = { index: cols.sampleIndex!, count: cols.sampleCount!, at: ((from + r) * p + pos) * m, slots: m };
        const key = positionKey(encoding.seed!, split, row, encoding.positions === undefined ? 0 : pos);
        samplePosition(z, (r * p + pos) * v, v, encoding.temperature!, encoding.samples!, key, out, scratch);
      }
    }
  };

  /** Targets per row of the graph's outputs: L positions (per-position), K views, or 1. */
  const outPerRow = encoding.positions !== undefined ? place.context! : p;

  const addReduced = (from: number, n: number, red: ReducedTopK): void => {
    const k = encoding.k!;
    const bad: number[] = [];
    let count = 0;
    for (let r = 0; r < n; r++) {
      const t = targetsOf(from + r);
      const src = r * outPerRow;
      const dst = (from + r) * p;
      let rowBad = 0;
      for (let i = 0; i < t; i++) rowBad += red.nonFinite[src + i]!;
      if (rowBad > 0) {
        count += rowBad;
        bad.push(place.rowStart + from + r);
      }
      for (let i = 0; i < t * k; i++) cols.topkIndex![dst * k + i] = red.index[src * k + i]!;
      cols.topkLogit!.set(red.logit.subarray(src * k, (src + t) * k), dst * k);
      if (red.tail) cols.tailLogSumExp!.set(red.tail.subarray(src, src + t), dst);
      else cols.tailLogSumExp!.fill(-Infinity, dst, dst + t);
    }
    if (count > 0 && place.nonFinite === 'error') throw nonFiniteError(place.split, bad);
    nonFinite.count += count;
    nonFinite.rows.push(...bad);
  };

  return { add, addReduced, columns: () => cols, nonFinite };
}
