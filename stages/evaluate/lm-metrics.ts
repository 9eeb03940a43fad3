/**
 * Language-model evaluation beyond the token metrics: NLL by the target token's frequency bucket
 * (an id -> bucket map, e.g. frequent / middle / rare by train counts from the experiment's data
 * record), perplexity and KL per value of a per-row slice (the genre of a window), and a cascade
 * that defers a position or a whole window (dataset row) to the teacher.
 *
 * Cascade units: a position's confidence is the student's top probability, its cost its NLL of the
 * label; a window's confidence is the mean of its positions' confidences (the minimum over 100+
 * positions is near 0 for every window), its cost their summed NLL. tau is chosen on validation to buy
 * back a share of the NLL gap (unit-cascade.ts) and applied to test; perplexity recovered =
 * (ppl_student - ppl_cascade) / (ppl_student - ppl_teacher).
 */
import { DataError } from '../../pipeline/errors.ts';
import type { SplitPositions } from './split-positions.ts';
import { groupTargets, rowSliceToPositions } from './token-slice-metrics.ts';
import type { CascadeThreshold, CascadeUnits } from './unit-cascade.ts';
import { chooseCascadeThreshold, DEFAULT_CASCADE_RECOVER, deferredUnits } from './unit-cascade.ts';

/** NLL of one bucket. */
export interface BucketNll {
  bucket: string;
  positions: number;
  teacherNll: number;
  studentNll: number;
}

/**
 * Mean NLL per bucket of the target token; buckets in order of first appearance in `bucketOf`'s values.
 * @throws DataError when a target token has no bucket.
 */
export function nllByTokenBucket(p: SplitPositions, bucketOf: ReadonlyMap<number, string>): BucketNll[] {
  const acc = new Map<string, BucketNll>();
  for (const b of bucketOf.values()) if (!acc.has(b)) acc.set(b, { bucket: b, positions: 0, teacherNll: 0, studentNll: 0 });
  for (const i of p.targets) {
    const y = p.labels[i]!;
    const b = bucketOf.get(y);
    if (b === undefined) throw new DataError(`token bucket map: token id ${y} (target position ${i}) has no bucket`);
    const e = acc.get(b)!;
    e.positions++;
    e.teacherNll += p.teacher.nll[i]!;
    e.studentNll += p.student.nll[i]!;
  }
  return [...acc.values()].map((e) => (e.positions > 0 ? { ...e, teacherNll: e.teacherNll / e.positions, studentNll: e.studentNll / e.positions } : e));
}

/** One value of a per-row slice (e.g. a genre): its target positions, each model's perplexity, the KL. */
export interface LmSliceRow {
  value: string;
  /** Target positions (predicted tokens) of the value's rows. */
  positions: number;
  teacherPerplexity: number;
  studentPerplexity: number;
  /** The hard-label baseline's perplexity (null without a baseline). */
  baselinePerplexity: number | null;
  /** Mean KL(teacher || student) at T = 1, nats. */
  klTeacherStudent: number;
}

/**
 * Perplexity of each model and KL per value of every per-row slice of the split (values sorted as
 * text): the per-genre table of a language model.
 */
export function lmRowSlices(p: SplitPositions): Record<string, LmSliceRow[]> {
  const out: Record<string, LmSliceRow[]> = {};
  const ppl = (nll: Float64Array, keep: Int32Array): number => {
    let s = 0;
    for (const i of keep) s += nll[i]!;
    return Math.exp(s / Math.max(keep.length, 1));
  };
  for (const [name, col] of Object.entries(p.rowSlices ?? {})) {
    out[name] = [...groupTargets(p.targets, rowSliceToPositions(col, p.positions), name)].map(([value, keep]) => {
      let kl = 0;
      for (const i of keep) kl += p.kl[i]!;
      return {
        value,
        positions: keep.length,
        teacherPerplexity: ppl(p.teacher.nll, keep),
        studentPerplexity: ppl(p.student.nll, keep),
        baselinePerplexity: p.baseline ? ppl(p.baseline.nll, keep) : null,
        klTeacherStudent: kl / Math.max(keep.length, 1),
      };
    });
  }
  return out;
}

/** Cascade units of a split at position or window level. */
export function lmCascadeUnits(p: SplitPositions, level: 'position' | 'window'): CascadeUnits & { size: number[] } {
  const t = p.targets;
  if (level === 'position') {
    return { confidence: Float64Array.from(t, (i) => p.student.confidence[i]!), studentCost: Float64Array.from(t, (i) => p.student.nll[i]!), teacherCost: Float64Array.from(t, (i) => p.teacher.nll[i]!), size: Array.from(t, () => 1) };
  }
  const rows = new Map<number, { c: number; s: number; t: number; n: number }>();
  for (const i of t) {
    const r = Math.floor(i / p.positions);
    const e = rows.get(r) ?? { c: 0, s: 0, t: 0, n: 0 };
    e.c += p.student.confidence[i]!;
    e.s += p.student.nll[i]!;
    e.t += p.teacher.nll[i]!;
    e.n++;
    rows.set(r, e);
  }
  const w = [...rows.values()];
  return { confidence: w.map((e) => e.c / e.n), studentCost: w.map((e) => e.s), teacherCost: w.map((e) => e.t), size: w.map((e) => e.n) };
}
/** What {@link lmCascade} reports on test. */
export interface LmCascadeResult {
  level: 'position' | 'window';
  threshold: CascadeThreshold;
  /** Share of units (positions or windows) deferred on test. */
  unitsDeferredShare: number;
  /** Share of target positions deferred on test. */
  positionsDeferredShare: number;
  studentPerplexity: number;
  teacherPerplexity: number;
  cascadePerplexity: number;
  /** Share of the perplexity gap bought back; null when the student is no worse than the teacher. */
  perplexityRecovered: number | null;
}

/** Chooses tau on `validation` and scores the cascade at `level` on `test`. */
export function lmCascade(validation: SplitPositions, test: SplitPositions, level: 'position' | 'window', recover = DEFAULT_CASCADE_RECOVER): LmCascadeResult {
  const threshold = chooseCascadeThreshold(lmCascadeUnits(validation, level), recover);
  return scoreLmCascade(level, threshold, lmCascadeUnits(test, level));
}

/** The cascade at threshold `threshold.tau` over test units `u`: shares deferred and the three perplexities. */
export function scoreLmCascade(level: 'position' | 'window', threshold: LmCascadeResult['threshold'], u: CascadeUnits & { size: number[] }): LmCascadeResult {
  const d = deferredUnits(u.confidence, threshold.tau);
  let s = 0;
  let t = 0;
  let c = 0;
  let n = 0;
  let nd = 0;
  d.forEach((defer, k) => {
    s += u.studentCost[k]!;
    t += u.teacherCost[k]!;
    c += defer === 1 ? u.teacherCost[k]! : u.studentCost[k]!;
    n += u.size[k]!;
    if (defer === 1) nd += u.size[k]!;
  });
  const ppl = (x: number): number => Math.exp(x / Math.max(n, 1));
  const [ps, pt, pc] = [ppl(s), ppl(t), ppl(c)];
  return {
    level,
    threshold,
    unitsDeferredShare: d.length > 0 ? d.reduce((a, b) => a + b, 0) / d.length : 0,
    positionsDeferredShare: n > 0 ? nd / n : 0,
    studentPerplexity: ps,
    teacherPerplexity: pt,
    cascadePerplexity: pc,
    perplexityRecovered: ps > pt ? (ps - pc) / (ps - pt) : null,
  };
}
