/**
 * The Arrow schema of a soft-target shard and the builder of one shard's table (writer side); see
 * soft-target-store.ts for the column contract.
 */
import { Field, FixedSizeList, Float16, Float32, Int64, RecordBatch, Schema, Struct, Table, Uint16, Uint32, makeData } from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import type { StoreEncoding } from './soft-target-store.ts';
import { float32ToFloat16 } from './float16.ts';

/** The soft targets of a run of consecutive rows, float32, row-major. */
export interface ShardColumns {
  /** First global row. */
  rowStart: number;
  /** Number of rows. */
  rows: number;
  /** dense: rows * classes logits. */
  logits?: Float32Array;
  /** topk: rows * k class indices. */
  topkIndex?: Uint32Array;
  /** topk: rows * k raw logits. */
  topkLogit?: Float32Array;
  /** topk: rows values. */
  tailLogSumExp?: Float32Array;
}

/** Index type of topk_index: uint16 when every class index fits, else uint32. */
export function topkIndexType(classes: number): 'uint16' | 'uint32' {
  return classes <= 65536 ? 'uint16' : 'uint32';
}

function floatType(precision: StoreEncoding['precision']): Float16 | Float32 {
  return precision === 'float16' ? new Float16() : new Float32();
}

function list(name: string, size: number, item: DataType): Field {
  return new Field(name, new FixedSizeList(size, new Field('item', item, false)), false);
}

/** The Arrow schema of a shard with this encoding. */
export function shardSchema(encoding: StoreEncoding): Schema {
  const row = new Field('row', new Int64(), false);
  if (encoding.mode === 'dense') return new Schema([row, list('logits', encoding.classes, floatType(encoding.precision))]);
  const k = encoding.k!;
  return new Schema([
    row,
    list('topk_index', k, topkIndexType(encoding.classes) === 'uint16' ? new Uint16() : new Uint32()),
    list('topk_logit', k, floatType(encoding.precision)),
    new Field('tail_lse', new Float32(), false),
  ]);
}

function floatData(values: Float32Array, precision: StoreEncoding['precision']): Data {
  return precision === 'float16'
    ? makeData({ type: new Float16(), length: values.length, data: float32ToFloat16(values) })
    : makeData({ type: new Float32(), length: values.length, data: values });
}

/** Builds the Arrow table of one shard (or any run of rows) from float32 soft targets. */
export function shardTable(encoding: StoreEncoding, cols: ShardColumns): Table {
  const schema = shardSchema(encoding);
  const n = cols.rows;
  const listData = (field: Field, child: Data): Data => makeData({ type: field.type as FixedSizeList, length: n, nullCount: 0, child });
  const rowData = makeData({ type: new Int64(), length: n, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(cols.rowStart + i)) });
  let children: Data[];
  if (encoding.mode === 'dense') {
    children = [rowData, listData(schema.fields[1]!, floatData(cols.logits!, encoding.precision))];
  } else {
    const idx = topkIndexType(encoding.classes) === 'uint16'
      ? makeData({ type: new Uint16(), length: cols.topkIndex!.length, data: Uint16Array.from(cols.topkIndex!) })
      : makeData({ type: new Uint32(), length: cols.topkIndex!.length, data: cols.topkIndex! });
    children = [
      rowData,
      listData(schema.fields[1]!, idx),
      listData(schema.fields[2]!, floatData(cols.topkLogit!, encoding.precision)),
      makeData({ type: new Float32(), length: n, data: cols.tailLogSumExp! }),
    ];
  }
  return new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }))]);
}
