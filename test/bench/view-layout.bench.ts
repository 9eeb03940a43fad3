/**
 * Bytes per example of a view store in the two layouts considered (docs/store-format.md, "View
 * stores"): the long layout the stage writes (one table row per (row, view): `row`, `view`, the
 * parameters, the targets) and the wide alternative (one table row per dataset row, every column a
 * fixed_size_list of K), both Parquet (parquet-wasm, zstd, as table-files.ts writes them), from the
 * decoded shards of an existing store. Also the bytes of the targets alone (no row/view/parameter
 * columns), to show what the view columns cost.
 *
 *   node --import tsx test/bench/view-layout.bench.ts artifacts/experiments/mnist-kd/store-views8 [--split train]
 */
import { parseArgs } from 'node:util';
import { Field, FixedSizeList, Float16, Float32, Int32, Int64, RecordBatch, Schema, Struct, Table, Uint16, makeData } from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import { encodeTable } from '../../pipeline/io/table-files.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import { float32ToFloat16 } from '../../pipeline/store/float16.ts';
import { shardTable } from '../../pipeline/store/shard-table.ts';
import type { ShardTargets, StoreEncoding } from '../../pipeline/store/soft-target-store.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { split: { type: 'string', default: 'train' } } });
const dir = positionals[0];
if (!dir) throw new Error('usage: view-layout.bench.ts <view store> [--split train]');
const store = await openStore(dir);
const enc = store.encoding;
const k = enc.views?.count;
if (!k) throw new Error(`${dir} has no views`);
const split = values.split!;

function table(cols: [string, DataType, Data][], n: number): Table {
  const schema = new Schema(cols.map(([name, type]) => new Field(name, type, false)));
  return new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: cols.map(([, , d]) => d) }))]);
}
const list = (width: number, item: DataType, data: Data, n: number): [DataType, Data] => {
  const type = new FixedSizeList(width, new Field('item', item, false));
  return [type, makeData({ type, length: n, nullCount: 0, child: data })];
};
const floats = (v: Float32Array, precision: StoreEncoding['precision']): [DataType, Data] =>
  precision === 'float16' ? [new Float16(), makeData({ type: new Float16(), length: v.length, data: float32ToFloat16(v) })] : [new Float32(), makeData({ type: new Float32(), length: v.length, data: v })];

/** The wide layout of one shard: row, then every per-view column as a list of K (targets: K * width). */
function wide(t: ShardTargets, rows: number): Table {
  const cols: [string, DataType, Data][] = [['row', new Int64(), makeData({ type: new Int64(), length: rows, data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(t.rowStart + i)) })]];
  const add = (name: string, width: number, [type, data]: [DataType, Data]): void => {
    const [lt, ld] = list(width, type, data, rows);
    cols.push([name, lt, ld]);
  };
  const p = t.viewParams!;
  if (p.kind === 'image') {
    add('dx', k!, [new Int32(), makeData({ type: new Int32(), length: p.dx.length, data: p.dx })]);
    add('dy', k!, [new Int32(), makeData({ type: new Int32(), length: p.dy.length, data: p.dy })]);
    add('angle', k!, floats(p.angle, 'float32'));
    add('scale', k!, floats(p.scale, 'float32'));
  }
  if (t.logits) add('logits', k! * enc.classes, floats(t.logits, enc.precision));
  else {
    add('topk_index', k! * enc.k!, [new Uint16(), makeData({ type: new Uint16(), length: t.topkIndex!.length, data: Uint16Array.from(t.topkIndex!) })]);
    add('topk_logit', k! * enc.k!, floats(t.topkLogit!, enc.precision));
    add('tail_lse', k!, floats(t.tailLogSumExp!, 'float32'));
  }
  return table(cols, rows);
}

let rowsTotal = 0;
const bytes = { long: 0, wide: 0, targetsOnly: 0, stored: 0 };
for (const shard of store.shards(split)) {
  const t = await store.readShard(split, shard.index);
  const rows = t.rowEnd - t.rowStart;
  rowsTotal += rows;
  bytes.stored += shard.bytes;
  const longEnc: StoreEncoding = { ...enc };
  const targets = t.logits ? { logits: t.logits } : { topkIndex: Uint32Array.from(t.topkIndex!), topkLogit: t.topkLogit!, tailLogSumExp: t.tailLogSumExp! };
  bytes.long += encodeTable(shardTable(longEnc, { rowStart: t.rowStart, rows, viewParams: t.viewParams!, ...targets }), 'parquet').byteLength;
  bytes.wide += encodeTable(wide(t, rows), 'parquet').byteLength;
  // The targets alone, as a store without views holding rows * K rows would.
  const { views: _omit, ...plain } = enc;
  void _omit;
  bytes.targetsOnly += encodeTable(shardTable(plain, { rowStart: 0, rows: rows * k, ...targets }), 'parquet').byteLength;
}
const per = (b: number): string => `${(b / rowsTotal).toFixed(1)} bytes/example (${(b / rowsTotal / k).toFixed(1)} per view)`;
process.stdout.write(
  `${dir} ${split}: ${rowsTotal} rows x K=${k} views, ${enc.mode} ${enc.precision}${enc.k ? ` k=${enc.k}` : ''}\n` +
    `  stored (long layout, as written):       ${per(bytes.stored)}\n` +
    `  long layout re-encoded:                 ${per(bytes.long)}\n` +
    `  wide layout (lists of K per row):       ${per(bytes.wide)}\n` +
    `  targets only, no row/view/params:       ${per(bytes.targetsOnly)}\n`,
);
