/**
 * Token-level metrics of a sequence student against its teacher, over target positions only (see
 * sequence-scores.ts): accuracy, NLL and perplexity, top-1 agreement, KL(teacher || student) at T = 1
 * from dense logits, mean entropy of each model, ECE at token level (the classification mechanism,
 * one "row" per position) and the split of the student's errors into copied and own. Every mean is
 * over target positions, each position weighing the same (a long row counts more than a short one).
 * They are computed from the per-position numbers of split-positions.ts, so a split scored in
 * batches gives the same figures as one held in memory.
 */
import { DataError } from '../../pipeline/errors.ts';
import type { ErrorAttribution } from './error-attribution.ts';
import { attributionOf } from './error-attribution.ts';
import { calibrationOf } from './expected-calibration-error.ts';
import type { ModelPositions, SplitPositions } from './split-positions.ts';

/** One model's own figures on the target positions. */
export interface TokenModelMetrics {
  accuracy: number;
  /** Mean negative log-likelihood of the label, nats. */
  nll: number;
  /** exp(nll). */
  perplexity: number;
  /** Mean entropy of the predicted distribution, nats. */
  entropy: number;
  /** Token-level expected calibration error (15 equal-width bins). */
  ece: number;
}

/** What {@link tokenMetrics} returns. */
export interface TokenMetrics {
  /** Target positions scored. */
  positions: number;
  teacher: TokenModelMetrics;
  student: TokenModelMetrics;
  /** Share of positions where the two argmaxes agree. */
  agreement: number;
  /** Mean over positions of KL(p_teacher || p_student) at T = 1, nats. */
  klTeacherStudent: number;
  /** Student errors copied from the teacher vs its own. */
  attribution: ErrorAttribution;
}

/**
 * One model's figures on the positions `keep` (flat indices, in order) of a split.
 * @throws DataError when there is no position.
 */
export function modelTokenMetrics(m: ModelPositions, labels: ArrayLike<number>, keep: ArrayLike<number>): TokenModelMetrics {
  const n = keep.length;
  if (n === 0) throw new DataError('token metrics: no target position (every weight is 0 or every label is -100)');
  let right = 0;
  let nll = 0;
  let entropy = 0;
  const confidence = new Float64Array(n);
  const correct = new Array<boolean>(n);
  for (let k = 0; k < n; k++) {
    const i = keep[k]!;
    correct[k] = m.pred[i] === labels[i];
    if (correct[k]) right++;
    nll += m.nll[i]!;
    entropy += m.entropy[i]!;
    confidence[k] = m.confidence[i]!;
  }
  return { accuracy: right / n, nll: nll / n, perplexity: Math.exp(nll / n), entropy: entropy / n, ece: calibrationOf(confidence, correct).ece };
}

/** Share of the positions `keep` where two models' argmaxes agree. */
export function agreementOn(a: ModelPositions, b: ModelPositions, keep: ArrayLike<number>): number {
  let agree = 0;
  for (let k = 0; k < keep.length; k++) if (a.pred[keep[k]!] === b.pred[keep[k]!]) agree++;
  return agree / Math.max(keep.length, 1);
}

/**
 * The token metrics of teacher and student on the positions `keep` of a split (default: all its
 * target positions).
 * @throws DataError when there is no position.
 */
export function tokenMetrics(p: Pick<SplitPositions, 'teacher' | 'student' | 'kl' | 'labels' | 'targets'>, keep: ArrayLike<number> = p.targets): TokenMetrics {
  if (keep.length === 0) throw new DataError('token metrics: no target position (every weight is 0 or every label is -100)');
  let kl = 0;
  const labels = new Int32Array(keep.length);
  const pt = new Int32Array(keep.length);
  const ps = new Int32Array(keep.length);
  for (let k = 0; k < keep.length; k++) {
    const i = keep[k]!;
    kl += p.kl[i]!;
    labels[k] = p.labels[i]!;
    pt[k] = p.teacher.pred[i]!;
    ps[k] = p.student.pred[i]!;
  }
  return {
    positions: keep.length,
    teacher: modelTokenMetrics(p.teacher, p.labels, keep),
    student: modelTokenMetrics(p.student, p.labels, keep),
    agreement: agreementOn(p.teacher, p.student, keep),
    klTeacherStudent: kl / keep.length,
    attribution: attributionOf(pt, ps, labels),
  };
}
