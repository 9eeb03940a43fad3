import { DataType, Field, FixedSizeList, RecordBatch, Schema, Struct, Table, makeData } from 'apache-arrow';
import type { Data, Int32, Vector } from 'apache-arrow';
import { DataError } from '../errors.ts';
import type { NumericArray } from '../io/column-values.ts';
import type { DatasetColumn, ListSequence } from './dataset-manifest.ts';

/** True for a variable-length `list<T>` or `large_list<T>` Arrow type. */
export function isVariableList(type: DataType): boolean {
  return DataType.isList(type) || DataType.isLargeList(type);
}

/** One chunk of a list column: offsets (row j = values[offsets[j]..offsets[j+1]]) and the child values. */
interface ListChunk {
  length: number;
  offsets: Int32Array | BigInt64Array;
  values: NumericArray;
}

function listChunks(vec: Vector, column: string, file: string): ListChunk[] {
  return vec.data.map((d: Data) => {
    const child = d.children[0]!;
    if (child.nullCount > 0) throw new DataError(`${file}: column "${column}" has null items inside its lists; nulls are not supported`);
    return { length: d.length, offsets: d.valueOffsets as Int32Array | BigInt64Array, values: child.values as NumericArray };
  });
}

/** Calls `visit(row, start, end)` with each row's value range in its chunk's values (rows counted from 0). */
function eachRow(chunks: ListChunk[], visit: (row: number, values: NumericArray, start: number, end: number) => void): void {
  let row = 0;
  for (const c of chunks) {
    for (let j = 0; j < c.length; j++, row++) visit(row, c.values, Number(c.offsets[j]), Number(c.offsets[j + 1]));
  }
}

/** Values per row of a list column (all rows of the table). */
export function listLengths(vec: Vector, column: string, file: string): Int32Array {
  const out = new Int32Array(vec.length);
  eachRow(listChunks(vec, column, file), (row, _v, s, e) => (out[row] = e - s));
  return out;
}

/**
 * A list column as a fixed_size_list<T>[maxLength] vector: each row's values, padded with padValue
 * on the declared side. A row longer than maxLength is a DataError naming file, row and column
 * (nothing is truncated silently). `rowStart` is the file's first row, for messages.
 */
export function padListColumn(vec: Vector, seq: Pick<ListSequence, 'maxLength' | 'padding' | 'padValue'>, column: string, file: string, rowStart = 0): Data {
  const chunks = listChunks(vec, column, file);
  const item = (vec.type as DataType & { children: Field[] }).children[0]!.type as DataType;
  const first = chunks[0]?.values;
  const Ctor = (first?.constructor ?? Int32Array) as new (n: number) => NumericArray;
  const L = seq.maxLength;
  const out = new Ctor(vec.length * L);
  const pad = out instanceof BigInt64Array || out instanceof BigUint64Array ? BigInt(seq.padValue) : seq.padValue;
  (out as { fill(v: unknown): unknown }).fill(pad);
  eachRow(chunks, (row, values, s, e) => {
    const n = e - s;
    if (n > L) throw new DataError(`${file}: row ${rowStart + row} of column "${column}" has ${n} values, more than its maximum length ${L} (raise --max-length ${column}=N)`);
    const at = row * L + (seq.padding === 'left' ? L - n : 0);
    (out as Float64Array).set((values as Float64Array).subarray(s, e), at);
  });
  const type = new FixedSizeList(L, new Field('item', item, false));
  return makeData({ type: type as FixedSizeList<Int32>, length: vec.length, nullCount: 0, child: makeData({ type: item as Int32, length: out.length, data: out as Int32Array }) });
}

/**
 * The table with every list column that the manifest describes with a `sequence` replaced by its
 * padded fixed_size_list form (pipeline/dataset/list-column.ts), so every reader and the content
 * fingerprint see one fixed-width representation whatever the writer (DuckDB, pandas, Polars,
 * apache-arrow) chose. Tables without list columns are returned as they are.
 */
export function withFixedLists(table: Table, columns: readonly DatasetColumn[], file: string, rowStart = 0): Table {
  const targets = columns.filter((c) => c.sequence && table.getChild(c.name) && isVariableList(table.getChild(c.name)!.type as DataType));
  if (targets.length === 0) return table;
  let schema: Schema | undefined;
  let at = rowStart;
  const batches = table.batches.map((batch) => {
    const part = new Table([batch]);
    const fields: Field[] = [];
    const data: Data[] = [];
    table.schema.fields.forEach((f, i) => {
      const col = targets.find((c) => c.name === f.name);
      const d = col ? padListColumn(part.getChild(f.name)!, col.sequence!, col.name, file, at) : batch.data.children[i]!;
      fields.push(col ? new Field(f.name, d.type, false) : f);
      data.push(d);
    });
    schema ??= new Schema(fields);
    at += batch.numRows;
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children: data }));
  });
  return new Table(batches);
}
