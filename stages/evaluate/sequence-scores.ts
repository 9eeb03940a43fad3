/**
 * Per-position scores of a sequence model on a split, and the step that turns them into the
 * classification currency of this stage: only target positions (weight 1 and a label that is not
 * the ignore index -100) are kept, flattened row-major (row, position), so accuracy, ECE, the error
 * attribution and the cascade of the classification report apply unchanged to tokens.
 */
import { DataError } from '../../pipeline/errors.ts';
import type { ClassScores } from './class-scores.ts';

/** The ignore index of a labels column: the position has no target. */
export const IGNORE_INDEX = -100;

/** `rows` x `positions` x `classes` logits, row-major (row, position, class). */
export interface SequenceScores {
  readonly rows: number;
  /** P target positions per row: L for token classification, L - 1 for causal LM. */
  readonly positions: number;
  /** Vocabulary or class count V. */
  readonly classes: number;
  /** rows * positions * classes logits. */
  readonly logits: Float32Array | Float64Array;
}

/** The target positions of a split, gathered. */
export interface TargetPositions {
  /** One row per target position, in (row, position) order. */
  scores: ClassScores;
  /** The label of each target position. */
  labels: Int32Array;
  /** Flat index row * positions + position of each target position (to look up slices). */
  index: Int32Array;
}

/** Checks that the arrays of a split agree in size; a DataError naming `what` otherwise. */
export function checkSequenceShape(scores: SequenceScores, weight: ArrayLike<number>, labels: ArrayLike<number>, what: string): void {
  const n = scores.rows * scores.positions;
  if (scores.logits.length !== n * scores.classes) {
    throw new DataError(`${what}: ${scores.logits.length} logits, expected rows * positions * classes = ${scores.rows} * ${scores.positions} * ${scores.classes}`);
  }
  if (weight.length !== n) throw new DataError(`${what}: weight has ${weight.length} values, expected rows * positions = ${n}`);
  if (labels.length !== n) throw new DataError(`${what}: labels has ${labels.length} values, expected rows * positions = ${n}`);
}

/** True when flat position i is a target position: weight > 0 and a label in [0, classes). */
export function isTarget(weight: ArrayLike<number>, labels: ArrayLike<number>, i: number, classes: number, what = 'labels'): boolean {
  if (!(weight[i]! > 0) || labels[i] === IGNORE_INDEX) return false;
  const y = labels[i]!;
  if (!Number.isInteger(y) || y < 0 || y >= classes) {
    throw new DataError(`${what}: position ${i} has label ${y}, expected an id in [0, ${classes}) or ${IGNORE_INDEX}`);
  }
  return true;
}

/**
 * Keeps the target positions of `scores` (weight > 0 and label != -100), in order.
 * @throws DataError when sizes disagree or a target label is outside [0, classes).
 */
export function gatherTargetPositions(scores: SequenceScores, weight: ArrayLike<number>, labels: ArrayLike<number>, what = 'sequence scores'): TargetPositions {
  checkSequenceShape(scores, weight, labels, what);
  const V = scores.classes;
  const keep: number[] = [];
  for (let i = 0; i < scores.rows * scores.positions; i++) if (isTarget(weight, labels, i, V, what)) keep.push(i);
  const logits = new Float64Array(keep.length * V);
  const y = new Int32Array(keep.length);
  keep.forEach((i, k) => {
    for (let c = 0; c < V; c++) logits[k * V + c] = scores.logits[i * V + c]!;
    y[k] = labels[i]!;
  });
  return { scores: { rows: keep.length, classes: V, logits }, labels: y, index: Int32Array.from(keep) };
}
