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
 * ## The temperature rule
 * The tail mass depends on T and cannot be re-derived for another T, so a top-k store is usable only
 * at T = T_c; the loss throws otherwise. Dense targets leave T free.
 */
import { tf } from '../../pipeline/engines/tfjs.ts';
import { fusedDenseLoss } from './fused-dense-loss.ts';

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

/** Teacher targets for one batch. */
export type Targets = DenseTargets | TopKTargets;

/** Loss hyper-parameters. */
export interface DistillationLossOptions {
  /** Softmax temperature T of the KL term; positive and finite (1 = no softening). */
  temperature: number;
  /** Weight of the hard-label CE term in [0, 1]; 1 = hard-label baseline (no teacher needed). */
  alpha: number;
}

/** Per-batch means of the two loss terms (unweighted; KL at temperature T, without T^2). */
export interface LossComponents {
  /** Mean cross-entropy of the student (at T = 1) against the hard labels. */
  ce: tf.Scalar;
  /** Mean KL(p_t^T || p_s^T); null when no targets were given. */
  kl: tf.Scalar | null;
}

/** Teacher/student agreement for per-epoch evaluation. */
export interface AgreementAndKl {
  /** Share of rows whose student argmax equals the teacher's top-1 class. */
  agreement: tf.Scalar;
  /** Mean KL(teacher || student) at temperature `klTemperature`. */
  kl: tf.Scalar;
  /** 1 for dense targets; the capture temperature for top-k targets (the only one they allow). */
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

/** Validates `opts`, throwing a RangeError naming the field, value and allowed range. */
function checkOptions(opts: DistillationLossOptions): void {
  const { temperature, alpha } = opts;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
    throw new RangeError(`train.temperature must be a positive finite number, got ${temperature}`);
  }
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new RangeError(`train.alpha must be a number in [0, 1], got ${alpha}`);
  }
}

function shapeError(what: string, got: number[], want: string): RangeError {
  return new RangeError(`distillationLoss: ${what} must have shape ${want}, got [${got.join(', ')}]`);
}

/** Checks shapes, dtypes and the temperature rule; returns [B, C]. Shape checks never sync. */
function checkInputs(student: tf.Tensor2D, labels: tf.Tensor1D | null, targets: Targets | null, temperature: number): [number, number] {
  if (student.rank !== 2) throw shapeError('studentLogits', student.shape, '[B, C]');
  const [b, c] = student.shape;
  if (labels !== null) {
    if (labels.rank !== 1 || labels.shape[0] !== b) throw shapeError('labels', labels.shape, `[B] = [${b}]`);
    if (labels.dtype !== 'int32') throw new TypeError(`distillationLoss: labels must be int32, got ${labels.dtype}`);
  }
  if (targets === null) return [b, c];
  if (targets.kind === 'dense') {
    const s = targets.logits.shape;
    if (targets.logits.rank !== 2 || s[0] !== b || s[1] !== c) throw shapeError('targets.logits', s, `[B, C] = [${b}, ${c}]`);
    return [b, c];
  }
  const { index, logit, tailLogSumExp, captureTemperature, tail } = targets;
  if (temperature !== captureTemperature) {
    throw new RangeError(
      `temperature T=${temperature} does not match the store's capture temperature ${captureTemperature}; ` +
        'a top-k store fixes T at capture (dense stores leave T free)',
    );
  }
  if (tail !== 'bucket' && tail !== 'uniform') {
    throw new RangeError(`targets.tail must be one of 'bucket', 'uniform', got ${String(tail)}`);
  }
  const k = index.shape[1];
  if (index.rank !== 2 || index.shape[0] !== b || !(k >= 1 && k <= c)) {
    throw shapeError('targets.index', index.shape, `[B, k] with B = ${b}, 1 <= k <= C = ${c}`);
  }
  if (index.dtype !== 'int32') throw new TypeError(`distillationLoss: targets.index must be int32, got ${index.dtype}`);
  if (logit.rank !== 2 || logit.shape[0] !== b || logit.shape[1] !== k) throw shapeError('targets.logit', logit.shape, `[B, k] = [${b}, ${k}]`);
  if (tailLogSumExp.rank !== 1 || tailLogSumExp.shape[0] !== b) throw shapeError('targets.tailLogSumExp', tailLogSumExp.shape, `[B] = [${b}]`);
  return [b, c];
}

/** sum over axis 1 of p * logp, with 0 * log 0 = 0 (teacher side only, no gradient needed). */
function sumPLogP(p: tf.Tensor2D, logp: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.where(tf.greater(p, 0), tf.mul(p, logp), tf.zerosLike(p)), 1);
}

/** Divides by T, skipping the op at T = 1. */
function temper(x: tf.Tensor2D, temperature: number): tf.Tensor2D {
  return temperature === 1 ? x : tf.div(x, temperature);
}

/** Mean hard-label cross-entropy of the student (T = 1). */
function crossEntropy(student: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const logq = tf.logSoftmax(student);
  const picked = tf.sum(tf.mul(tf.oneHot(labels, student.shape[1]), logq), 1);
  return tf.neg(tf.mean<tf.Scalar>(picked));
}

