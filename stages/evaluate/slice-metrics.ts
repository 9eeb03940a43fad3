import type { ClassScores } from './class-scores.ts';
import { argmaxRows } from './class-scores.ts';

/** Metrics on the rows of one value of a slice column. */
export interface SliceValueMetrics {
  /** The slice value, as text. */
  value: string;
  rows: number;
  teacherAccuracy: number;
  studentAccuracy: number;
  /** studentAccuracy - teacherAccuracy. */
  delta: number;
  /** Top-1 agreement of student and teacher on these rows. */
  agreement: number;
}

/** Per-value metrics of one slice column. */
export interface SliceMetrics {
  /** Slice column name. */
  column: string;
  /** Distinct values in the column. */
  distinctValues: number;
  /** One entry per value, largest delta loss first (most negative delta first), at most `maxValues`. */
  values: SliceValueMetrics[];
  /** Values left out beyond `maxValues` (the ones with the smallest losses). */
  omitted: number;
}

/** Default cap on the values listed per slice column. */
export const DEFAULT_MAX_SLICE_VALUES = 50;

/**
 * Teacher and student accuracy and agreement per value of a slice column, worst student loss first
 * (ties: more rows first, then value order).
 * @param maxValues - values kept per column; default 50.
 */
export function sliceMetrics(
  column: string,
  values: ArrayLike<string | number | bigint>,
  teacher: ClassScores,
  student: ClassScores,
  labels: ArrayLike<number>,
  maxValues = DEFAULT_MAX_SLICE_VALUES,
): SliceMetrics {
  const t = argmaxRows(teacher);
  const s = argmaxRows(student);
  const groups = new Map<string, { rows: number; t: number; s: number; agree: number }>();
  for (let r = 0; r < student.rows; r++) {
    const key = String(values[r]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { rows: 0, t: 0, s: 0, agree: 0 }));
    g.rows++;
    if (t[r] === labels[r]) g.t++;
    if (s[r] === labels[r]) g.s++;
    if (t[r] === s[r]) g.agree++;
  }
  const all = [...groups.entries()].map(([value, g]) => ({
    value,
    rows: g.rows,
    teacherAccuracy: g.t / g.rows,
    studentAccuracy: g.s / g.rows,
    delta: (g.s - g.t) / g.rows,
    agreement: g.agree / g.rows,
  }));
  all.sort((a, b) => a.delta - b.delta || b.rows - a.rows || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return { column, distinctValues: all.length, values: all.slice(0, maxValues), omitted: Math.max(0, all.length - maxValues) };
}
