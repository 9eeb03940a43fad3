import { Field, FixedSizeList, Int16, Int32, Int64, RecordBatch, Schema, Struct, Table, Uint8, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import { DataError } from '../errors.ts';

/** Label value of a position that is not scored (padding, spaces, ...): PyTorch's ignore index. */
export const IGNORE_INDEX = -100;

/**
 * One row of a token dataset before padding: at most L real tokens. Per-position arrays have the
 * same length as `inputIds`.
 */
export interface TokenRow {
  inputIds: ArrayLike<number>;
  /** token-classification: a class id per position, or -100 for a position that is not scored. */
  labels?: ArrayLike<number>;
  /** classification: one class id for the row. */
  label?: number;
  /** Per-position uint8 slice columns (e.g. word_final); padding positions get 0. */
  positionSlices?: Record<string, ArrayLike<number>>;
  /** Per-row slice columns: number -> int32, string -> utf8 (e.g. document, genre). */
  slices?: Record<string, number | string>;
}

function fixedList<T extends DataType>(name: string, item: T, size: number): Field {
  return new Field(name, new FixedSizeList(size, new Field('item', item, false)), false);
}

/** Right-pads per-position values of each row to L into one flat array. */
function padded<A extends Int32Array | Int16Array | Uint8Array>(out: A, rows: readonly TokenRow[], L: number, pad: number, pick: (r: TokenRow) => ArrayLike<number> | undefined, what: string): A {
  if (pad !== 0) out.fill(pad);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const v = pick(r);
    if (!v) throw new DataError(`token row ${i}: no ${what}`);
    if (v.length !== r.inputIds.length) throw new DataError(`token row ${i}: ${what} has ${v.length} values for ${r.inputIds.length} tokens`);
    out.set(v, i * L);
  }
  return out;
}

/** int64 row indices start, start+1, ... without a BigInt per value (two little-endian uint32 words each). */
function rowIndices(n: number, start: number): BigInt64Array {
  const out = new BigInt64Array(n);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = start + i;
    words[2 * i] = v % 0x1_0000_0000;
    words[2 * i + 1] = Math.floor(v / 0x1_0000_0000);
  }
  return out;
}

/**
 * Builds the Arrow table of token rows `rowStart..` (COMMON.md token dataset): `row: int64`,
 * `input_ids: fixed_size_list<int32>[L]` (right-padded with padId), `attention_mask:
 * fixed_size_list<uint8>[L]`, `length: int32`, then `labels: fixed_size_list<int16>[L]` (padding
 * -100) or `label: int32`, per-position slices `fixed_size_list<uint8>[L]` and per-row slices, in the
 * order of the first row's keys. Every row must have the same optional fields.
 */
export function tokenTable(rows: readonly TokenRow[], rowStart: number, L: number, padId = 0): Table {
  const n = rows.length;
  if (n === 0) throw new DataError('tokenTable: no rows');
  const first = rows[0]!;
  rows.forEach((r, i) => {
    if (r.inputIds.length < 1 || r.inputIds.length > L) throw new DataError(`token row ${rowStart + i}: ${r.inputIds.length} tokens, expected 1..${L} (the context)`);
  });
  const fields: Field[] = [];
  const data: Data[] = [];
  const add = (field: Field, d: Data): void => {
    fields.push(field);
    data.push(d);
  };
  const list = (name: string, item: Int32 | Int16 | Uint8, values: Int32Array | Int16Array | Uint8Array): void => {
    const f = fixedList(name, item, L);
    // One concrete instantiation for the typings; the child's type and buffer always agree at runtime.
    const child = makeData({ type: item as Int32, length: n * L, data: values as Int32Array });
    add(f, makeData({ type: f.type as FixedSizeList<Int32>, length: n, nullCount: 0, child }));
  };
  add(new Field('row', new Int64(), false), makeData({ type: new Int64(), length: n, data: rowIndices(n, rowStart) }));
  list('input_ids', new Int32(), padded(new Int32Array(n * L), rows, L, padId, (r) => r.inputIds, 'input_ids'));
  const mask = new Uint8Array(n * L);
  const lengths = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    lengths[i] = rows[i]!.inputIds.length;
    mask.fill(1, i * L, i * L + lengths[i]!);
  }
  list('attention_mask', new Uint8(), mask);
  add(new Field('length', new Int32(), false), makeData({ type: new Int32(), length: n, data: lengths }));
  if (first.labels) list('labels', new Int16(), padded(new Int16Array(n * L), rows, L, IGNORE_INDEX, (r) => r.labels, 'labels'));
  if (first.label !== undefined) {
    add(new Field('label', new Int32(), false), makeData({ type: new Int32(), length: n, data: Int32Array.from(rows, (r, i) => {
      if (r.label === undefined) throw new DataError(`token row ${rowStart + i}: no label`);
      return r.label;
    }) }));
  }
  for (const name of Object.keys(first.positionSlices ?? {})) {
    list(name, new Uint8(), padded(new Uint8Array(n * L), rows, L, 0, (r) => r.positionSlices?.[name], name));
  }
  for (const [name, v0] of Object.entries(first.slices ?? {})) {
    const ints = typeof v0 === 'number' ? new Int32Array(n) : null;
    const strings: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = rows[i]!.slices?.[name];
      if (typeof v !== typeof v0) throw new DataError(`token row ${rowStart + i}: slice "${name}" is ${JSON.stringify(v)}, expected a ${typeof v0} like row ${rowStart}`);
      if (ints) ints[i] = v as number;
      else strings.push(v as string);
    }
    if (ints) add(new Field(name, new Int32(), false), makeData({ type: new Int32(), length: n, data: ints }));
    else add(new Field(name, new Utf8(), false), vectorFromArray(strings, new Utf8()).data[0]!);
  }
  const schema = new Schema(fields);
  return new Table([new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children: data }))]);
}
