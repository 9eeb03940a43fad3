/**
 * The distillation loss for dense teacher logits (and the hard-label loss, alpha = 1) as one op with
 * one custom gradient: the forward pass computes the batch loss and its exact gradient with respect
 * to the student logits together, in ~30 whole-batch kernels, and the backward pass is one multiply.
 * The composite form (log-softmax, one-hot, KL, means, then autodiff through all of it) runs ~120
 * kernels per step, and for small students each kernel's dispatch costs more than its arithmetic
 * (docs/benchmarks.md, "students vs PyTorch").
 *
 * Same objective as distillation-loss.ts: L = (1/B) sum_b [alpha CE_b + (1 - alpha) T^2 KL_b], with
 *
 *     dL/dz_s = (1/B) [alpha (softmax(z_s) - onehot(y)) + (1 - alpha) T (softmax(z_s / T) - softmax(z_t / T))].
 *
 * The three log-softmaxes (z_s, z_s / T, z_t / T) run as one over the rows stacked [3B, C]; log-probs
 * are floored at -1e30 so that a teacher probability of exactly 0 (a -Infinity logit) adds 0 log 0 = 0.
 */
import { tf } from '../../pipeline/engines/tfjs.ts';
import type { DistillationLossOptions } from './distillation-loss.ts';

/** Floor for log-probabilities: exp(FLOOR) is exactly 0 and 0 * FLOOR is 0, where 0 * -Infinity is NaN. */
const FLOOR = -1e30;

/**
 * `scale` * onehot(labels), [B, C] float32. tfjs-backend-wasm's OneHot kernel ignores onValue and a
 * float dtype (it returns zeros), so the scale is a multiply after the default int32 one-hot.
 */
function scaledOneHot(labels: tf.Tensor1D, classes: number, scale: number): tf.Tensor2D {
  return tf.mul(tf.cast(tf.oneHot(labels, classes), 'float32'), scale);
}

/** Loss value (scalar) and dL/dz_s ([B, C]) of the hard-label loss: alpha = 1, no teacher. */
function hardLabelTerms(z: tf.Tensor2D, labels: tf.Tensor1D): [tf.Scalar, tf.Tensor2D] {
  const [b, c] = z.shape;
  const logq = tf.logSoftmax(z);
  const ohNeg = scaledOneHot(labels, c, -1 / b);
  return [tf.sum(tf.mul(ohNeg, logq)) as tf.Scalar, tf.add(tf.mul(tf.exp(logq), 1 / b), ohNeg)];
}

/** Loss value (scalar) and dL/dz_s ([B, C]) with dense teacher logits. */
function denseTerms(z: tf.Tensor2D, labels: tf.Tensor1D | null, teacher: tf.Tensor2D, opts: DistillationLossOptions): [tf.Scalar, tf.Tensor2D] {
  const [b, c] = z.shape;
  const { temperature: t, alpha } = opts;
  const wKl = (1 - alpha) * t * t;
  const temper = (x: tf.Tensor2D): tf.Tensor2D => (t === 1 ? x : tf.mul(x, 1 / t));
  // Rows [0, B): log q = log softmax(z_s); [B, 2B): log q^T; [2B, 3B): log p^T (the teacher).
  const logs = tf.maximum(tf.logSoftmax(tf.concat([z, temper(z), temper(teacher)], 0)), FLOOR);
  const probs = tf.exp(logs);
  const p = tf.slice(probs, [2 * b, 0], [b, c]);
  const ohNeg = alpha > 0 && labels !== null ? scaledOneHot(labels, c, -alpha / b) : tf.zeros<tf.Rank.R2>([b, c]);
  // value = (1/B) sum [-alpha onehot * log q] + (wKl/B) sum p (log p - log q^T); the difference is
  // taken per element before summing (summing p log p and p log q^T apart loses ~1e-5 relative).
  const rows = (i: number): tf.Tensor => tf.slice(logs, [i * b, 0], [b, c]);
  const kl = tf.sum(tf.mul(p, tf.sub(rows(2), rows(1))));
  const value = tf.add(tf.sum(tf.mul(ohNeg, rows(0))), tf.mul(kl, wKl / b)) as tf.Scalar;
  // grad = (alpha/B) q + (wKl/(T B)) (q^T - p) - (alpha/B) onehot
  const coef = tf.tensor3d([alpha / b, wKl / (t * b), -wKl / (t * b)], [3, 1, 1]);
  const grad = tf.add(tf.sum(tf.mul(tf.reshape(probs, [3, b, c]), coef), 0), ohNeg) as tf.Tensor2D;
  return [value, grad];
}

/**
 * The batch-mean distillation loss of `student` logits [B, C] against dense `teacher` logits [B, C]
 * (null only with alpha = 1: the hard-label loss) and int32 `labels` [B] (not read when alpha = 0),
 * as one differentiable op. Inputs are assumed checked (distillationLoss does that and calls this).
 */
export function fusedDenseLoss(student: tf.Tensor2D, labels: tf.Tensor1D | null, teacher: tf.Tensor2D | null, opts: DistillationLossOptions): tf.Scalar {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const [value, grad] = tf.tidy(() => (teacher === null ? hardLabelTerms(z, labels!) : denseTerms(z, labels, teacher, opts)));
    save([grad]);
    return { value, gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => tf.mul(dy, saved[0]!) };
  });
  return op(student) as tf.Scalar;
}
