import { DataType } from 'apache-arrow';
import type { Data, Vector } from 'apache-arrow';

/** Typed arrays behind numeric Arrow columns. */
export type NumericArray = Float32Array | Float64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | BigInt64Array | BigUint64Array;

/**
 * The values of a fixed-width numeric column, or of a fixed_size_list column's items (`width` per
 * row), as one contiguous typed array in row order: a view when the column has one chunk, a copy
 * otherwise. apache-arrow slices a Data's value buffers (and a fixed-size list's child) to start at its
 * first row, so chunk j's rows are the first `length * width` values of its buffer.
 */
export function columnValues(vec: Vector, width: number): NumericArray {
  const parts = vec.data.map((d: Data) => {
    const values = (DataType.isFixedSizeList(d.type) ? d.children[0]!.values : d.values) as NumericArray;
    return values.subarray(0, d.length * width) as NumericArray;
  });
  if (parts.length === 1) return parts[0]!;
  const Ctor = parts[0]!.constructor as new (n: number) => NumericArray;
  const out = new Ctor(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    (out as Float64Array).set(p as Float64Array, at);
    at += p.length;
  }
  return out;
}
