import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IDX_MAGIC, parseIdx } from '../../../../stages/data/read-idx.ts';

function idx(magic: number, dims: number[], payload: number): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Array.from({ length: payload }, (_, i) => i % 256))]);
}

test('parses a well-formed rank-3 IDX file', () => {
  const a = parseIdx(idx(IDX_MAGIC.images, [2, 3, 4], 24), 'ok', { magic: IDX_MAGIC.images, dims: [2, 3, 4] });
  assert.deepEqual(a.dims, [2, 3, 4]);
  assert.equal(a.data.length, 24);
  assert.equal(a.data[23], 23);
});

test('BAD CALL wrong magic number', () => {
  assert.throws(() => parseIdx(idx(IDX_MAGIC.labels, [5], 5), 'labels-as-images', { magic: IDX_MAGIC.images, dims: [5] }), {
    name: 'DataError',
    message: /labels-as-images: IDX magic number is 0x00000801, expected 0x00000803/,
  });
});

test('BAD CALL truncated payload and trailing bytes', () => {
  assert.throws(() => parseIdx(idx(IDX_MAGIC.labels, [10], 7), 'short', { magic: IDX_MAGIC.labels, dims: [10] }), { message: /short: file is 15 bytes but its header \[10\] needs 18 \(truncated\)/ });
  assert.throws(() => parseIdx(idx(IDX_MAGIC.labels, [10], 12), 'long', { magic: IDX_MAGIC.labels, dims: [10] }), { message: /\(trailing bytes\)/ });
  assert.throws(() => parseIdx(new Uint8Array(3), 'tiny', { magic: IDX_MAGIC.labels, dims: [10] }), { message: /too short for an IDX header/ });
});

test('BAD CALL unexpected dimensions', () => {
  assert.throws(() => parseIdx(idx(IDX_MAGIC.images, [2, 28, 27], 2 * 28 * 27), 'img', { magic: IDX_MAGIC.images, dims: [2, 28, 28] }), {
    message: /img: IDX dimensions are \[2, 28, 27\], expected \[2, 28, 28\]/,
  });
});
