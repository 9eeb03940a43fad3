import type { DatasetColumn } from './dataset-manifest.ts';

/**
 * Values per row of a feature column, from its manifest entry: n for `fixed_size_list<T>[n]`, the
 * declared maximum length for a `list<T>` / `large_list<T>` column (read as the padded
 * fixed_size_list<T>[maxLength], pipeline/dataset/list-column.ts), 1 for a scalar.
 */
export function featureSizeOf(column: Pick<DatasetColumn, 'type' | 'sequence'>): number {
  if (column.sequence) return column.sequence.maxLength;
  const m = /^fixed_size_list<[a-z0-9]+>\[(\d+)\]$/.exec(column.type);
  return m ? Number(m[1]) : 1;
}

/**
 * The element type of a column type name: `uint8` of `fixed_size_list<uint8>[784]`, `float32` of
 * `list<float32>` or `large_list<float32>`; a scalar type is its own element type.
 */
export function elementTypeOf(type: string): string {
  return /^(?:fixed_size_list|large_list|list)<([a-z0-9]+)>/.exec(type)?.[1] ?? type;
}
