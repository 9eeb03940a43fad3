/**
 * Token metrics broken down by a slice: per position (word_final 0/1, a frequency bucket) or per row
 * (genre, document), a row slice being spread over the row's positions first. Each slice value gets
 * the full {@link TokenMetrics} on the target positions that carry it.
 */
import { DataError } from '../../pipeline/errors.ts';
import type { ClassScores } from './class-scores.ts';
import type { TargetPositions } from './sequence-scores.ts';
import type { TokenMetrics } from './token-metrics.ts';
import { selectRows, tokenMetrics } from './token-metrics.ts';

/** One slice value's metrics. */
export interface TokenSliceMetrics {
  /** The slice value, as text (0/1 flags and bucket names alike). */
  value: string;
  metrics: TokenMetrics;
}

/** A per-row slice (one value per row) spread over the row's `positions` positions. */
export function rowSliceToPositions<T>(values: ArrayLike<T>, positions: number): T[] {
  const out: T[] = [];
  for (let r = 0; r < values.length; r++) for (let p = 0; p < positions; p++) out.push(values[r]!);
  return out;
}

/**
 * Metrics per value of a per-position slice (`slice[row * positions + position]`, the same flat index
 * as {@link TargetPositions.index}), values sorted as text.
 * @throws DataError when the slice does not cover every flat position of the targets.
 */
export function tokenSliceMetrics(
  teacher: TargetPositions,
  student: ClassScores,
  slice: ArrayLike<number | string>,
  name: string,
): TokenSliceMetrics[] {
  const groups = new Map<string, number[]>();
  for (let k = 0; k < teacher.index.length; k++) {
    const i = teacher.index[k]!;
    if (i >= slice.length) throw new DataError(`slice ${name}: has ${slice.length} values, position ${i} has none (expected one per row * position)`);
    const v = String(slice[i]);
    const list = groups.get(v) ?? [];
    list.push(k);
    groups.set(v, list);
  }
  return [...groups.keys()].sort().map((value) => {
    const keep = groups.get(value)!;
    const labels = Int32Array.from(keep, (k) => teacher.labels[k]!);
    return { value, metrics: tokenMetrics(selectRows(teacher.scores, keep), selectRows(student, keep), labels) };
  });
}
