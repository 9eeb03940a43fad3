import type { ClassScores } from './class-scores.ts';
import { argmaxRows } from './class-scores.ts';

/**
 * Where the student's errors come from. Every student error falls in exactly one group:
 * - `copied`: the teacher makes the same mistake (same wrong class): imitated;
 * - `bothWrong`: the teacher is wrong too, but predicts another class;
 * - `own`: the teacher is right: the student's own error (what distillation lost).
 * `teacherErrorsFixed` counts teacher errors the student gets right.
 */
export interface ErrorAttribution {
  /** Rows evaluated. */
  rows: number;
  /** Student errors: copied + bothWrong + own. */
  studentErrors: number;
  copied: number;
  bothWrong: number;
  own: number;
  /** Teacher errors. */
  teacherErrors: number;
  /** Teacher errors that the student gets right. */
  teacherErrorsFixed: number;
  /** copied / studentErrors (null when the student makes no error). */
  copiedShare: number | null;
  /** (copied + bothWrong) / studentErrors: student errors on inputs the teacher also gets wrong. */
  sharedShare: number | null;
  /** own / studentErrors. */
  ownShare: number | null;
}

/** Splits the student's errors into copied, both-wrong and own (see {@link ErrorAttribution}). */
export function errorAttribution(teacher: ClassScores, student: ClassScores, labels: ArrayLike<number>): ErrorAttribution {
  return attributionOf(argmaxRows(teacher), argmaxRows(student), labels);
}

/** {@link errorAttribution} from each row's predicted class under the teacher and the student. */
export function attributionOf(t: ArrayLike<number>, s: ArrayLike<number>, labels: ArrayLike<number>): ErrorAttribution {
  let copied = 0;
  let bothWrong = 0;
  let own = 0;
  let teacherErrors = 0;
  let fixed = 0;
  for (let r = 0; r < s.length; r++) {
    const y = labels[r];
    const tRight = t[r] === y;
    const sRight = s[r] === y;
    if (!tRight) teacherErrors++;
    if (!tRight && sRight) fixed++;
    if (sRight) continue;
    if (tRight) own++;
    else if (t[r] === s[r]) copied++;
    else bothWrong++;
  }
  const errors = copied + bothWrong + own;
  const share = (n: number): number | null => (errors > 0 ? n / errors : null);
  return {
    rows: s.length,
    studentErrors: errors,
    copied,
    bothWrong,
    own,
    teacherErrors,
    teacherErrorsFixed: fixed,
    copiedShare: share(copied),
    sharedShare: share(copied + bothWrong),
    ownShare: share(own),
  };
}
