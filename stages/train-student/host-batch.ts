/** One batch assembled on the host (plain typed arrays), before it becomes tensors. */
export interface HostBatch {
  /** Rows in the batch (the last batch of an epoch may be short). */
  size: number;
  /** size * featureSize scaled float32 features. */
  x: Float32Array;
  /** size hard labels. */
  labels: Int32Array;
  /** Global row index of each example (for coverage checks and debugging). */
  rows: Int32Array;
  /** View store: the view each example's input was built from (0 = unaugmented). */
  views?: Int32Array;
  /** dense soft targets: size * classes teacher logits. */
  logits?: Float32Array;
  /** topk: size * k class indices. */
  topkIndex?: Int32Array;
  /** topk: size * k raw teacher logits. */
  topkLogit?: Float32Array;
  /** topk: size tail log-sum-exps at the capture temperature. */
  tailLogSumExp?: Float32Array;
}
