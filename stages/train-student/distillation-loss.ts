/**
 * The distillation loss (Hinton et al. 2015; Keras/torchdistill convention, alpha weighs the
 * hard-label term):
 *
 *     L = alpha * CE(y, softmax(z_s)) + (1 - alpha) * T^2 * KL(p_t^T || p_s^T)
 *
 * averaged over the batch, with p^T = softmax(z / T). Everything goes through log-softmax, so it is
 * stable for extreme logits, and through whole-batch tensor ops (one-hot, scatter), no per-row JS.
 *
 * ## Top-k targets
 * A top-k row holds the k largest raw teacher logits, their class indices and
 * `tailLogSumExp = log sum_{j not in top-k} exp(z_j / T_c)` at the capture temperature T_c. This fixes
 * the teacher's tempered probabilities of the k kept classes and its total tail mass exactly:
 * LSE = logaddexp(logsumexp_k(z / T_c), tailLogSumExp), p_j = exp(z_j / T_c - LSE),
 * tail = exp(tailLogSumExp - LSE). Two exact rules say what to compare the tail with:
 * - `'bucket'`: KL over k + 1 categories, the k kept classes plus one bucket holding all other
 *   classes; the student's bucket log-mass is the log-sum-exp of its tempered log-probabilities over
 *   the non-kept classes (a masked log-sum-exp, never log(1 - sum)).
 * - `'uniform'`: the teacher's tail mass spread evenly over the C - k non-kept classes, then the full
 *   C-class KL.
 * With k == C the tail is empty and both rules equal the dense loss.
 *
 * ## Sampled targets
 * A sampled row holds N draws from softmax(z / T_c) as (id, count) slots; the teacher distribution is
 * replaced by p_hat = count / N (Sparse Logit Sampling, Anshumann et al. 2025). The KL term's student
 * side, -sum_j p_hat_j log q_j, is linear in p_hat and E[p_hat] = p^{T_c}, so its gradient equals the
 * dense gradient in expectation (docs/training.md); the p_hat log p_hat term has no gradient.
 *
 * ## The temperature rule
 * The tail mass (top-k) and the draws (sampled) depend on T and cannot be re-derived for another T,
 * so those stores are usable only at T = T_c; the loss throws otherwise. Dense targets leave T free.
 *
 * ## Sequences: rows are positions
 * A sequence batch of B rows and P target positions is flattened to [B*P, V] student logits, targets
 * and labels, with per-row `weights` (1 = a target position, 0 = padding or no target). Each term is
 * then a weighted mean, sum(w * l) / sum(w), over the target positions only; the hard-label term also
 * skips positions whose label is negative (the ignore index -100 of token classification). Without
 * weights every row counts (the classification case, a plain mean).
 */
import { tf } from '../../pipeline/engines/tfjs.ts';
import { checkInputs, checkOptions } from './check-loss-inputs.ts';
import type { DistillationLossOptions } from './check-loss-inputs.ts';
import type { Targets } from './distillation-targets.ts';
import { fusedDenseLoss } from './fused-dense-loss.ts';
import { klPerRow } from './kl-per-row.ts';

export type { DenseTargets, SampledTargets, Targets, TopKTail, TopKTargets } from './distillation-targets.ts';
export type { DistillationLossOptions } from './check-loss-inputs.ts';

/** Per-batch means of the two loss terms (unweighted; KL at temperature T, without T^2). */
export interface LossComponents {
  /** Mean cross-entropy of the student (at T = 1) against the hard labels. */
  ce: tf.Scalar;
  /** Mean KL(p_t^T || p_s^T); null when no targets were given. */
  kl: tf.Scalar | null;
}

/** Teacher/student agreement for per-epoch evaluation. */
export interface AgreementAndKl {
  /** Share of rows (target positions) whose student argmax equals the teacher's top-1 class. */
  agreement: tf.Scalar;
  /** Mean KL(teacher || student) at temperature `klTemperature` (sampled: the plug-in estimate with p_hat). */
  kl: tf.Scalar;
  /** 1 for dense targets; the capture temperature for top-k and sampled targets (the only one they allow). */
  klTemperature: number;
}