/** Per-row KL(p_t^T || p_s^T), [B]. Assumes checkInputs passed. */
function klPerRow(student: tf.Tensor2D, targets: Targets, temperature: number): tf.Tensor1D {
  const [b, c] = student.shape;
  const logq = tf.logSoftmax(temper(student, temperature));
  if (targets.kind === 'dense') {
    const logp = tf.logSoftmax(temper(targets.logits, temperature));
    const p = tf.exp(logp);
    return tf.sub(sumPLogP(p, logp), tf.sum(tf.mul(p, logq), 1));
  }
  const k = targets.index.shape[1];
  const a = temper(targets.logit, temperature);
  // Scatter coordinates (row, class) of the kept classes: [B, k, 2].
  const rows = tf.tile(tf.reshape(tf.range(0, b, 1, 'int32'), [b, 1]), [1, k]);
  const coords = tf.stack([rows, targets.index], 2);
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
 * averaged over the batch.
 *
 * With `alpha = 1` this is the plain hard-label loss: `targets` may be null and is ignored. With
 * `alpha = 0` the labels are not read. Top-k targets must have `captureTemperature === temperature`
 * (see the module doc for the tail rules). Labels must lie in [0, C) (out-of-range labels give a
 * zero one-hot row; they are not checked here to avoid a device sync per step). Intermediates are
 * freed; only the returned scalar is new.
 *
 * @param studentLogits - student logits z_s, [B, C] float32.
 * @param labels - hard labels, [B] int32.
 * @param targets - teacher targets, or null when `alpha = 1`.
 * @param opts - temperature T (> 0, finite) and alpha (in [0, 1]).
 * @throws RangeError on bad options, shapes or a top-k temperature mismatch; TypeError on missing
 *   targets with `alpha < 1` or wrong dtypes.
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
): tf.Scalar {
  checkOptions(opts);
  const { temperature, alpha } = opts;
  if (alpha === 1) {
    checkInputs(studentLogits, labels, null, temperature);
    return fusedDenseLoss(studentLogits, labels, null, opts);
  }
  const t = requireTargets(targets, alpha);
  checkInputs(studentLogits, alpha === 0 ? null : labels, t, temperature);
  // Dense targets: one op with one custom gradient (fused-dense-loss.ts), ~5x fewer kernels a step.
  if (t.kind === 'dense') return fusedDenseLoss(studentLogits, alpha === 0 ? null : labels, t.logits, opts);
  return tf.tidy(() => {
    const w = lossWeights(opts);
    const kl = tf.mul(tf.mean(klPerRow(studentLogits, t, temperature)), w.kl);
    return alpha === 0 ? (kl as tf.Scalar) : (tf.add(tf.mul(crossEntropy(studentLogits, labels), w.ce), kl) as tf.Scalar);
  });
}

/**
 * The two terms of {@link distillationLoss}, each a batch mean, for logging: `ce` (hard labels, T = 1)
 * and `kl` = KL(p_t^T || p_s^T) without the `(1 - alpha) * T^2` factor (null when `targets` is null).
 * Same validation as the loss; the caller owns (and disposes) the returned scalars.
 */
export function lossComponents(
  studentLogits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets: Targets | null,
  opts: DistillationLossOptions,
): LossComponents {
  checkOptions(opts);
  const { temperature, alpha } = opts;
  if (targets === null && alpha < 1) requireTargets(targets, alpha);
  checkInputs(studentLogits, labels, targets, temperature);
  const ce = tf.tidy(() => crossEntropy(studentLogits, labels));
  const kl = targets === null ? null : tf.tidy(() => tf.mean(klPerRow(studentLogits, targets, temperature)) as tf.Scalar);
  return { ce, kl };
}

/**
 * Top-1 agreement between student and teacher, and the mean KL(teacher || student), for per-epoch
 * evaluation. Dense targets: KL at T = 1. Top-k targets: KL at the capture temperature (the only
 * temperature a top-k store allows) with the targets' tail rule. The teacher's top-1 class is the
 * argmax (first index on ties) for dense targets and `index[:, 0]` for top-k, which agree.
 * The caller owns (and disposes) the returned scalars.
 */
export function agreementAndKl(studentLogits: tf.Tensor2D, targets: Targets): AgreementAndKl {
  const klTemperature = targets.kind === 'dense' ? 1 : targets.captureTemperature;
  checkOptions({ temperature: klTemperature, alpha: 0 });
  checkInputs(studentLogits, null, targets, klTemperature);
  const agreement = tf.tidy(() => {
    const b = studentLogits.shape[0];
    const teacherTop =
      targets.kind === 'dense' ? tf.argMax(targets.logits, 1) : tf.reshape(tf.slice(targets.index, [0, 0], [b, 1]), [b]);
    return tf.mean(tf.cast(tf.equal(tf.argMax(studentLogits, 1), teacherTop), 'float32')) as tf.Scalar;
  });
  const kl = tf.tidy(() => tf.mean(klPerRow(studentLogits, targets, klTemperature)) as tf.Scalar);
  return { agreement, kl, klTemperature };
}
