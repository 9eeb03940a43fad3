import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeShard } from '../../../../pipeline/store/decode-shard.ts';
import type { ShardColumns } from '../../../../pipeline/store/shard-table.ts';
import { shardSchema, shardTable } from '../../../../pipeline/store/shard-table.ts';
import type { StoreEncoding } from '../../../../pipeline/store/soft-target-store.ts';
import { decodeTable, encodeTable } from '../../../../pipeline/io/table-files.ts';
import { columnTypeName } from '../../../../pipeline/dataset/column-type.ts';

/** Two rows, P = 3 next-token positions (L = 4): row 0 length 4 (3 targets), row 1 length 2 (1 target). */
const LENGTH = Int32Array.from([4, 2]);
const place = { split: 'train', index: 0, rowStart: 10, rowEnd: 12, name: 'train/part-00000.parquet' };

const roundTrip = (enc: StoreEncoding, cols: ShardColumns, format: 'parquet' | 'arrow' = 'parquet') =>
  decodeShard(decodeTable(encodeTable(shardTable(enc, cols), format), format, place.name), enc, place);

test('shardSchema: per-position columns carry P times the width and a length column', () => {
  const names = (e: StoreEncoding) => shardSchema(e).fields.map((f) => `${f.name}: ${columnTypeName(f.type)}`);
  assert.deepEqual(names({ mode: 'dense', precision: 'float16', classes: 5, positions: 3, target: 'next-token' }), ['row: int64', 'length: int32', 'logits: fixed_size_list<float16>[15]']);
  assert.deepEqual(names({ mode: 'topk', precision: 'float32', classes: 70000, k: 2, temperature: 1, positions: 3, target: 'token' }), ['row: int64', 'length: int32', 'topk_index: fixed_size_list<uint32>[6]', 'topk_logit: fixed_size_list<float32>[6]', 'tail_lse: fixed_size_list<float32>[3]']);
  assert.deepEqual(names({ mode: 'sampled', precision: 'float32', classes: 5, temperature: 1, samples: 4, slots: 4, seed: 1, positions: 3, target: 'token' }), ['row: int64', 'length: int32', 'sample_index: fixed_size_list<uint16>[12]', 'sample_count: fixed_size_list<uint16>[12]']);
  assert.deepEqual(names({ mode: 'topk', precision: 'float32', classes: 5, k: 2, temperature: 1 }), ['row: int64', 'topk_index: fixed_size_list<uint16>[2]', 'topk_logit: fixed_size_list<float32>[2]', 'tail_lse: float32']);
});

test('per-position dense and topk round trip through Parquet and Arrow', () => {
  const dense: StoreEncoding = { mode: 'dense', precision: 'float32', classes: 2, positions: 3, target: 'next-token' };
  const logits = Float32Array.from([1, 2, 3, 4, 5, 6, /* row 1 */ 7, 8, 0, 0, 0, 0]);
  for (const format of ['parquet', 'arrow'] as const) {
    const d = roundTrip(dense, { rowStart: 10, rows: 2, length: LENGTH, logits }, format);
    assert.deepEqual([d.positions, d.length, d.logits], [3, LENGTH, logits]);
  }
  const topk: StoreEncoding = { mode: 'topk', precision: 'float16', classes: 4, k: 1, temperature: 2, positions: 3, target: 'next-token' };
  const t = roundTrip(topk, { rowStart: 10, rows: 2, length: LENGTH, topkIndex: Uint32Array.from([3, 0, 2, 1, 0, 0]), topkLogit: Float32Array.from([1.5, -2, 0.25, 4, 0, 0]), tailLogSumExp: Float32Array.from([0.5, 0.75, -1, 2, 0, 0]) });
  assert.deepEqual([t.topkIndex, t.topkLogit, t.tailLogSumExp], [Int32Array.from([3, 0, 2, 1, 0, 0]), Float32Array.from([1.5, -2, 0.25, 4, 0, 0]), Float32Array.from([0.5, 0.75, -1, 2, 0, 0])]);
});

const SAMPLED: StoreEncoding = { mode: 'sampled', precision: 'float32', classes: 300, temperature: 1, samples: 3, slots: 3, seed: 7, positions: 3, target: 'next-token' };
const sampleCols = (): ShardColumns => ({
  rowStart: 10,
  rows: 2,
  length: Int32Array.from(LENGTH),
  //                 row 0: pos 0       pos 1         pos 2       row 1: pos 0     pos 1 (pad)  pos 2 (pad)
  sampleIndex: Int32Array.from([299, 0, 0, 4, 5, 6, 2, 1, -1, 9, -1, -1, -1, -1, -1, -1, -1, -1]),
  sampleCount: Uint16Array.from([3, 0, 0, 1, 1, 1, 2, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]),
});

test('sampled round trip: uint16 ids, empty slots decode to index -1 and count 0', () => {
  const s = roundTrip(SAMPLED, sampleCols());
  assert.deepEqual(s.sampleIndex, Int32Array.from([299, -1, -1, 4, 5, 6, 2, 1, -1, 9, -1, -1, -1, -1, -1, -1, -1, -1]));
  assert.deepEqual(s.sampleCount, sampleCols().sampleCount);
  assert.deepEqual(s.length, LENGTH);
});

test('BAD CALL decodeShard: counts not summing to N, draws at padding, repeated class, length out of range, padding logits', () => {
  const bad = (edit: (c: ShardColumns) => void, enc = SAMPLED): (() => unknown) => () => {
    const c = sampleCols();
    edit(c);
    return roundTrip(enc, c);
  };
  assert.throws(bad((c) => { c.sampleCount![0] = 2; }), { name: 'DataError', message: /train\/part-00000\.parquet: row 10 position 0 has sample counts summing to 2, expected 3 \(N=3 draws/ });
  assert.throws(bad((c) => { c.sampleCount![12] = 1; c.sampleIndex![12] = 7; }), { name: 'DataError', message: /row 11 position 1 has sample counts summing to 1, expected 0 \(a padding position holds no draws\)/ });
  assert.throws(bad((c) => { c.sampleIndex![4] = 4; }), { name: 'DataError', message: /row 10 position 1 holds class 4 in two slots/ });
  assert.throws(bad((c) => { c.length![1] = 5; }), { name: 'DataError', message: /row 11 has length 5, expected 0\.\.4 \(P=3 next-token positions\)/ });
  const dense: StoreEncoding = { mode: 'dense', precision: 'float32', classes: 2, positions: 3, target: 'next-token' };
  const logits = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 0, 9, 0, 0]);
  assert.throws(() => roundTrip(dense, { rowStart: 10, rows: 2, length: LENGTH, logits }), { name: 'DataError', message: /row 11 has non-zero logits at a padding position \(positions 1\.\.2 carry no target for length 2\)/ });
  const fixed = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
  const table = decodeTable(encodeTable(shardTable(dense, { rowStart: 10, rows: 2, length: LENGTH, logits: fixed }), 'arrow'), 'arrow', place.name);
  assert.throws(() => decodeShard(table, { ...dense, positions: 2 }, place), { name: 'DataError', message: /columns are .*logits: fixed_size_list<float32>\[6\].* expected .*\[4\]/ });
});