/** The weights of the two terms: `alpha` on the CE term and `(1 - alpha) * T^2` on KL(p_t^T || p_s^T). */
export function lossWeights(opts: DistillationLossOptions): { ce: number; kl: number } {
  return { ce: opts.alpha, kl: (1 - opts.alpha) * opts.temperature * opts.temperature };
}

/**
 * The distillation objective from its two terms' means (numbers, e.g. over a split): the CE term
 * alone when alpha = 1 or there is no KL term, else the weighted sum of {@link lossWeights}.
 */
export function combineLoss(ce: number, klAtT: number | null, opts: DistillationLossOptions): number {
  if (klAtT === null || opts.alpha === 1) return ce;
  const w = lossWeights(opts);
  return w.ce * ce + w.kl * klAtT;
}

/** sum(w * v) / sum(w) (0 when every weight is 0), or the plain mean without weights. */
function weightedMean(values: tf.Tensor1D, weights: tf.Tensor1D | null): tf.Scalar {
  if (weights === null) return tf.mean<tf.Scalar>(values);
  return tf.div<tf.Scalar>(tf.sum(tf.mul(values, weights)), tf.maximum(tf.sum(weights), 1e-12));
}

/** Mean hard-label cross-entropy of the student (T = 1); with weights, rows with a negative label are skipped. */
function crossEntropy(student: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D | null): tf.Scalar {
  const logq = tf.logSoftmax(student);
  // oneHot gives a zero row for a negative label; clamping keeps its index in range (its weight is 0).
  const index = weights === null ? labels : (tf.maximum(labels, tf.scalar(0, 'int32')) as tf.Tensor1D);
  const picked = tf.sum<tf.Tensor1D>(tf.mul(tf.oneHot(index, student.shape[1]), logq), 1);
  const w = weights === null ? null : tf.mul(weights, tf.cast(tf.greaterEqual(labels, 0), 'float32'));
  return tf.neg(weightedMean(picked, w as tf.Tensor1D | null));
}

function requireTargets(targets: Targets | null, alpha: number): Targets {
  if (targets === null) {
    throw new TypeError(
      `distillation targets are required when train.alpha < 1, got alpha=${alpha} and no targets ` +
        '(alpha = 1 is the hard-label baseline and needs none)',
    );
  }
  return targets;
}

/**
 * The distillation loss `alpha * CE(y, softmax(z_s)) + (1 - alpha) * T^2 * KL(p_t^T || p_s^T)`,
 * averaged over the batch (or, with `weights`, over the target positions; see the module doc).
 *
 * With `alpha = 1` this is the plain hard-label loss: `targets` may be null and is ignored. With
 * `alpha = 0` the labels are not read. Top-k and sampled targets must have `captureTemperature ===
 * temperature`. Labels must lie in [0, C) (out-of-range labels give a zero one-hot row; they are not
 * checked here to avoid a device sync per step); with weights, negative labels are ignored.
 * Intermediates are freed; only the returned scalar is new.
 *
 * @param studentLogits - student logits z_s, [B, C] float32 (a sequence batch: [B*P, V]).
 * @param labels - hard labels, [B] int32.
 * @param targets - teacher targets, or null when `alpha = 1`.
 * @param opts - temperature T (> 0, finite) and alpha (in [0, 1]).
 * @param weights - per-row weights [B] float32 (1 = target position, 0 = none), or null: every row counts.
 * @throws RangeError on bad options, shapes or a top-k/sampled temperature mismatch; TypeError on
 *   missing targets with `alpha < 1` or wrong dtypes.
 * @example
 * ```ts
 * const loss = optimizer.minimize(() =>
 *   distillationLoss(model.apply(x) as tf.Tensor2D, y, { kind: 'dense', logits: zt }, { temperature: 4, alpha: 0.1 }), true);
 * ```
 */
