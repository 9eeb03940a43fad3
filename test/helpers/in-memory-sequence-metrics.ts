/**
 * The sequence report's metrics as they were computed before the evaluation streamed (commit de3a389,
 * stages/evaluate/token-metrics.ts, token-slice-metrics.ts, lm-metrics.ts, sequence-baseline.ts): from
 * the full `[rows, P, V]` logits of a split held in memory, target positions gathered into float64
 * copies, every metric one pass over them. Kept here, unchanged in substance, as the reference the
 * streamed per-position computation (stages/evaluate/split-positions.ts) must equal.
 */
import type { ClassScores } from '../../stages/evaluate/class-scores.ts';
import { argmaxRows, logSoftmaxRows, topProbability } from '../../stages/evaluate/class-scores.ts';
import { errorAttribution } from '../../stages/evaluate/error-attribution.ts';
import { expectedCalibrationError } from '../../stages/evaluate/expected-calibration-error.ts';
import type { BucketNll, LmCascadeResult } from '../../stages/evaluate/lm-metrics.ts';
import { scoreLmCascade } from '../../stages/evaluate/lm-metrics.ts';
import type { TargetPositions } from '../../stages/evaluate/sequence-scores.ts';
import type { TokenMetrics, TokenModelMetrics } from '../../stages/evaluate/token-metrics.ts';
import { chooseCascadeThreshold } from '../../stages/evaluate/unit-cascade.ts';
import type { CascadeUnits } from '../../stages/evaluate/unit-cascade.ts';

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

/** The old tokenMetrics(teacher, student, labels) on gathered target positions. */
export function denseTokenMetrics(teacher: ClassScores, student: ClassScores, labels: ArrayLike<number>): TokenMetrics {
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
  return { positions: student.rows, teacher: modelMetrics(teacher, lt, labels), student: modelMetrics(student, ls, labels), agreement: agree / student.rows, klTeacherStudent: kl / student.rows, attribution: errorAttribution(teacher, student, labels) };
}

function selectRows(scores: ClassScores, keep: ArrayLike<number>): ClassScores {
  const V = scores.classes;
  const logits = new Float64Array(keep.length * V);
  for (let k = 0; k < keep.length; k++) for (let c = 0; c < V; c++) logits[k * V + c] = scores.logits[keep[k]! * V + c]!;
  return { rows: keep.length, classes: V, logits };
}

/** The old tokenSliceMetrics: metrics per value of a per-position slice, values sorted as text. */
export function denseSliceMetrics(teacher: TargetPositions, student: ClassScores, slice: ArrayLike<number | string>): { value: string; metrics: TokenMetrics }[] {
  const groups = new Map<string, number[]>();
  for (let k = 0; k < teacher.index.length; k++) {
    const v = String(slice[teacher.index[k]!]);
    groups.set(v, [...(groups.get(v) ?? []), k]);
  }
  return [...groups.keys()].sort().map((value) => {
    const keep = groups.get(value)!;
    return { value, metrics: denseTokenMetrics(selectRows(teacher.scores, keep), selectRows(student, keep), Int32Array.from(keep, (k) => teacher.labels[k]!)) };
  });
}

function positionNll(t: Pick<TargetPositions, 'scores' | 'labels'>): Float64Array {
  const V = t.scores.classes;
  const logp = logSoftmaxRows(t.scores);
  return Float64Array.from(t.labels, (y, k) => -logp[k * V + y]!);
}

/** The old nllByTokenBucket. */
export function denseNllByBucket(teacher: TargetPositions, student: TargetPositions, bucketOf: ReadonlyMap<number, string>): BucketNll[] {
  const nt = positionNll(teacher);
  const ns = positionNll(student);
  const acc = new Map<string, BucketNll>();
  for (const b of bucketOf.values()) if (!acc.has(b)) acc.set(b, { bucket: b, positions: 0, teacherNll: 0, studentNll: 0 });
  teacher.labels.forEach((y, k) => {
    const e = acc.get(bucketOf.get(y)!)!;
    e.positions++;
    e.teacherNll += nt[k]!;
    e.studentNll += ns[k]!;
  });
  return [...acc.values()].map((e) => (e.positions > 0 ? { ...e, teacherNll: e.teacherNll / e.positions, studentNll: e.studentNll / e.positions } : e));
}

/** One split's gathered target positions (the old LmSplit). */
export interface DenseLmSplit {
  teacher: TargetPositions;
  student: TargetPositions;
  positions: number;
}

function units(split: DenseLmSplit, level: 'position' | 'window'): CascadeUnits & { size: number[] } {
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

/** The old lmCascade (recover 0.9): its units from dense logits, scored by the shared scoreLmCascade. */
export function denseLmCascade(validation: DenseLmSplit, test: DenseLmSplit, level: 'position' | 'window'): LmCascadeResult {
  return scoreLmCascade(level, chooseCascadeThreshold(units(validation, level)), units(test, level));
}
