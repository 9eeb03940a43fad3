import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { DataType } from 'apache-arrow';
import type { Data, Table, Vector } from 'apache-arrow';
import { DataError } from '../errors.ts';

/**
 * Content fingerprint of dataset rows, independent of the file format, compression and file split:
 * sha256 over the rows in order, each row contributing
 *   its `row` index as int64 little-endian, then each listed column in order:
 *   - numeric scalar: its little-endian bytes;
 *   - fixed_size_list of numbers: all its values' little-endian bytes;
 *   - utf8: uint32 little-endian byte length, then the UTF-8 bytes.
 * Nulls are not allowed. Any reader can recompute this (the integration test does it from DuckDB).
 */
export class RowFingerprint {
  private readonly hash: Hash = createHash('sha256');
  private rows = 0;
  constructor(private readonly columns: readonly string[]) {}

  /** Adds all rows of a table, in order. The table must have `row` and every listed column. */
  update(table: Table, name = 'table'): void {
    const row = table.getChild('row');
    if (!row) throw new DataError(`${name}: missing the "row" column`);
    const writers = this.columns.map((c) => {
      const vec = table.getChild(c);
      if (!vec) throw new DataError(`${name}: missing the "${c}" column`);
      if (vec.nullCount > 0) throw new DataError(`${name}: column "${c}" has ${vec.nullCount} null values; nulls are not supported`);
      return rowBytesWriter(vec, c, name);
    });
    const rowBuf = Buffer.alloc(8);
    const rowValues = row.toArray() as BigInt64Array | Int32Array;
    for (let i = 0; i < table.numRows; i++) {
      rowBuf.writeBigInt64LE(BigInt(rowValues[i]!));
      this.hash.update(rowBuf);
      for (const w of writers) w(this.hash, i);
    }
    this.rows += table.numRows;
  }

  /** Rows hashed so far. */
  get count(): number {
    return this.rows;
  }

  /** The hex digest (the object cannot be updated afterwards). */
  digest(): string {
    return this.hash.digest('hex');
  }
}

type RowWriter = (hash: Hash, i: number) => void;

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function rowBytesWriter(vec: Vector, column: string, name: string): RowWriter {
  const type = vec.type as DataType;
  if (DataType.isUtf8(type)) {
    const len = Buffer.alloc(4);
    return (hash, i) => {
      const b = Buffer.from(vec.get(i) as string, 'utf8');
      len.writeUInt32LE(b.length);
      hash.update(len);
      hash.update(b);
    };
  }
  // Fixed-width columns: apache-arrow slices a Data's value buffers (and a fixed-size list's child)
  // to start at its first row, so row j of a chunk is bytes [j*stride, (j+1)*stride).
  const chunks = vec.data.map((d: Data) => {
    if (DataType.isFixedSizeList(type)) {
      const values = d.children[0]!.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
      return { length: d.length, bytes: bytesOf(values), stride: (type as unknown as { listSize: number }).listSize * values.BYTES_PER_ELEMENT };
    }
    if (DataType.isInt(type) || DataType.isFloat(type)) {
      const values = d.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
      return { length: d.length, bytes: bytesOf(values), stride: values.BYTES_PER_ELEMENT };
    }
    throw new DataError(`${name}: column "${column}" has type ${String(type)}, which fingerprints do not support`);
  });
  if (chunks.length === 1) {
    const c = chunks[0]!;
    return (hash, i) => hash.update(c.bytes.subarray(i * c.stride, (i + 1) * c.stride));
  }
  const starts: number[] = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.length;
  }
  return (hash, i) => {
    let k = chunks.length - 1;
    while (starts[k]! > i) k--;
    const c = chunks[k]!;
    const j = i - starts[k]!;
    hash.update(c.bytes.subarray(j * c.stride, (j + 1) * c.stride));
  };
}