export function distillationLoss(
  studentLogits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets: Targets | null,
  opts: DistillationLossOptions,
  weights: tf.Tensor1D | null = null,
): tf.Scalar {
  checkOptions(opts);
  const { temperature, alpha } = opts;
  if (alpha === 1) {
    checkInputs(studentLogits, labels, null, temperature, weights);
    // Unweighted (classification) rows: one op with one custom gradient (fused-dense-loss.ts).
    if (!weights) return fusedDenseLoss(studentLogits, labels, null, opts);
    return tf.tidy(() => crossEntropy(studentLogits, labels, weights));
  }
  const t = requireTargets(targets, alpha);
  checkInputs(studentLogits, alpha === 0 ? null : labels, t, temperature, weights);
  // Dense targets without per-row weights: the fused op, ~5x fewer kernels a step than autodiff.
  if (t.kind === 'dense' && !weights) return fusedDenseLoss(studentLogits, alpha === 0 ? null : labels, t.logits, opts);
  return tf.tidy(() => {
    const w = lossWeights(opts);
    const kl = tf.mul(weightedMean(klPerRow(studentLogits, t, temperature), weights), w.kl);
    return alpha === 0 ? (kl as tf.Scalar) : (tf.add(tf.mul(crossEntropy(studentLogits, labels, weights), w.ce), kl) as tf.Scalar);
  });
}

/**
 * The two terms of {@link distillationLoss}, each a (weighted) mean, for logging: `ce` (hard labels,
 * T = 1) and `kl` = KL(p_t^T || p_s^T) without the `(1 - alpha) * T^2` factor (null when `targets` is
 * null). Same validation as the loss; the caller owns (and disposes) the returned scalars.
 */
export function lossComponents(
  studentLogits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets: Targets | null,
  opts: DistillationLossOptions,
  weights: tf.Tensor1D | null = null,
): LossComponents {
  checkOptions(opts);
  const { temperature, alpha } = opts;
  if (targets === null && alpha < 1) requireTargets(targets, alpha);
  checkInputs(studentLogits, labels, targets, temperature, weights);
  const ce = tf.tidy(() => crossEntropy(studentLogits, labels, weights));
  const kl = targets === null ? null : tf.tidy(() => weightedMean(klPerRow(studentLogits, targets, temperature), weights));
  return { ce, kl };
}

/** The teacher's top-1 class per row: dense argmax, top-k `index[:, 0]`, sampled the id drawn most often (first slot on ties). */
function teacherTop1(targets: Targets, b: number): tf.Tensor1D {
  if (targets.kind === 'dense') return tf.argMax(targets.logits, 1);
  if (targets.kind === 'topk') return tf.reshape(tf.slice(targets.index, [0, 0], [b, 1]), [b]);
  const slot = tf.oneHot(tf.argMax(targets.count, 1), targets.count.shape[1]);
  return tf.sum(tf.mul(slot, targets.index), 1);
}

/**
 * Top-1 agreement between student and teacher, and the mean KL(teacher || student), for per-epoch
 * evaluation (with `weights`, over the target positions). Dense targets: KL at T = 1. Top-k and
 * sampled targets: KL at the capture temperature (the only temperature they allow); sampled KL is the
 * plug-in estimate with p_hat and the teacher's top-1 is the most drawn id. The caller owns (and
 * disposes) the returned scalars.
 */
export function agreementAndKl(studentLogits: tf.Tensor2D, targets: Targets, weights: tf.Tensor1D | null = null): AgreementAndKl {
  const klTemperature = targets.kind === 'dense' ? 1 : targets.captureTemperature;
  checkOptions({ temperature: klTemperature, alpha: 0 });
  checkInputs(studentLogits, null, targets, klTemperature, weights);
  const agreement = tf.tidy(() => {
    const same = tf.equal(tf.argMax(studentLogits, 1), teacherTop1(targets, studentLogits.shape[0]));
    return weightedMean(tf.cast(same, 'float32') as tf.Tensor1D, weights);
  });
  const kl = tf.tidy(() => weightedMean(klPerRow(studentLogits, targets, klTemperature), weights));
  return { agreement, kl, klTemperature };
}
