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
 */

/** Encoding of the soft targets in a store. */
export interface StoreEncoding {
  mode: 'dense' | 'topk';
  /** Precision of stored logits (topk: of topk_logit; tail_lse is always float32). */
  precision: 'float32' | 'float16';
  /** Number of classes C of the teacher. */
  classes: number;
  /** topk: classes kept per row. */
  k?: number;
  /** topk: capture temperature T_c of tail_lse; a student must train at T = T_c. */
  temperature?: number;
}

/**
 * The capture temperature T_c of a store's targets: the recorded `temperature` of a top-k store
 * (1 when a manifest lacks it), 1 for dense targets (their KL is reported at T = 1).
 */
export function captureTemperatureOf(encoding: StoreEncoding): number {
  return encoding.mode === 'topk' ? (encoding.temperature ?? 1) : 1;
}

/**
 * The top-k temperature rule: a top-k store's tail mass is exact only at its capture temperature, so
 * its targets may be used (trained on, or scored by KL) at T = T_c only; dense targets at any T.
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
  /** topk: rows values of log sum_{tail} exp(z / T_c). */
  tailLogSumExp?: Float32Array;
}
