/**
 * Headline metrics of one model on a labelled split, and of the student against the teacher.
 * All sums run in float64; every function is pure.
 */
import { DataError } from '../../pipeline/errors.ts';
import type { ClassScores } from './class-scores.ts';
import { argmaxRows, logSoftmaxRows } from './class-scores.ts';

function checkLength(what: string, got: number, expected: number): void {
  if (got !== expected) throw new DataError(`${what}: ${got} rows, expected ${expected}`);
}

/** Share of rows whose top-1 class equals the label, in [0, 1]. NaN for 0 rows. */
export function accuracy(scores: ClassScores, labels: ArrayLike<number>): number {
  checkLength('labels', labels.length, scores.rows);
  const pred = argmaxRows(scores);
  let hit = 0;
  for (let r = 0; r < scores.rows; r++) if (pred[r] === labels[r]) hit++;
  return hit / scores.rows;
}

/** Share of rows where the student's top-1 class equals the teacher's, in [0, 1]. */
export function top1Agreement(student: ClassScores, teacher: ClassScores): number {
  checkLength('teacher scores', teacher.rows, student.rows);
  const s = argmaxRows(student);
  const t = argmaxRows(teacher);
  let same = 0;
  for (let r = 0; r < student.rows; r++) if (s[r] === t[r]) same++;
  return same / student.rows;
}

/**
 * Mean over rows of KL(p_teacher || p_student) at temperature 1, in nats:
 * `sum_c p_t(c) * (log p_t(c) - log p_s(c))`; classes with p_t(c) = 0 contribute 0.
 */
export function meanKl(teacher: ClassScores, student: ClassScores): number {
  checkLength('student scores', student.rows, teacher.rows);
  if (student.classes !== teacher.classes) throw new DataError(`student has ${student.classes} classes, the teacher ${teacher.classes}`);
  const lt = logSoftmaxRows(teacher);
  const ls = logSoftmaxRows(student);
  let total = 0;
  for (let i = 0; i < lt.length; i++) {
    const p = Math.exp(lt[i]!);
    if (p > 0) total += p * (lt[i]! - ls[i]!);
  }
  return total / teacher.rows;
}

/** Mean negative log-likelihood of the labels, `-mean_r log p(label_r)`, in nats. */
export function negativeLogLikelihood(scores: ClassScores, labels: ArrayLike<number>): number {
  checkLength('labels', labels.length, scores.rows);
  const lp = logSoftmaxRows(scores);
  let total = 0;
  for (let r = 0; r < scores.rows; r++) {
    const y = labels[r]!;
    if (!Number.isInteger(y) || y < 0 || y >= scores.classes) throw new DataError(`label of row ${r} is ${y}, expected an integer in 0..${scores.classes - 1}`);
    total -= lp[r * scores.classes + y]!;
  }
  return total / scores.rows;
}
