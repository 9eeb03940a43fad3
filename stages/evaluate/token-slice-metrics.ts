/**
 * Token metrics broken down by a slice: per position (word_final 0/1, a frequency bucket) or per row
 * (genre, document), a row slice being spread over the row's positions first. Each slice value gets
 * the full {@link TokenMetrics} on the target positions that carry it.
 */
import { DataError } from '../../pipeline/errors.ts';
import type { SplitPositions } from './split-positions.ts';
import type { TokenMetrics } from './token-metrics.ts';
import { tokenMetrics } from './token-metrics.ts';

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
 * The target positions of a split grouped by the value of a per-position slice
 * (`slice[row * positions + position]`), values sorted as text.
 * @throws DataError when the slice does not cover every flat position of the targets.
 */
export function groupTargets(targets: Int32Array, slice: ArrayLike<number | string>, name: string): Map<string, Int32Array> {
  const groups = new Map<string, number[]>();
  for (const i of targets) {
    if (i >= slice.length) throw new DataError(`slice ${name}: has ${slice.length} values, position ${i} has none (expected one per row * position)`);
    const v = String(slice[i]);
    const list = groups.get(v) ?? [];
    list.push(i);
    groups.set(v, list);
  }
  return new Map([...groups.keys()].sort().map((v) => [v, Int32Array.from(groups.get(v)!)]));
}

/**
 * Metrics per value of a per-position slice (the flat index of {@link SplitPositions.targets}),
 * values sorted as text.
 * @throws DataError when the slice does not cover every flat position of the targets.
 */
export function tokenSliceMetrics(p: SplitPositions, slice: ArrayLike<number | string>, name: string): TokenSliceMetrics[] {
  return [...groupTargets(p.targets, slice, name)].map(([value, keep]) => ({ value, metrics: tokenMetrics(p, keep) }));
}
