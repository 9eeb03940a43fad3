import { DataError } from '../../pipeline/errors.ts';

/** NaN/Inf values found in a run of rows. */
export interface NonFiniteReport {
  /** NaN/Inf values. */
  count: number;
  /** Global rows with at least one. */
  rows: number[];
}

/**
 * Finds NaN/Inf in `logits` (rows * classes, first global row `rowStart`) and applies the policy:
 * `error` throws a DataError naming the split and the rows; `zero` replaces them by 0 in place.
 */
export function applyNonFinitePolicy(logits: Float32Array, classes: number, rowStart: number, policy: 'error' | 'zero', split: string): NonFiniteReport {
  let count = 0;
  const rows: number[] = [];
  for (let r = 0, at = 0; at < logits.length; r++, at += classes) {
    let bad = 0;
    for (let j = at; j < at + classes; j++) {
      if (!Number.isFinite(logits[j]!)) {
        bad++;
        if (policy === 'zero') logits[j] = 0;
      }
    }
    if (bad > 0) {
      count += bad;
      rows.push(rowStart + r);
    }
  }
  if (count > 0 && policy === 'error') throw nonFiniteError(split, rows);
  return { count, rows };
}

/** The error of the `error` policy: names the split and the rows (the first 20). */
export function nonFiniteError(split: string, rows: readonly number[]): DataError {
  const shown = rows.slice(0, 20).join(', ');
  return new DataError(
    `the teacher produced NaN/Inf for ${rows.length} row${rows.length > 1 ? 's' : ''} of split "${split}": rows ${shown}${rows.length > 20 ? `, ... (${rows.length - 20} more in this shard)` : ''}; ` +
      'teacherLogits.nonFinite is "error" (use --set teacherLogits.nonFinite=zero to store them as 0 and record the rows in the manifest)',
  );
}
