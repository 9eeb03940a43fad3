import { tf } from '../../pipeline/engines/tfjs.ts';
import type { Targets } from './distillation-targets.ts';
import { agreementAndKl } from './distillation-loss.ts';

/** Per-split sequence metrics, summed over batches (see {@link finishSequenceMetrics}). */
export interface SequenceMetricSums {
  /** Target positions with a hard label (label >= 0, weight 1). */
  labelled: number;
  /** Sum of the student's -log q(label) over them (natural log). */
  studentNll: number;
  /** Sum of the teacher's -log p(label) (dense targets only; null otherwise). */
  teacherNll: number | null;
  /** Target positions (weight 1). */
  positions: number;
  /** Sum of top-1 agreement over target positions (null without targets). */
  agreement: number | null;
  /** Sum of KL(teacher || student) at T = 1 (null unless the encoding allows T = 1). */
  kl: number | null;
}

/** Per-epoch sequence metrics of a split. */
export interface SequenceMetrics {
  /** Mean per-token negative log-likelihood of the student (nats), and its perplexity exp(NLL). */
  nll: number;
  perplexity: number;
  /** The teacher's, from the cache (dense stores only), else null. */
  teacherNll: number | null;
  teacherPerplexity: number | null;
  /** Share of target positions where student and teacher top-1 agree (null without targets). */
  agreement: number | null;
  /** Mean KL(teacher || student) at T = 1 (null when the store's encoding fixes another T). */
  kl: number | null;
  /** Target positions scored. */
  positions: number;
}

/** Empty sums; `withTargets` says whether agreement (and, with `klAtOne`, KL) are measured. */
export function emptySequenceSums(withTargets: boolean, klAtOne: boolean, teacherNll: boolean): SequenceMetricSums {
  return { labelled: 0, studentNll: 0, teacherNll: teacherNll ? 0 : null, positions: 0, agreement: withTargets ? 0 : null, kl: withTargets && klAtOne ? 0 : null };
}

/** -log softmax(z)[label] summed over rows with weight w (labels < 0 contribute nothing), and the weight used. */
function nllSum(z: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D): [tf.Scalar, tf.Scalar] {
  const w = tf.mul(weights, tf.cast(tf.greaterEqual(labels, 0), 'float32'));
  const picked = tf.sum(tf.mul(tf.oneHot(tf.maximum(labels, tf.scalar(0, 'int32')) as tf.Tensor1D, z.shape[1]), tf.logSoftmax(z)), 1);
  return [tf.neg(tf.sum<tf.Scalar>(tf.mul(picked, w))), tf.sum<tf.Scalar>(w)];
}

/**
 * Adds one batch of flattened positions (student logits [N, V], labels and weights [N], the teacher's
 * targets or null) to `sums`. KL is taken at T = 1 (dense; top-k/sampled only when T_c = 1).
 */
export async function addSequenceMetrics(sums: SequenceMetricSums, logits: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D, targets: Targets | null): Promise<void> {
  const parts = tf.tidy(() => {
    const [nll, labelled] = nllSum(logits, labels, weights);
    const out: tf.Scalar[] = [nll, labelled, tf.sum<tf.Scalar>(weights)];
    if (targets && sums.teacherNll !== null && targets.kind === 'dense') out.push(nllSum(targets.logits, labels, weights)[0]);
    if (targets && sums.agreement !== null) {
      const a = agreementAndKl(logits, targets, weights);
      const n = tf.sum(weights);
      out.push(tf.mul(a.agreement, n), tf.mul(a.kl, n));
    }
    return out;
  });
  const v = await Promise.all(parts.map(async (t) => (await t.data())[0]!));
  tf.dispose(parts);
  sums.studentNll += v[0]!;
  sums.labelled += v[1]!;
  sums.positions += v[2]!;
  let i = 3;
  if (targets && sums.teacherNll !== null && targets.kind === 'dense') sums.teacherNll += v[i++]!;
  if (targets && sums.agreement !== null) {
    sums.agreement += v[i++]!;
    if (sums.kl !== null) sums.kl += v[i]!;
  }
}

/** Means and perplexities from the sums. */
export function finishSequenceMetrics(s: SequenceMetricSums): SequenceMetrics {
  const nll = s.studentNll / Math.max(s.labelled, 1);
  const teacherNll = s.teacherNll === null ? null : s.teacherNll / Math.max(s.labelled, 1);
  return {
    nll,
    perplexity: Math.exp(nll),
    teacherNll,
    teacherPerplexity: teacherNll === null ? null : Math.exp(teacherNll),
    agreement: s.agreement === null ? null : s.agreement / Math.max(s.positions, 1),
    kl: s.kl === null ? null : s.kl / Math.max(s.positions, 1),
    positions: s.positions,
  };
}
