import type { DatasetColumn } from './dataset-manifest.ts';

/** Values per row of a feature column, from its manifest type. */
export function featureSizeOf(column: DatasetColumn): number {
  if (column.sequence) return column.sequence.maxLength; // list<T> read as fixed_size_list<T>[maxLength]
  const m = /^fixed_size_list<[a-z0-9]+>\[(\d+)\]$/.exec(column.type);
  return m ? Number(m[1]) : 1;
}
