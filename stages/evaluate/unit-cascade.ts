/**
 * The cascade for sequences: the unit deferred to the teacher is a word (diacritisation), a position
 * or a window (language model). Each unit has the student's confidence and a cost under each model
 * (letter errors, summed NLL). A unit goes to the teacher when its confidence is < tau.
 *
 * The threshold is chosen on validation and only applied to test: on validation, tau is the cut with
 * the fewest units deferred whose total cost is at most `teacher + (1 - recover) * (student - teacher)`
 * (recover = 0.9: buy back 90% of the student's gap). When the student is no worse than the teacher,
 * nothing is deferred (tau = 0).
 */
import { DataError } from '../../pipeline/errors.ts';

/** Per-unit inputs of the cascade (same length). */
export interface CascadeUnits {
  /** Student confidence per unit (higher = surer). */
  confidence: ArrayLike<number>;
  /** Cost of the student's answer per unit. */
  studentCost: ArrayLike<number>;
  /** Cost of the teacher's answer per unit. */
  teacherCost: ArrayLike<number>;
}

/** A chosen threshold and what it gives on the units it was chosen on. */
export interface CascadeThreshold {
  /** Defer units with confidence < tau (Infinity = defer all). */
  tau: number;
  /** Share of the gap to buy back the threshold was chosen for. */
  recover: number;
  /** Share of units deferred on the units it was chosen on. */
  deferredShare: number;
  /** True when even deferring every unit does not reach the target. */
  unreachable: boolean;
}

/** Default share of the student's gap to the teacher that the cascade must buy back. */
export const DEFAULT_CASCADE_RECOVER = 0.9;

function check(u: CascadeUnits): number {
  const n = u.confidence.length;
  if (u.studentCost.length !== n || u.teacherCost.length !== n) {
    throw new DataError(`cascade: confidence (${n}), studentCost (${u.studentCost.length}) and teacherCost (${u.teacherCost.length}) must have one value per unit`);
  }
  return n;
}

/** Chooses tau on (validation) units; see the file comment for the rule. */
export function chooseCascadeThreshold(units: CascadeUnits, recover = DEFAULT_CASCADE_RECOVER): CascadeThreshold {
  const n = check(units);
  let s = 0;
  let t = 0;
  for (let i = 0; i < n; i++) {
    s += units.studentCost[i]!;
    t += units.teacherCost[i]!;
  }
  if (n === 0 || s <= t) return { tau: 0, recover, deferredShare: 0, unreachable: false };
  const target = t + (1 - recover) * (s - t);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => units.confidence[a]! - units.confidence[b]! || a - b);
  let cost = s;
  for (let k = 0; k <= n; k++) {
    const cut = k === 0 || k === n || units.confidence[order[k - 1]!] !== units.confidence[order[k]!];
    if (cut && cost <= target + 1e-9 * Math.abs(target)) {
      return { tau: k === 0 ? 0 : k < n ? units.confidence[order[k]!]! : Infinity, recover, deferredShare: k / n, unreachable: false };
    }
    if (k < n) cost += units.teacherCost[order[k]!]! - units.studentCost[order[k]!]!;
  }
  return { tau: Infinity, recover, deferredShare: 1, unreachable: true };
}

/** Which units a threshold defers (confidence < tau). */
export function deferredUnits(confidence: ArrayLike<number>, tau: number): Uint8Array {
  return Uint8Array.from(Array.from(confidence, (c) => (c < tau ? 1 : 0)));
}
