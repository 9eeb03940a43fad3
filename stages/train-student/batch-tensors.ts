import { captureTemperatureOf } from '../../pipeline/store/soft-target-store.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { tf } from '../../pipeline/engines/tfjs.ts';
import type { Targets, TopKTail } from './distillation-loss.ts';
import type { HostBatch } from './host-batch.ts';

/** A batch as tensors; dispose with {@link disposeBatch}. */
export interface BatchTensors {
  x: tf.Tensor2D;
  labels: tf.Tensor1D;
  targets: Targets | null;
}

/**
 * Turns a host batch into tensors: features [B, F], labels [B] int32, and the soft targets in the
 * loss's form (dense logits [B, C], or top-k index/logit [B, k] and tail log-sum-exp [B] with the
 * store's capture temperature and the configured tail rule).
 */
export function batchTensors(b: HostBatch, featureSize: number, encoding: StoreEncoding | null, tail: TopKTail): BatchTensors {
  const x = tf.tensor2d(b.x, [b.size, featureSize]);
  const labels = tf.tensor1d(b.labels, 'int32');
  let targets: Targets | null = null;
  if (encoding && b.logits) {
    targets = { kind: 'dense', logits: tf.tensor2d(b.logits, [b.size, encoding.classes]) };
  } else if (encoding && b.topkIndex) {
    const k = encoding.k!;
    targets = {
      kind: 'topk',
      index: tf.tensor2d(b.topkIndex, [b.size, k], 'int32'),
      logit: tf.tensor2d(b.topkLogit!, [b.size, k]),
      tailLogSumExp: tf.tensor1d(b.tailLogSumExp!),
      captureTemperature: captureTemperatureOf(encoding),
      tail,
    };
  }
  return { x, labels, targets };
}

/** Disposes every tensor of a {@link BatchTensors}. */
export function disposeBatch(t: BatchTensors): void {
  const list: tf.Tensor[] = [t.x, t.labels];
  if (t.targets?.kind === 'dense') list.push(t.targets.logits);
  if (t.targets?.kind === 'topk') list.push(t.targets.index, t.targets.logit, t.targets.tailLogSumExp);
  tf.dispose(list);
}
