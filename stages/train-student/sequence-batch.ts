import { tf } from '../../pipeline/engines/tfjs.ts';
import type { Targets } from './distillation-targets.ts';

/** What the positions of a sequence row are trained to predict. */
export type SequenceTarget = 'token' | 'next-token';

/**
 * A sequence batch as tensors, flattened for the loss: B rows of L tokens, P target positions per row
 * (L for token classification, L - 1 for a causal LM where position t predicts token t + 1).
 */
export interface SequenceBatchTensors {
  /** Token ids [B, L] int32. */
  ids: tf.Tensor2D;
  /** Attention mask [B, L] float32, 1 = real token. */
  mask: tf.Tensor2D;
  /** Hard labels [B*P] int32 (next token, or the position label; -100 = ignore). */
  labels: tf.Tensor1D;
  /** Per-position weights [B*P] float32: 1 = a target position, 0 = padding or no target. */
  weights: tf.Tensor1D;
  /** Teacher targets over the B*P positions, or null (hard labels only). */
  targets: Targets | null;
  /** P. */
  positions: number;
}

/** A sequence batch on the host (typed arrays), before it becomes tensors. */
export interface SequenceHostBatch {
  size: number;
  /** Context L. */
  context: number;
  /** size * L token ids. */
  ids: Int32Array;
  /** size * L attention mask values (1 = real token). */
  mask: Uint8Array;
  /** Token classification: size * L labels (-100 = ignore). Absent for a causal LM. */
  labels?: Int32Array;
}

/** P target positions per row of context `l`. */
export function targetPositions(l: number, target: SequenceTarget): number {
  return target === 'next-token' ? l - 1 : l;
}

/**
 * Hard labels and weights [B*P] of a host batch: causal LM (`next-token`): label = token t + 1,
 * weight = mask[t + 1] (padding is at the end, so mask[t + 1] = 1 implies mask[t] = 1); token
 * classification: label = the position label, weight = mask[t] (labels of -100 are skipped by the loss).
 */
export function labelsAndWeights(b: SequenceHostBatch, target: SequenceTarget): { labels: Int32Array; weights: Float32Array } {
  const l = b.context;
  const p = targetPositions(l, target);
  const labels = new Int32Array(b.size * p);
  const weights = new Float32Array(b.size * p);
  for (let r = 0; r < b.size; r++) {
    for (let t = 0; t < p; t++) {
      const src = r * l + (target === 'next-token' ? t + 1 : t);
      labels[r * p + t] = target === 'next-token' ? b.ids[src]! : (b.labels?.[src] ?? -100);
      weights[r * p + t] = b.mask[src]!;
    }
  }
  return { labels, weights };
}

/** Tensors of a host batch (targets are added by the caller from the store); dispose with tf.dispose. */
export function sequenceBatchTensors(b: SequenceHostBatch, target: SequenceTarget, targets: Targets | null): SequenceBatchTensors {
  const { labels, weights } = labelsAndWeights(b, target);
  return {
    ids: tf.tensor2d(b.ids, [b.size, b.context], 'int32'),
    mask: tf.tensor2d(Float32Array.from(b.mask), [b.size, b.context]),
    labels: tf.tensor1d(labels, 'int32'),
    weights: tf.tensor1d(weights),
    targets,
    positions: targetPositions(b.context, target),
  };
}

/** Student logits [B, L, V] cut to the P target positions and flattened: [B*P, V]. */
export function flattenPositions(logits: tf.Tensor3D, positions: number): tf.Tensor2D {
  const [b, l, v] = logits.shape;
  const cut = positions === l ? logits : tf.slice(logits, [0, 0, 0], [b, positions, v]);
  return tf.reshape(cut, [b * positions, v]);
}
