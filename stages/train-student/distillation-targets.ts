/**
 * The teacher targets the distillation loss takes, one row per prediction: a classification batch
 * has one row per example; a sequence batch is flattened to one row per (example, position), [B*P, V],
 * with a per-row weight (1 = a target position, 0 = padding or no target; see distillation-loss.ts).
 */
import type { tf } from '../../pipeline/engines/tfjs.ts';

/** Dense teacher targets: the full teacher logits. */
export interface DenseTargets {
  kind: 'dense';
  /** Teacher logits, [B, C] float32. */
  logits: tf.Tensor2D;
}

/** How the teacher's tail mass (classes outside the top k) enters the KL term. */
export type TopKTail = 'bucket' | 'uniform';

/** Top-k teacher targets as read from a top-k soft-target store. */
export interface TopKTargets {
  kind: 'topk';
  /** Class indices of the kept classes, [B, k] int32, distinct within a row. */
  index: tf.Tensor2D;
  /** Raw teacher logits of the kept classes (not divided by T), [B, k] float32. */
  logit: tf.Tensor2D;
  /** Per row log sum_{j not in top-k} exp(z_j / T_c), [B]; -Infinity when the tail is empty. */
  tailLogSumExp: tf.Tensor1D;
  /** The temperature T_c the store was captured at; training must use T = T_c. */
  captureTemperature: number;
  /** Tail rule: `'bucket'` (k + 1 categories) or `'uniform'` (tail spread evenly, C-class KL). */
  tail: TopKTail;
}

/**
 * Sampled teacher targets (Sparse Logit Sampling): per row, N draws from softmax(z / T_c) stored as
 * m (id, count) slots; the teacher distribution stands in as p_hat = count / N. Empty slots have
 * index -1 and count 0. The same id may not appear in two slots of a row.
 */
export interface SampledTargets {
  kind: 'sampled';
  /** Drawn class ids, [B, m] int32, -1 = empty slot. */
  index: tf.Tensor2D;
  /** Draw counts, [B, m] float32, 0 = empty slot; a row's counts sum to `samples` (or 0 for a row without targets). */
  count: tf.Tensor2D;
  /** N: draws per row. */
  samples: number;
  /** The temperature T_c the draws were taken at; training must use T = T_c. */
  captureTemperature: number;
}

/** Teacher targets for one batch. */
export type Targets = DenseTargets | TopKTargets | SampledTargets;
