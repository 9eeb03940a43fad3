import { tf } from '../../pipeline/engines/tfjs.ts';
import type { StudentModel } from './build-student.ts';
import { distillationLoss } from './distillation-loss.ts';
import type { DistillationLossOptions } from './distillation-loss.ts';
import type { BatchTensors } from './batch-tensors.ts';

/**
 * One optimisation step: forward (with dropout masks from `dropoutSeed`), the distillation loss,
 * gradients of the student's variables and the optimizer update. Every intermediate tensor is freed;
 * the returned scalar (the batch loss) is the caller's to dispose.
 */
export function trainStep(student: StudentModel, optimizer: tf.Optimizer, batch: BatchTensors, loss: DistillationLossOptions, dropoutSeed: number): tf.Scalar {
  // alpha = 1 never reads the targets: pass none, so the hard-label baseline needs no store.
  const targets = loss.alpha === 1 ? null : batch.targets;
  const cost = optimizer.minimize(() => tf.tidy(() => distillationLoss(student.apply(batch.x, dropoutSeed), batch.labels, targets, loss)), true, student.variables);
  return cost!;
}
