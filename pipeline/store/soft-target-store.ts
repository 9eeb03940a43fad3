/**
 * The contract of a soft-target store (the cache of teacher outputs), shared by the stage that writes
 * it (stages/teacher-logits) and the stages that read it (train-student, evaluate, verify).
 * docs/store-format.md describes the layout; schemas/store-manifest.schema.json validates manifests.
 *
 * Layout:
 *   <store>/manifest.json               written last, atomically; `status: "complete"`
 *   <store>/<split>/part-00000.parquet   shard i of a split holds its rows [i*shardRows, (i+1)*shardRows)
 *
 * Shard columns: `row: int64`, then
 *   dense: `logits: fixed_size_list<float32|float16>[C]` (teacher logits; probs/log_probs outputs are
 *          converted to log-probabilities on capture, which are logits up to a per-row constant)
 *   topk:  `topk_index: fixed_size_list<uint16|uint32>[k]` (classes by descending logit, ties to the
 *          lower index), `topk_logit: fixed_size_list<float32|float16>[k]` (raw logits, not divided by
 *          T), `tail_lse: float32` = log sum_{j not in top-k} exp(z_j / T_capture), -Infinity when k = C.
 *   sampled: `sample_index: fixed_size_list<uint16|uint32>[m]`, `sample_count: fixed_size_list<uint16>[m]`:
 *          the distinct classes among N draws from softmax(z / T_c) and how often each was drawn
 *          (slots by descending count, ties to the lower index; an empty slot has count 0 and index 0).
 *
 * Per-position (sequence) stores (`positions` = P set): one row per dataset row, `row: int64`,
 * `length: int32` (the row's real tokens), then the columns above with P times the width, row-major by
 * (position, class/slot): dense `logits [P*V]`, topk `topk_index [P*k]`, `topk_logit [P*k]`,
 * `tail_lse: fixed_size_list<float32>[P]`, sampled `sample_index [P*m]`, `sample_count [P*m]`.
 * Only the first targetPositions(target, length) positions carry targets (right padding); every other
 * position is stored as zeros (dense/topk: logits, indices and tail_lse 0; sampled: empty slots).
 *
 * View stores (`views` set, classification only): K table rows per dataset row, ordered (row, view):
 * `row: int64`, `view: int32` (0..K-1; view 0 is the unaugmented input), the view's parameters
 * (image: `dx: int32`, `dy: int32`, `angle: float32` degrees, `scale: float32`; noise:
 * `noise_key: uint32`), then the dense or top-k columns above for that view. Decoded arrays hold
 * rows * K targets, row-major (row, view), as a per-position store holds rows * P.
 */
import type { ViewParams, ViewPolicy } from '../augment/view-policy.ts';

/** Encoding of the soft targets in a store. */
export interface StoreEncoding {
  mode: 'dense' | 'topk' | 'sampled';
  /** Precision of stored logits (topk: of topk_logit; tail_lse is always float32; sampled: unused). */
  precision: 'float32' | 'float16';
  /** Number of classes C of the teacher (the vocabulary size V of a sequence teacher). */
  classes: number;
  /** topk: classes kept per row (per position). */
  k?: number;
  /**
   * topk and sampled: capture temperature T_c (of tail_lse; of the distribution sampled from); a
   * student must train at T = T_c.
   */
  temperature?: number;
  /** Target positions P per row; absent = one target per row (the classification store). */
  positions?: number;
  /** With `positions`: `token` (position t is token t, P = L) or `next-token` (t predicts t+1, P = L-1). */
  target?: 'token' | 'next-token';
  /** sampled: draws N per position. */
  samples?: number;
  /** sampled: (index, count) slots m per position; m = min(N, classes), so no draw is ever dropped. */
  slots?: number;
  /** sampled: seed of the counter-based generator keyed by (seed, split, row, position). */
  seed?: number;
  /** Shard bytes per stored target token (all splits), written when the store is finalized. */
  bytesPerToken?: number;
  /** Augmented views per row and the policy that made them; absent = one unaugmented target per row. */
  views?: ViewPolicy;
}

/**
 * The capture temperature T_c of a store's targets: the recorded `temperature` of a top-k store
 * (1 when a manifest lacks it), 1 for dense targets (their KL is reported at T = 1).
 */
export function captureTemperatureOf(encoding: StoreEncoding): number {
  return encoding.mode === 'dense' ? 1 : (encoding.temperature ?? 1);
}

/**
 * The top-k temperature rule: a top-k store's tail mass is exact only at its capture temperature (a
 * sampled store estimates softmax(z / T_c) only), so its targets may be used (trained on, or scored by
 * KL) at T = T_c only; dense targets at any T.
 */
export function targetsAllowTemperature(encoding: StoreEncoding, temperature: number): boolean {
  return encoding.mode === 'dense' || captureTemperatureOf(encoding) === temperature;
}

/** Soft targets of one shard, decoded to float32. */
export interface ShardTargets {
  split: string;
  index: number;
  /** First global row (inclusive). */
  rowStart: number;
  /** Last global row (exclusive). */
  rowEnd: number;
  /** dense: rows * C logits, row-major. */
  logits?: Float32Array;
  /** topk: rows * k class indices. */
  topkIndex?: Int32Array;
  /** topk: rows * k raw logits. */
  topkLogit?: Float32Array;
  /** topk: rows (* P) values of log sum_{tail} exp(z / T_c). */
  tailLogSumExp?: Float32Array;
  /** Per-position store: P target positions per row; dense/topk arrays then hold rows * P in place of rows. */
  positions?: number;
  /** Per-position store: rows values, the real tokens of each row. */
  length?: Int32Array;
  /** sampled: rows * P * m class indices, -1 = empty slot. */
  sampleIndex?: Int32Array;
  /** sampled: rows * P * m draw counts, 0 = empty slot; a target position's counts sum to N. */
  sampleCount?: Uint16Array;
  /** View store: the parameters of the rows * K (row, view) pairs; the target arrays then hold rows * K in place of rows. */
  viewParams?: ViewParams;
}

/** Views K per row (1 for a store without views). */
export function viewsOf(encoding: StoreEncoding): number {
  return encoding.views?.count ?? 1;
}

/** Targets per dataset row: P positions (per-position store), K views (view store), else 1. */
export function targetsPerRow(encoding: StoreEncoding): number {
  return encoding.positions ?? viewsOf(encoding);
}

/** Positions P of a store row (1 for a classification store). */
export function positionsOf(encoding: StoreEncoding): number {
  return encoding.positions ?? 1;
}

/**
 * Positions that carry targets in a row with `length` real tokens (right padding): all of them for
 * `token`, length - 1 for `next-token` (the last real token predicts nothing).
 */
export function targetPositions(target: StoreEncoding['target'], length: number): number {
  return target === 'next-token' ? Math.max(0, length - 1) : length;
}
