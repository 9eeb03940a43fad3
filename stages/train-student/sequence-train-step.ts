import { tf } from '../../pipeline/engines/tfjs.ts';
import type { DistillationLossOptions } from './check-loss-inputs.ts';
import { distillationLoss } from './distillation-loss.ts';
import type { SequenceBatchTensors } from './sequence-batch.ts';
import { flattenPositions } from './sequence-batch.ts';
import type { SequenceStudent } from '../../pipeline/student/sequence/sequence-student.ts';

/** The loss of a sequence batch: the distillation loss over the flattened [B*P, V] positions, weighted by target position. */
export function sequenceLoss(student: SequenceStudent, batch: SequenceBatchTensors, loss: DistillationLossOptions): tf.Scalar {
  const targets = loss.alpha === 1 ? null : batch.targets;
  const logits = flattenPositions(student.apply(batch.ids, batch.mask), batch.positions);
  return distillationLoss(logits, batch.labels, targets, loss, batch.weights);
}

/**
 * One optimisation step of a sequence student (the counterpart of trainStep): forward, the
 * position-weighted distillation loss, gradients and the update. The returned scalar is the caller's.
 */
export function sequenceTrainStep(student: SequenceStudent, optimizer: tf.Optimizer, batch: SequenceBatchTensors, loss: DistillationLossOptions): tf.Scalar {
  return optimizer.minimize(() => tf.tidy(() => sequenceLoss(student, batch, loss)), true, student.variables)!;
}
