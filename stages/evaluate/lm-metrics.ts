/**
 * Language-model evaluation beyond the token metrics: NLL by the target token's frequency bucket
 * (an id -> bucket map, e.g. frequent / middle / rare by train counts from the experiment's data
 * record), and a cascade that defers a position or a whole window (dataset row) to the teacher.
 *
 * Cascade units: a position's confidence is the student's top probability, its cost its NLL of the
 * label; a window's confidence is the mean of its positions' confidences (the minimum over 100+
 * positions is near 0 for every window), its cost their summed NLL. tau is chosen on validation to buy
 * back a share of the NLL gap (unit-cascade.ts) and applied to test; perplexity recovered =
 * (ppl_student - ppl_cascade) / (ppl_student - ppl_teacher).
 */
import { DataError } from '../../pipeline/errors.ts';
import { logSoftmaxRows, topProbability } from './class-scores.ts';
import type { TargetPositions } from './sequence-scores.ts';
import type { CascadeThreshold, CascadeUnits } from './unit-cascade.ts';
import { chooseCascadeThreshold, DEFAULT_CASCADE_RECOVER, deferredUnits } from './unit-cascade.ts';

/** NLL of one bucket. */
export interface BucketNll {
  bucket: string;
  positions: number;
  teacherNll: number;
  studentNll: number;
}

/** Per-position NLL of the label, nats. */
export function positionNll(t: Pick<TargetPositions, 'scores' | 'labels'>): Float64Array {
  const V = t.scores.classes;
  const logp = logSoftmaxRows(t.scores);
  return Float64Array.from(t.labels, (y, k) => -logp[k * V + y]!);
}

/**
 * Mean NLL per bucket of the target token; buckets in order of first appearance in `bucketOf`'s values.
 * @throws DataError when a target token has no bucket.
 */
export function nllByTokenBucket(teacher: TargetPositions, student: TargetPositions, bucketOf: ReadonlyMap<number, string>): BucketNll[] {
  const nt = positionNll(teacher);
  const ns = positionNll(student);
  const acc = new Map<string, BucketNll>();
  for (const b of bucketOf.values()) if (!acc.has(b)) acc.set(b, { bucket: b, positions: 0, teacherNll: 0, studentNll: 0 });
  teacher.labels.forEach((y, k) => {
    const b = bucketOf.get(y);
    if (b === undefined) throw new DataError(`token bucket map: token id ${y} (target position ${teacher.index[k]}) has no bucket`);
    const e = acc.get(b)!;
    e.positions++;
    e.teacherNll += nt[k]!;
    e.studentNll += ns[k]!;
  });
  return [...acc.values()].map((e) => (e.positions > 0 ? { ...e, teacherNll: e.teacherNll / e.positions, studentNll: e.studentNll / e.positions } : e));
}

/** One split's gathered target positions, teacher and student (same positions). */
export interface LmSplit {
  teacher: TargetPositions;
  student: TargetPositions;
  /** P, to find the row (window) of a flat position index. */
  positions: number;
}

/** Cascade units of a split at position or window level. */
export function lmCascadeUnits(split: LmSplit, level: 'position' | 'window'): CascadeUnits & { size: number[] } {
  const conf = topProbability(split.student.scores);
  const ns = positionNll(split.student);
  const nt = positionNll(split.teacher);
  if (level === 'position') return { confidence: conf, studentCost: ns, teacherCost: nt, size: Array.from(conf, () => 1) };
  const rows = new Map<number, { c: number; s: number; t: number; n: number }>();
  split.student.index.forEach((i, k) => {
    const r = Math.floor(i / split.positions);
    const e = rows.get(r) ?? { c: 0, s: 0, t: 0, n: 0 };
    e.c += conf[k]!;
    e.s += ns[k]!;
    e.t += nt[k]!;
    e.n++;
    rows.set(r, e);
  });
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
export function lmCascade(validation: LmSplit, test: LmSplit, level: 'position' | 'window', recover = DEFAULT_CASCADE_RECOVER): LmCascadeResult {
  const threshold = chooseCascadeThreshold(lmCascadeUnits(validation, level), recover);
  const u = lmCascadeUnits(test, level);
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
