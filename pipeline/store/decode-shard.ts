import type { Table, Vector } from 'apache-arrow';
import { columnValues } from '../io/column-values.ts';
import { columnTypeName } from '../dataset/column-type.ts';
import { DataError } from '../errors.ts';
import type { ShardTargets, StoreEncoding } from './soft-target-store.ts';
import { float16ToFloat32 } from './float16.ts';
import { shardSchema } from './shard-table.ts';
import { checkTargets } from './check-targets.ts';
import { positionsOf, viewsOf } from './soft-target-store.ts';
import { decodeViewParams } from './decode-view-params.ts';

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
 * rowStart, rowStart+1, ...) and decodes it to float32 {@link ShardTargets}, then checks the values
 * (check-targets.ts: class indices in range, per-position lengths, padding positions empty, sample
 * counts summing to N); any mismatch is a DataError naming the shard, row and what was expected.
 */
export function decodeShard(table: Table, encoding: StoreEncoding, place: ShardPlace): ShardTargets {
  const expected = shardSchema(encoding).fields.map((f) => `${f.name}: ${columnTypeName(f.type)}`);
  const actual = table.schema.fields.map((f) => `${f.name}: ${columnTypeName(f.type) ?? String(f.type)}`);
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    throw new DataError(`${place.name}: columns are [${actual.join(', ')}], expected [${expected.join(', ')}] for the store's ${encoding.mode} ${encoding.precision} encoding`);
  }
  const rows = place.rowEnd - place.rowStart;
  const k = viewsOf(encoding);
  if (table.numRows !== rows * k) {
    const per = k > 1 ? ` x ${k} views` : '';
    throw new DataError(`${place.name}: has ${table.numRows} rows, expected ${rows * k} (rows ${place.rowStart}..${place.rowEnd - 1}${per})`);
  }
  const rowValues = columnValues(table.getChild('row')!, 1) as BigInt64Array;
  for (let i = 0; i < rows * k; i++) {
    const want = place.rowStart + Math.floor(i / k);
    if (rowValues[i] !== BigInt(want)) {
      throw new DataError(`${place.name}: row ${i} has row index ${rowValues[i]}, expected ${want}${k > 1 ? ` (K = ${k} table rows per dataset row, ordered by row, view)` : ''}`);
    }
  }
  const base = { split: place.split, index: place.index, rowStart: place.rowStart, rowEnd: place.rowEnd };
  if (table.schema.fields.some((f) => table.getChild(f.name)!.nullCount > 0)) {
    throw new DataError(`${place.name}: has null values; shards never hold nulls`);
  }
  const p = positionsOf(encoding);
  const length = encoding.positions === undefined ? undefined : Int32Array.from(columnValues(table.getChild('length')!, 1) as Int32Array);
  const seq = length ? { positions: p, length } : encoding.views ? { viewParams: decodeViewParams(table, encoding.views, place) } : {};
  let targets: ShardTargets;
  if (encoding.mode === 'dense') {
    targets = { ...base, ...seq, logits: floats(table.getChild('logits')!, p * encoding.classes, encoding.precision) };
  } else if (encoding.mode === 'sampled') {
    const width = p * encoding.slots!;
    const sampleCount = Uint16Array.from(columnValues(table.getChild('sample_count')!, width) as Uint16Array);
    const sampleIndex = Int32Array.from(columnValues(table.getChild('sample_index')!, width) as Uint16Array | Uint32Array);
    for (let i = 0; i < sampleIndex.length; i++) if (sampleCount[i] === 0) sampleIndex[i] = -1;
    targets = { ...base, ...seq, sampleIndex, sampleCount };
  } else {
    const k = encoding.k!;
    targets = {
      ...base,
      ...seq,
      topkIndex: Int32Array.from(columnValues(table.getChild('topk_index')!, p * k) as Uint16Array | Uint32Array),
      topkLogit: floats(table.getChild('topk_logit')!, p * k, encoding.precision),
      tailLogSumExp: Float32Array.from(columnValues(table.getChild('tail_lse')!, p) as Float32Array),
    };
  }
  checkTargets(targets, encoding, place.name);
  return targets;
}
