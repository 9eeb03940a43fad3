/**
 * The way back to the teacher: a cascade answers with the student when its top probability is at
 * least tau and defers the input to the teacher otherwise (defer when confidence < tau). Pure: the
 * teacher's and student's scores on the same rows are given; nothing is re-run.
 */
import type { ClassScores } from './class-scores.ts';
import { argmaxRows, topProbability } from './class-scores.ts';

/** One threshold of the sweep. */
export interface CascadePoint {
  /** Threshold: rows with student confidence < tau go to the teacher. */
  tau: number;
  /** Share of rows deferred, in [0, 1]. */
  deferredShare: number;
  /** Accuracy of the cascade's answers, in [0, 1]. */
  accuracy: number;
  /** Mean time per input in ms, `studentMs + deferredShare * teacherMs` (null without latencies). */
  timeMs: number | null;
}

/** The smallest deferral that reaches the target accuracy. */
export interface CascadeOperatingPoint extends CascadePoint {
  /** True when even deferring every input does not reach the target (the point is then "defer all"). */
  unreachable: boolean;
  /** True when the point defers every input; `tau` is then null in JSON terms (use {@link CascadePoint.tau} = Infinity). */
  defersAll: boolean;
}

/** Result of {@link cascadeCurve}. */
export interface CascadeResult {
  /** Accuracy target the operating point is chosen for. */
  target: number;
  /** Sweep, tau ascending (deferred share non-decreasing). */
  points: CascadePoint[];
  /** The smallest tau (smallest deferred share) whose cascade accuracy is >= target. */
  operatingPoint: CascadeOperatingPoint;
  /** Latencies used for time, ms per input at batch 1 (null when not given). */
  studentMs: number | null;
  teacherMs: number | null;
}

/** Thresholds always in the sweep (confidences of a trained model crowd near 1). */
export const CASCADE_TAU_GRID: readonly number[] = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999, 1];

/** Options of {@link cascadeCurve}. */
export interface CascadeOptions {
  /** Accuracy to reach, in [0, 1]. */
  target: number;
  /** Student and teacher latency per input, ms (batch 1); default none (timeMs null). */
  latency?: { studentMs: number; teacherMs: number };
  /** Extra thresholds at these deferred shares (student-confidence quantiles); default 0.01..0.3. */
  quantiles?: readonly number[];
}

const DEFAULT_QUANTILES = [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3];

/**
 * Sweeps tau and finds the operating point. The operating point search is exact: every distinct
 * student confidence is a candidate cut, and the first cut (fewest rows deferred) whose accuracy
 * reaches `target` is returned.
 */
export function cascadeCurve(teacher: ClassScores, student: ClassScores, labels: ArrayLike<number>, opts: CascadeOptions): CascadeResult {
  const n = student.rows;
  const conf = topProbability(student);
  const s = argmaxRows(student);
  const t = argmaxRows(teacher);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => conf[a]! - conf[b]! || a - b);
  // gain[k] = (teacher right - student right) summed over the k least confident rows.
  const gain = new Float64Array(n + 1);
  let studentRight = 0;
  for (let k = 0; k < n; k++) {
    const r = order[k]!;
    const sr = s[r] === labels[r] ? 1 : 0;
    const tr = t[r] === labels[r] ? 1 : 0;
    studentRight += sr;
    gain[k + 1] = gain[k]! + tr - sr;
  }
  const time = (share: number): number | null => (opts.latency ? opts.latency.studentMs + share * opts.latency.teacherMs : null);
  const at = (k: number, tau: number): CascadePoint => ({ tau, deferredShare: k / n, accuracy: (studentRight + gain[k]!) / n, timeMs: time(k / n) });
  // Rows deferred at tau: how many confidences are < tau (binary search in the sorted order).
  const deferredAt = (tau: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (conf[order[mid]!]! < tau) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const taus = new Set<number>(CASCADE_TAU_GRID);
  for (const q of opts.quantiles ?? DEFAULT_QUANTILES) if (n > 0) taus.add(conf[order[Math.min(n - 1, Math.floor(q * n))]!]!);
  const points = [...taus].sort((a, b) => a - b).map((tau) => at(deferredAt(tau), tau));
  points.push({ ...at(n, Infinity) });

  let op: CascadeOperatingPoint | null = null;
  for (let k = 0; k <= n && !op; k++) {
    // A cut after k rows is only possible between two different confidences.
    if (k > 0 && k < n && conf[order[k - 1]!] === conf[order[k]!]) continue;
    const p = at(k, k === 0 ? 0 : k < n ? conf[order[k]!]! : Infinity);
    if (p.accuracy >= opts.target) op = { ...p, unreachable: false, defersAll: k === n };
  }
  op ??= { ...at(n, Infinity), unreachable: true, defersAll: true };
  return { target: opts.target, points, operatingPoint: op, studentMs: opts.latency?.studentMs ?? null, teacherMs: opts.latency?.teacherMs ?? null };
}

/** Where a cascade's threshold was chosen, and how the chosen threshold did there. */
export interface CascadeSelection {
  /** validation: tau chosen on the validation rows and scored once on test; test: chosen and scored on the same test rows (no validation rows configured: optimistic). */
  on: 'validation' | 'test';
  /** The rows tau was chosen on: a split name and a description. */
  split: string;
  rows: number;
  description: string;
  /** The operating point on the rows it was chosen on. */
  chosen: CascadeOperatingPoint;
}

/**
 * The cascade at a fixed threshold tau (defer rows whose student confidence < tau) on other rows:
 * how a threshold chosen on validation rows does on the test rows. `unreachable` is true when the
 * accuracy there is below `target`; tau = Infinity defers every row.
 */
export function cascadeAt(teacher: ClassScores, student: ClassScores, labels: ArrayLike<number>, tau: number, target: number, latency?: { studentMs: number; teacherMs: number }): CascadeOperatingPoint {
  const n = student.rows;
  const conf = topProbability(student);
  const s = argmaxRows(student);
  const t = argmaxRows(teacher);
  let deferred = 0;
  let right = 0;
  for (let r = 0; r < n; r++) {
    const defer = conf[r]! < tau;
    if (defer) deferred++;
    right += (defer ? t[r] : s[r]) === labels[r] ? 1 : 0;
  }
  const share = n === 0 ? 0 : deferred / n;
  const accuracy = n === 0 ? 0 : right / n;
  return { tau, deferredShare: share, accuracy, timeMs: latency ? latency.studentMs + share * latency.teacherMs : null, unreachable: accuracy < target, defersAll: deferred === n };
}
