import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ViewParams, ViewPolicy } from '../../../../pipeline/augment/view-policy.ts';
import { deriveViewParams } from '../../../../pipeline/augment/view-policy.ts';
import { columnTypeName } from '../../../../pipeline/dataset/column-type.ts';
import { decodeTable, encodeTable } from '../../../../pipeline/io/table-files.ts';
import { decodeShard } from '../../../../pipeline/store/decode-shard.ts';
import { shardSchema, shardTable } from '../../../../pipeline/store/shard-table.ts';
import type { StoreEncoding } from '../../../../pipeline/store/soft-target-store.ts';

const IMAGE: ViewPolicy = { count: 3, seed: 1, column: 'pixels', augment: { kind: 'image', shift: 2, rotation: 10, scale: 0.1, geometry: { height: 28, width: 28, channels: 1, layout: 'hwc' } } };
const place = { split: 'train', index: 0, rowStart: 10, rowEnd: 12, name: 'train/part-00000.parquet' };
const dense: StoreEncoding = { mode: 'dense', precision: 'float32', classes: 2, views: IMAGE };
const logits = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i / 4);
const decode = (enc: StoreEncoding, params: ViewParams, format: 'parquet' | 'arrow' = 'parquet') =>
  decodeShard(decodeTable(encodeTable(shardTable(enc, { rowStart: 10, rows: 2, logits, viewParams: params }), format), format, place.name), enc, place);

test('a view shard: one table row per (row, view) with view and parameter columns; round trip through Parquet and Arrow', () => {
  const names = (e: StoreEncoding) => shardSchema(e).fields.map((f) => `${f.name}: ${columnTypeName(f.type)}`);
  assert.deepEqual(names(dense), ['row: int64', 'view: int32', 'dx: int32', 'dy: int32', 'angle: float32', 'scale: float32', 'logits: fixed_size_list<float32>[2]']);
  assert.deepEqual(names({ mode: 'topk', precision: 'float16', classes: 5, k: 2, temperature: 1, views: { ...IMAGE, augment: { kind: 'noise', sd: 1 } } }), [
    'row: int64',
    'view: int32',
    'noise_key: uint32',
    'topk_index: fixed_size_list<uint16>[2]',
    'topk_logit: fixed_size_list<float16>[2]',
    'tail_lse: float32',
  ]);
  const params = deriveViewParams(IMAGE, 'train', 10, 2);
  for (const format of ['parquet', 'arrow'] as const) {
    const t = decode(dense, params, format);
    assert.deepEqual([t.logits, t.viewParams], [logits, params]);
  }
  const table = shardTable(dense, { rowStart: 10, rows: 2, logits, viewParams: params });
  assert.deepEqual([...table.getChild('row')!].map(Number), [10, 10, 10, 11, 11, 11]);
  assert.deepEqual([...table.getChild('view')!], [0, 1, 2, 0, 1, 2]);
});

test('BAD CALL view shards whose parameters break the rule: view 0 not the identity, outside the policy, another K, rows missing', () => {
  const tamper = (f: (p: Extract<ViewParams, { kind: 'image' }>) => void): ViewParams => {
    const p = deriveViewParams(IMAGE, 'train', 10, 2) as Extract<ViewParams, { kind: 'image' }>;
    f(p);
    return p;
  };
  assert.throws(() => decode(dense, tamper((p) => (p.dx[3] = 1))), { name: 'DataError', message: /train\/part-00000.parquet: row 11 view 0 has dx 1, expected the identity \(view 0 is the unaugmented input\)/ });
  assert.throws(() => decode(dense, tamper((p) => (p.dy[4] = 3))), { name: 'DataError', message: /row 11 view 1 has dy 3, expected \|dy\| <= 2 \(the store's view policy\)/ });
  assert.throws(() => decode(dense, tamper((p) => (p.angle[2] = 11))), { name: 'DataError', message: /row 10 view 2 has angle 11, expected \|angle\| <= 10/ });
  assert.throws(() => decode(dense, tamper((p) => (p.scale[0] = 1.5))), { name: 'DataError', message: /row 10 view 0 has scale 1.5, expected the identity/ });
  const params = deriveViewParams(IMAGE, 'train', 10, 2);
  const other: StoreEncoding = { ...dense, views: { ...IMAGE, count: 2 } };
  const bytes = encodeTable(shardTable(dense, { rowStart: 10, rows: 2, logits, viewParams: params }), 'arrow');
  assert.throws(() => decodeShard(decodeTable(bytes, 'arrow', place.name), other, place), { name: 'DataError', message: /has 6 rows, expected 4 \(rows 10\.\.11 x 2 views\)/ });
  const threeRows = { ...place, rowEnd: 13 };
  assert.throws(() => decodeShard(decodeTable(bytes, 'arrow', place.name), dense, threeRows), { name: 'DataError', message: /has 6 rows, expected 9/ });
});
