import type { FixedSizeList, Table, Vector } from 'apache-arrow';
import { columnValues } from '../io/column-values.ts';
import { columnTypeName } from '../dataset/column-type.ts';
import { DataError } from '../errors.ts';
import type { ShardTargets, StoreEncoding } from './soft-target-store.ts';
import { float16ToFloat32 } from './float16.ts';
import { shardSchema } from './shard-table.ts';

/** Where a shard sits, for checks and error messages. */
export interface ShardPlace {
  split: string;
  index: number;
  rowStart: number;
  rowEnd: number;
  /** The file, named in errors. */
  name: string;
}

function floats(vec: Vector, width: number, precision: StoreEncoding['precision']): Float32Array {
  const v = columnValues(vec, width);
  return precision === 'float16' ? float16ToFloat32(v as Uint16Array) : Float32Array.from(v as Float32Array);
}

/**
 * Checks a shard table against the encoding (column names and types, row count, `row` values
 * rowStart, rowStart+1, ...) and decodes it to float32 {@link ShardTargets}; any mismatch is a
 * DataError naming the shard and what was expected.
 */
export function decodeShard(table: Table, encoding: StoreEncoding, place: ShardPlace): ShardTargets {
  const expected = shardSchema(encoding).fields.map((f) => `${f.name}: ${columnTypeName(f.type)}`);
  const actual = table.schema.fields.map((f) => `${f.name}: ${columnTypeName(f.type) ?? String(f.type)}`);
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    throw new DataError(`${place.name}: columns are [${actual.join(', ')}], expected [${expected.join(', ')}] for the store's ${encoding.mode} ${encoding.precision} encoding`);
  }
  const rows = place.rowEnd - place.rowStart;
  if (table.numRows !== rows) {
    throw new DataError(`${place.name}: has ${table.numRows} rows, expected ${rows} (rows ${place.rowStart}..${place.rowEnd - 1})`);
  }
  const rowValues = columnValues(table.getChild('row')!, 1) as BigInt64Array;
  for (let i = 0; i < rows; i++) {
    if (rowValues[i] !== BigInt(place.rowStart + i)) {
      throw new DataError(`${place.name}: row ${i} has row index ${rowValues[i]}, expected ${place.rowStart + i}`);
    }
  }
  const base = { split: place.split, index: place.index, rowStart: place.rowStart, rowEnd: place.rowEnd };
  if (table.schema.fields.some((f) => table.getChild(f.name)!.nullCount > 0)) {
    throw new DataError(`${place.name}: has null values; shards never hold nulls`);
  }
  if (encoding.mode === 'dense') {
    return { ...base, logits: floats(table.getChild('logits')!, encoding.classes, encoding.precision) };
  }
  const k = encoding.k!;
  const index = columnValues(table.getChild('topk_index')!, k) as Uint16Array | Uint32Array;
  const listSize = (table.getChild('topk_index')!.type as FixedSizeList).listSize;
  if (listSize !== k) throw new DataError(`${place.name}: topk_index holds ${listSize} classes per row, expected k=${k}`);
  const topkIndex = Int32Array.from(index);
  for (let i = 0; i < topkIndex.length; i++) {
    if (topkIndex[i]! >= encoding.classes) {
      throw new DataError(`${place.name}: row ${place.rowStart + Math.floor(i / k)} has class index ${topkIndex[i]}, outside 0..${encoding.classes - 1}`);
    }
  }
  return {
    ...base,
    topkIndex,
    topkLogit: floats(table.getChild('topk_logit')!, k, encoding.precision),
    tailLogSumExp: Float32Array.from(columnValues(table.getChild('tail_lse')!, 1) as Float32Array),
  };
}
