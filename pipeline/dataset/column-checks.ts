import type { Table } from 'apache-arrow';
import { DataError } from '../errors.ts';
import { columnValues } from '../io/column-values.ts';
import type { DatasetColumn } from './dataset-manifest.ts';
import { featureSizeOf } from './feature-size.ts';
import { IGNORE_INDEX } from './token-table.ts';

/** True for a per-position label column (fixed_size_list of integers), whose -100 means "not scored". */
export function isPositionLabel(column: Pick<DatasetColumn, 'type'>): boolean {
  return column.type.startsWith('fixed_size_list<');
}

/**
 * Checks a label column of one file: row labels in 0..classes-1 (or >= 0 while classes is unknown),
 * per-position labels also -100. Counts row labels into `counts`; returns the largest label seen.
 * A bad value is a DataError naming the file, row, position and column.
 */
export function checkLabelValues(table: Table, column: DatasetColumn, classes: number | undefined, file: string, rowStart: number, counts: number[]): number {
  const width = featureSizeOf(column);
  const values = columnValues(table.getChild(column.name)!, width);
  const perPosition = isPositionLabel(column);
  let max = -1;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (perPosition && v === IGNORE_INDEX) continue;
    if (!Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes)) {
      const where = perPosition ? `row ${rowStart + Math.floor(i / width)} position ${i % width}` : `row ${rowStart + i}`;
      const allowed = classes !== undefined ? `outside 0..${classes - 1}` : 'not a class id >= 0';
      throw new DataError(`${file}: ${where} has label ${v}, ${allowed}${perPosition ? ' and not -100 (ignored)' : ''} (column "${column.name}")`);
    }
    if (!perPosition) counts[v] = (counts[v] ?? 0) + 1;
    if (v > max) max = v;
  }
  return max;
}

/** Checks a tokens feature of one file: every id in 0..vocabSize-1, else a DataError naming file, row, position and column. */
export function checkTokenIds(table: Table, column: DatasetColumn, file: string, rowStart: number): void {
  const width = featureSizeOf(column);
  const values = columnValues(table.getChild(column.name)!, width);
  const vocab = column.vocabSize!;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!Number.isInteger(v) || v < 0 || v >= vocab) {
      throw new DataError(`${file}: row ${rowStart + Math.floor(i / width)} position ${i % width} of column "${column.name}" has token id ${v}, outside the vocabulary 0..${vocab - 1}`);
    }
  }
}

/** The feature kind: tokens when a vocabulary size is given, image for a 2-d or 3-d shape, else vector. */
export function featureKind(shape: number[] | undefined, vocabSize: number | undefined): NonNullable<DatasetColumn['kind']> {
  if (vocabSize !== undefined) return 'tokens';
  return shape && (shape.length === 2 || shape.length === 3) ? 'image' : 'vector';
}
