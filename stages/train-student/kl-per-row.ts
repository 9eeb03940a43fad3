/**
 * Per-row KL(p_t^T || p_s^T) of the distillation loss for each target kind, as whole-batch tensor ops
 * (one-hot, scatter; no per-row JS). The rules (top-k tail, sampled p_hat) are in distillation-loss.ts.
 */
import { tf } from '../../pipeline/engines/tfjs.ts';
import type { SampledTargets, Targets, TopKTargets } from './distillation-targets.ts';

/** Stands in for log(0) in masked log-sum-exps: exp(MASKED - m) is exactly 0 for any real m. */
const MASKED = -1e30;

/**
 * Row-wise log-sum-exp of a [B, C] tensor, [B], with the exact gradient softmax(x) given directly
 * (tf.logSumExp's composite gradient, through max, costs several times the forward pass).
 */
const rowLogSumExp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
  const lse = tf.logSumExp(x, 1, true);
  save([x, lse]);
  return {
    value: tf.reshape(lse, [x.shape[0]]) as tf.Tensor1D,
    gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => tf.mul(tf.expandDims(dy, 1), tf.exp(tf.sub(saved[0], saved[1]))),
  };
});

/** sum over axis 1 of p * logp, with 0 * log 0 = 0 (teacher side only, no gradient needed). */
function sumPLogP(p: tf.Tensor2D, logp: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.where(tf.greater(p, 0), tf.mul(p, logp), tf.zerosLike(p)), 1);
}

/** Divides by T, skipping the op at T = 1. */
export function temper(x: tf.Tensor2D, temperature: number): tf.Tensor2D {
  return temperature === 1 ? x : tf.div(x, temperature);
}

/** Scatter coordinates (row, class) of a [B, k] int32 index: [B, k, 2]. */
function rowCoords(index: tf.Tensor2D): tf.Tensor3D {
  const [b, k] = index.shape;
  const rows = tf.tile(tf.reshape(tf.range(0, b, 1, 'int32'), [b, 1]), [1, k]);
  return tf.stack([rows, index], 2) as tf.Tensor3D;
}

function topkKl(logq: tf.Tensor2D, targets: TopKTargets, temperature: number): tf.Tensor1D {
  const [b, c] = logq.shape;
  const k = targets.index.shape[1];
  const a = temper(targets.logit, temperature);
  const coords = rowCoords(targets.index);
  if (k === c) {
    // Empty tail: the teacher distribution is the softmax of the k = C kept logits.
    const logpK = tf.logSoftmax(a);
    const pDense = tf.scatterND(coords, tf.exp(logpK), [b, c]) as tf.Tensor2D;
    return tf.sub(sumPLogP(tf.exp(logpK), logpK), tf.sum(tf.mul(pDense, logq), 1));
  }
  // Teacher: log-softmax over the k kept tempered logits plus one tail entry (exact tail mass).
  const logpAll = tf.logSoftmax(tf.concat<tf.Tensor2D>([a, tf.reshape(targets.tailLogSumExp, [b, 1])], 1));
  const logpK = tf.slice(logpAll, [0, 0], [b, k]);
  const logpTail = tf.slice(logpAll, [0, k], [b, 1]);
  const pK = tf.exp(logpK);
  const pTail = tf.exp(logpTail);
  const pKDense = tf.scatterND(coords, pK, [b, c]) as tf.Tensor2D;
  const kept = tf.greater(tf.scatterND(coords, tf.onesLike(pK), [b, c]), 0);
  const negEntK = sumPLogP(pK, logpK);
  if (targets.tail === 'bucket') {
    // Student bucket log-mass: masked log-sum-exp of its tempered log-probs over the tail classes.
    const logqTail = rowLogSumExp(tf.where(kept, tf.fill([b, c], MASKED), logq));
    const cross = tf.add(tf.sum(tf.mul(pKDense, logq), 1), tf.mul(tf.reshape(pTail, [b]), logqTail));
    return tf.sub(tf.add(negEntK, sumPLogP(pTail, logpTail)), cross);
  }
  // Uniform: each of the C - k tail classes gets tail / (C - k).
  const logpEach = tf.sub<tf.Tensor2D>(logpTail, Math.log(c - k));
  const pFull = tf.where(kept, pKDense, tf.broadcastTo(tf.exp(logpEach), [b, c]));
  const negEntTail = sumPLogP(pTail, logpEach); // (C - k) * pEach * log pEach = tail * log pEach
  return tf.sub(tf.add(negEntK, negEntTail), tf.sum(tf.mul(pFull, logq), 1));
}

/**
 * KL(p_hat || p_s^T) with p_hat = count / N: sum p_hat log p_hat - sum_j p_hat_j log q_j. The student
 * side, the only one with a gradient, is linear in p_hat, so E[grad] equals the gradient against p^T.
 * Empty slots (index -1, count 0) are scattered as 0 onto class 0 and add nothing.
 */
function sampledKl(logq: tf.Tensor2D, targets: SampledTargets): tf.Tensor1D {
  const [b, c] = logq.shape;
  const pHat = tf.div<tf.Tensor2D>(targets.count, targets.samples);
  const coords = rowCoords(tf.maximum(targets.index, tf.scalar(0, 'int32')) as tf.Tensor2D);
  const pDense = tf.scatterND(coords, pHat, [b, c]) as tf.Tensor2D;
  return tf.sub(sumPLogP(pHat, tf.log(tf.maximum(pHat, 1e-30)) as tf.Tensor2D), tf.sum(tf.mul(pDense, logq), 1));
}

/** Per-row KL(p_t^T || p_s^T), [B], for student logits [B, C]. Assumes the inputs were checked. */
export function klPerRow(student: tf.Tensor2D, targets: Targets, temperature: number): tf.Tensor1D {
  const logq = tf.logSoftmax(temper(student, temperature));
  if (targets.kind === 'dense') {
    const logp = tf.logSoftmax(temper(targets.logits, temperature));
    return tf.sub(sumPLogP(tf.exp(logp), logp), tf.sum(tf.mul(tf.exp(logp), logq), 1));
  }
  if (targets.kind === 'sampled') return sampledKl(logq, targets);
  return topkKl(logq, targets, temperature);
}
