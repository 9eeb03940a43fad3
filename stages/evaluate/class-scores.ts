/**
 * Per-row class scores, the common currency of the evaluate stage: the teacher's and the student's
 * outputs on a split, as logits (or log-probabilities, which give the same softmax).
 */
import { DataError } from '../../pipeline/errors.ts';

/** `rows` x `classes` scores, row-major: logits or log-probabilities. */
export interface ClassScores {
  readonly rows: number;
  readonly classes: number;
  /** rows * classes values; row r is `logits[r * classes .. (r + 1) * classes)`. */
  readonly logits: Float32Array | Float64Array;
}

/** Checks that `scores` holds rows * classes finite values; a DataError naming `what` otherwise. */
export function checkScores(scores: ClassScores, what: string): void {
  if (scores.logits.length !== scores.rows * scores.classes) {
    throw new DataError(`${what}: ${scores.logits.length} scores, expected rows * classes = ${scores.rows} * ${scores.classes}`);
  }
  for (let i = 0; i < scores.logits.length; i++) {
    if (!Number.isFinite(scores.logits[i]!)) {
      throw new DataError(`${what}: row ${Math.floor(i / scores.classes)} class ${i % scores.classes} is ${scores.logits[i]}, expected a finite logit`);
    }
  }
}

/** Row-wise log-softmax in float64 (max-subtracted, so large logits do not overflow). */
export function logSoftmaxRows(scores: ClassScores): Float64Array {
  const { rows, classes, logits } = scores;
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[o + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c]! - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < classes; c++) out[o + c] = logits[o + c]! - lse;
  }
  return out;
}

/** Index of the largest score of each row (the first one on ties, like tf.argMax). */
export function argmaxRows(scores: ClassScores): Int32Array {
  const { rows, classes, logits } = scores;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[o + c]! > logits[o + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** The largest softmax probability of each row (the model's confidence), in [1/classes, 1]. */
export function topProbability(scores: ClassScores): Float64Array {
  const logp = logSoftmaxRows(scores);
  const { rows, classes } = scores;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logp[r * classes + c]!);
    out[r] = Math.exp(max);
  }
  return out;
}

/** The first `n` rows of `scores` (a view, no copy). */
export function headRows(scores: ClassScores, n: number): ClassScores {
  const rows = Math.min(n, scores.rows);
  return { rows, classes: scores.classes, logits: scores.logits.subarray(0, rows * scores.classes) };
}
