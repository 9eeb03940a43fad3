/**
 * The Arrow schema of a soft-target shard and the builder of one shard's table (writer side); see
 * soft-target-store.ts for the column contract (classification and per-position stores).
 */
import { Field, FixedSizeList, Float16, Float32, Int32, Int64, RecordBatch, Schema, Struct, Table, Uint16, Uint32, makeData } from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import type { StoreEncoding } from './soft-target-store.ts';
import { positionsOf, viewsOf } from './soft-target-store.ts';
import { float32ToFloat16 } from './float16.ts';
import type { ViewParams } from '../augment/view-policy.ts';

/** The soft targets of a run of consecutive rows, float32, row-major (row, position, class/slot). */
export interface ShardColumns {
  /** First global row. */
  rowStart: number;
  /** Number of rows. */
  rows: number;
  /** dense: rows * P * classes logits. */
  logits?: Float32Array;
  /** topk: rows * P * k class indices. */
  topkIndex?: Uint32Array;
  /** topk: rows * P * k raw logits. */
  topkLogit?: Float32Array;
  /** topk: rows * P values. */
  tailLogSumExp?: Float32Array;
  /** Per-position store: rows values, real tokens per row. */
  length?: Int32Array;
  /** sampled: rows * P * m class indices (any value in an empty slot; written as 0). */
  sampleIndex?: Int32Array;
  /** sampled: rows * P * m counts, 0 = empty slot. */
  sampleCount?: Uint16Array;
  /** View store: the parameters of the rows * K (row, view) pairs; the target arrays then hold rows * K targets. */
  viewParams?: ViewParams;
}

/** Index type of topk_index / sample_index: uint16 when every class index fits, else uint32. */
export function topkIndexType(classes: number): 'uint16' | 'uint32' {
  return classes <= 65536 ? 'uint16' : 'uint32';
}

function floatType(precision: StoreEncoding['precision']): Float16 | Float32 {
  return precision === 'float16' ? new Float16() : new Float32();
}

function indexType(classes: number): Uint16 | Uint32 {
  return topkIndexType(classes) === 'uint16' ? new Uint16() : new Uint32();
}

function list(name: string, size: number, item: DataType): Field {
  return new Field(name, new FixedSizeList(size, new Field('item', item, false)), false);
}

/** The target columns of an encoding (after `row` and, per position, `length`). */
function targetFields(encoding: StoreEncoding): Field[] {
  const p = positionsOf(encoding);
  if (encoding.mode === 'dense') return [list('logits', p * encoding.classes, floatType(encoding.precision))];
  if (encoding.mode === 'sampled') {
    const m = encoding.slots!;
    return [list('sample_index', p * m, indexType(encoding.classes)), list('sample_count', p * m, new Uint16())];
  }
  const k = encoding.k!;
  const tail = encoding.positions === undefined ? new Field('tail_lse', new Float32(), false) : list('tail_lse', p, new Float32());
  return [list('topk_index', p * k, indexType(encoding.classes)), list('topk_logit', p * k, floatType(encoding.precision)), tail];
}

/** A view store's `view` and parameter columns (after `row`). */
function viewFields(encoding: StoreEncoding): Field[] {
  const views = encoding.views;
  if (!views) return [];
  const params = views.augment.kind === 'image'
    ? [new Field('dx', new Int32(), false), new Field('dy', new Int32(), false), new Field('angle', new Float32(), false), new Field('scale', new Float32(), false)]
    : [new Field('noise_key', new Uint32(), false)];
  return [new Field('view', new Int32(), false), ...params];
}

/** The Arrow schema of a shard with this encoding. */
export function shardSchema(encoding: StoreEncoding): Schema {
  const head: Field[] = [new Field('row', new Int64(), false)];
  if (encoding.positions !== undefined) head.push(new Field('length', new Int32(), false));
  return new Schema([...head, ...viewFields(encoding), ...targetFields(encoding)]);
}

/** The data of the `view` and parameter columns of n dataset rows, K table rows each. */
function viewData(encoding: StoreEncoding, cols: ShardColumns): Data[] {
  const k = viewsOf(encoding);
  const n = cols.rows * k;
  const p = cols.viewParams;
  if (!p) throw new RangeError('shardTable: a view store needs the view parameters of its rows');
  const view = Int32Array.from({ length: n }, (_, i) => i % k);
  const arrays = p.kind === 'image' ? [p.dx, p.dy, p.angle, p.scale] : [p.noiseKey];
  const types = p.kind === 'image' ? [new Int32(), new Int32(), new Float32(), new Float32()] : [new Uint32()];
  for (const a of arrays) if (a.length !== n) throw new RangeError(`shardTable: ${a.length} view parameters, expected rows * K = ${n}`);
  return [makeData({ type: new Int32(), length: n, data: view }), ...arrays.map((data, j) => makeData({ type: types[j]!, length: n, data } as never))];
}

function floatData(values: Float32Array, precision: StoreEncoding['precision']): Data {
  return precision === 'float16'
    ? makeData({ type: new Float16(), length: values.length, data: float32ToFloat16(values) })
    : makeData({ type: new Float32(), length: values.length, data: values });
}

function indexData(classes: number, values: Uint32Array | Int32Array, counts?: Uint16Array): Data {
  const data = topkIndexType(classes) === 'uint16' ? Uint16Array.from(values) : Uint32Array.from(values);
  if (counts) for (let i = 0; i < data.length; i++) if (counts[i] === 0) data[i] = 0;
  return makeData({ type: indexType(classes), length: data.length, data } as never);
}

/** The data of the target columns, in targetFields order. */
function targetData(encoding: StoreEncoding, cols: ShardColumns): Data[] {
  if (encoding.mode === 'dense') return [floatData(cols.logits!, encoding.precision)];
  if (encoding.mode === 'sampled') {
    const counts = cols.sampleCount!;
    return [indexData(encoding.classes, cols.sampleIndex!, counts), makeData({ type: new Uint16(), length: counts.length, data: counts })];
  }
  return [
    indexData(encoding.classes, cols.topkIndex!),
    floatData(cols.topkLogit!, encoding.precision),
    makeData({ type: new Float32(), length: cols.tailLogSumExp!.length, data: cols.tailLogSumExp! }),
  ];
}

/**
 * Builds the Arrow table of one shard (or any run of rows) from float32 soft targets; a view store has
 * K table rows per dataset row, ordered (row, view).
 */
export function shardTable(encoding: StoreEncoding, cols: ShardColumns): Table {
  const schema = shardSchema(encoding);
  const k = viewsOf(encoding);
  const n = cols.rows * k;
  const children: Data[] = [makeData({ type: new Int64(), length: n, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(cols.rowStart + Math.floor(i / k))) })];
  if (encoding.positions !== undefined) children.push(makeData({ type: new Int32(), length: n, data: cols.length! }));
  if (encoding.views) children.push(...viewData(encoding, cols));
  const fields = schema.fields.slice(children.length);
  targetData(encoding, cols).forEach((d, i) => {
    const type = fields[i]!.type;
    children.push(type instanceof FixedSizeList ? makeData({ type, length: n, nullCount: 0, child: d }) : d);
  });
  return new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }))]);
}
