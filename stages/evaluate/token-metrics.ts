/**
 * Token-level metrics of a sequence student against its teacher, over target positions only (see
 * sequence-scores.ts): accuracy, NLL and perplexity, top-1 agreement, KL(teacher || student) at T = 1
 * from dense logits, mean entropy of each model, ECE at token level (the classification mechanism,
 * one "row" per position) and the split of the student's errors into copied and own. Every mean is
 * over target positions, each position weighing the same (a long row counts more than a short one).
 */
import { DataError } from '../../pipeline/errors.ts';
import type { ClassScores } from './class-scores.ts';
import { argmaxRows, logSoftmaxRows } from './class-scores.ts';
import type { ErrorAttribution } from './error-attribution.ts';
import { errorAttribution } from './error-attribution.ts';
import { expectedCalibrationError } from './expected-calibration-error.ts';

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

function modelMetrics(scores: ClassScores, logp: Float64Array, labels: ArrayLike<number>): TokenModelMetrics {
  const { rows, classes } = scores;
  const pred = argmaxRows(scores);
  let right = 0;
  let nll = 0;
  let entropy = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    if (pred[r] === labels[r]) right++;
    nll -= logp[o + labels[r]!]!;
    for (let c = 0; c < classes; c++) {
      const lp = logp[o + c]!;
      if (lp > -Infinity) entropy -= Math.exp(lp) * lp;
    }
  }
  const n = Math.max(rows, 1);
  return { accuracy: right / n, nll: nll / n, perplexity: Math.exp(nll / n), entropy: entropy / n, ece: expectedCalibrationError(scores, labels).ece };
}

/**
 * The token metrics of teacher and student on the same gathered target positions.
 * @throws DataError when the two do not cover the same positions and classes, or there is no position.
 */
export function tokenMetrics(teacher: ClassScores, student: ClassScores, labels: ArrayLike<number>): TokenMetrics {
  if (teacher.rows !== student.rows || teacher.classes !== student.classes || labels.length !== student.rows) {
    throw new DataError(`token metrics: teacher ${teacher.rows}x${teacher.classes}, student ${student.rows}x${student.classes} and ${labels.length} labels must cover the same positions`);
  }
  if (student.rows === 0) throw new DataError('token metrics: no target position (every weight is 0 or every label is -100)');
  const lt = logSoftmaxRows(teacher);
  const ls = logSoftmaxRows(student);
  const V = student.classes;
  const pt = argmaxRows(teacher);
  const ps = argmaxRows(student);
  let agree = 0;
  let kl = 0;
  for (let r = 0; r < student.rows; r++) {
    if (pt[r] === ps[r]) agree++;
    for (let c = 0; c < V; c++) {
      const a = lt[r * V + c]!;
      if (a > -Infinity) kl += Math.exp(a) * (a - ls[r * V + c]!);
    }
  }
  return {
    positions: student.rows,
    teacher: modelMetrics(teacher, lt, labels),
    student: modelMetrics(student, ls, labels),
    agreement: agree / student.rows,
    klTeacherStudent: kl / student.rows,
    attribution: errorAttribution(teacher, student, labels),
  };
}

/** The positions `keep` (indices into the gathered rows) of some scores. */
export function selectRows(scores: ClassScores, keep: ArrayLike<number>): ClassScores {
  const V = scores.classes;
  const logits = new Float64Array(keep.length * V);
  for (let k = 0; k < keep.length; k++) for (let c = 0; c < V; c++) logits[k * V + c] = scores.logits[keep[k]! * V + c]!;
  return { rows: keep.length, classes: V, logits };
}
