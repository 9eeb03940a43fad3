import type { ClassScores } from './class-scores.ts';
import { argmaxRows } from './class-scores.ts';

/** Accuracy of teacher and student on the rows of one true class. */
export interface ClassAccuracy {
  /** Class index. */
  class: number;
  /** Class name (from the teacher card) or the index as text. */
  name: string;
  /** Rows whose label is this class. */
  count: number;
  /** Teacher accuracy on them; null when count is 0. */
  teacher: number | null;
  /** Student accuracy on them; null when count is 0. */
  student: number | null;
  /** student - teacher (negative: the student lost accuracy); null when count is 0. */
  delta: number | null;
}

/**
 * Per true class: how often the teacher and the student are right (recall per class).
 * @param names - class names; default the class indices.
 */
export function perClassAccuracy(teacher: ClassScores, student: ClassScores, labels: ArrayLike<number>, names?: readonly string[]): ClassAccuracy[] {
  const t = argmaxRows(teacher);
  const s = argmaxRows(student);
  const classes = student.classes;
  const count = new Array<number>(classes).fill(0);
  const tHit = new Array<number>(classes).fill(0);
  const sHit = new Array<number>(classes).fill(0);
  for (let r = 0; r < student.rows; r++) {
    const y = labels[r]!;
    count[y]!++;
    if (t[r] === y) tHit[y]!++;
    if (s[r] === y) sHit[y]!++;
  }
  return count.map((n, c) => {
    const ta = n > 0 ? tHit[c]! / n : null;
    const sa = n > 0 ? sHit[c]! / n : null;
    return { class: c, name: names?.[c] ?? String(c), count: n, teacher: ta, student: sa, delta: n > 0 ? sa! - ta! : null };
  });
}
