/**
 * decodeImageColumns: PNG and JPEG rows of binary, large_binary and Hugging Face struct {bytes, path}
 * columns decoded to fixed_size_list<uint8>[H*W*C]. PNG is lossless, so the pixels must come back
 * exactly; JPEG must equal sharp's decode (libvips, native libjpeg-turbo/mozjpeg: an independent
 * build of the reference decoder) exactly, and the raw pixels within a tolerance. Every bad row is a
 * DataError naming file, row (counted from the file's first row), column and, for a struct, the path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import type { Table } from 'apache-arrow';
import type { DatasetColumn } from '../../../../pipeline/dataset/dataset-manifest.ts';
import { decodeImageColumns, encodedImageColumn, encodedImageStorage, imageCacheKey } from '../../../../pipeline/dataset/image-column.ts';
import type { ImageTally } from '../../../../pipeline/dataset/image-column.ts';
import { imageDecoderName } from '../../../../pipeline/engines/image-decoder.ts';
import { DataError } from '../../../../pipeline/errors.ts';
import { columnValues } from '../../../../pipeline/io/column-values.ts';
import { decodeTable } from '../../../../pipeline/io/table-files.ts';
import { encodeJpeg, encodePng, imageParquet, sharpDecode } from '../../../helpers/encode-images.ts';
import type { ImageStorage } from '../../../helpers/encode-images.ts';

const H = 6;
const W = 5;
/** Seeded-looking pixels of image i: a gradient plus a per-image pattern. */
const raw = (i: number, channels: number): Uint8Array => Uint8Array.from({ length: H * W * channels }, (_, k) => (k * 11 + i * 29 + ((k * k) % 7) * 5) & 255);

function table(images: (Uint8Array | null)[], storage: ImageStorage = 'binary', paths?: string[]): Table {
  return decodeTable(imageParquet(images, images.map(() => 0), { storage, ...(paths ? { paths } : {}) }), 'parquet', 'mem.parquet');
}

function columns(t: Table, shape: number[]): DatasetColumn[] {
  const storage = encodedImageStorage(t.getChild('pixels')!.type)!;
  return [{ name: 'row', type: 'int64', role: 'row' }, encodedImageColumn('pixels', storage, shape, imageDecoderName(), 'mem.parquet'), { name: 'label', type: 'uint8', role: 'label' }];
}

test('storage names: binary, large_binary, struct<bytes, path>; other types are not images', () => {
  for (const [storage, name] of [
    ['binary', 'binary'],
    ['large_binary', 'large_binary'],
    ['struct', 'struct<bytes: binary, path: utf8>'],
  ] as const) {
    assert.equal(encodedImageStorage(table([encodePng(raw(0, 1), H, W, 1)], storage).getChild('pixels')!.type), name);
  }
  assert.equal(encodedImageStorage(table([encodePng(raw(0, 1), H, W, 1)]).getChild('label')!.type), null);
});

test('PNG rows in every storage decode to exactly their pixels, gray and RGB, HWC; formats are counted', async () => {
  for (const storage of ['binary', 'large_binary', 'struct'] as const) {
    for (const C of [1, 3] as const) {
      const t = table([0, 1, 2].map((i) => encodePng(raw(i, C), H, W, C)), storage);
      const tally: ImageTally = new Map();
      const cols = columns(t, C === 1 ? [H, W] : [H, W, 3]);
      assert.equal(cols[1]!.type, `fixed_size_list<uint8>[${H * W * C}]`);
      const out = await decodeImageColumns(t, cols, 'mem.parquet', 0, tally);
      assert.deepEqual([...columnValues(out.getChild('pixels')!, H * W * C)], [0, 1, 2].flatMap((i) => [...raw(i, C)]), `${storage}, ${C} channels`);
      assert.deepEqual(tally.get('pixels'), { png: 3, jpeg: 0 });
      assert.deepEqual(out.schema.fields.map((f) => f.name), ['row', 'pixels', 'label']);
    }
  }
});

/** A grayscale PNG of `bits` bits per pixel, built by hand (pngjs writes 8 and 16 bits only): rows of packed samples, filter 0. */
function lowDepthGrayPng(samples: number[][], bits: 1 | 2 | 4): Uint8Array {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const [h, w] = [samples.length, samples[0]!.length];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([bits, 0, 0, 0, 0], 8);
  const stride = Math.ceil((w * bits) / 8);
  const raw = Buffer.alloc(h * (stride + 1));
  samples.forEach((row, y) => row.forEach((v, x) => (raw[y * (stride + 1) + 1 + Math.floor((x * bits) / 8)]! |= v << (8 - bits - ((x * bits) % 8)))));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

test('PNGs of 1, 2 and 4 bits per sample are scaled to 0..255 (v * 255 / (2^bits - 1))', async () => {
  for (const bits of [1, 2, 4] as const) {
    const max = 2 ** bits - 1;
    const samples = Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => (x + y * W) % (max + 1)));
    const t = table([lowDepthGrayPng(samples, bits)]);
    const out = columnValues((await decodeImageColumns(t, columns(t, [H, W]), 'mem.parquet')).getChild('pixels')!, H * W);
    assert.deepEqual([...out], samples.flat().map((v) => (v * 255) / max), `${bits}-bit`);
  }
});

test('JPEG rows equal sharp’s decode exactly (gray and color) and the raw pixels within the loss of quality 95', async () => {
  for (const C of [1, 3] as const) {
    const jpegs = await Promise.all([0, 1, 2].map((i) => encodeJpeg(raw(i, C), H, W, C, 95)));
    const t = table(jpegs);
    const out = columnValues((await decodeImageColumns(t, columns(t, C === 1 ? [H, W, 1] : [H, W, 3]), 'mem.parquet')).getChild('pixels')!, H * W * C) as Uint8Array;
    for (let i = 0; i < 3; i++) {
      const ref = await sharpDecode(jpegs[i]!, C);
      assert.equal(ref.channels, C);
      const got = out.subarray(i * H * W * C, (i + 1) * H * W * C);
      assert.deepEqual([...got], [...ref.pixels], `image ${i}, ${C} channels: the same pixels as libvips`);
      const expected = raw(i, C);
      const err = Array.from(got, (v, k) => Math.abs(Number(v) - expected[k]!)).reduce((a, b) => Math.max(a, b), 0);
      assert.ok(err <= 40, `image ${i}: largest error ${err} vs the raw pixels`);
    }
  }
});

test('the cache key changes with the shape, channels and storage of image columns, and is empty without them', () => {
  const t = table([encodePng(raw(0, 1), H, W, 1)]);
  const a = imageCacheKey(columns(t, [H, W]));
  assert.match(a, /^\.pixels-[0-9a-f]{16}$/);
  assert.notEqual(a, imageCacheKey(columns(t, [H, W, 3])));
  assert.notEqual(a, imageCacheKey(columns(table([encodePng(raw(0, 1), H, W, 1)], 'struct'), [H, W])));
  assert.equal(imageCacheKey([{ name: 'row', type: 'int64', role: 'row' }]), '');
});

test('BAD INPUT: each bad row is a DataError naming file, row, column (and path); the decoder keeps working after a JPEG error', async () => {
  const good = encodePng(raw(0, 1), H, W, 1);
  const jpeg = await encodeJpeg(raw(0, 1), H, W, 1);
  const cases: [Uint8Array | null, RegExp][] = [
    [Buffer.from('GIF89a not supported'), /^f\.parquet: row 11 of column "pixels" \(path "a\.png"\) is not a PNG or JPEG image \(20 bytes starting 47 49 46 38/],
    [good.subarray(0, good.length - 20), /row 11 of column "pixels" \(path "a\.png"\) is not a decodable PNG \(pngjs: /],
    [jpeg.subarray(0, jpeg.length - 3), /row 11 of column "pixels" \(path "a\.png"\) is a truncated JPEG \(libjpeg: Premature end of JPEG file\)/],
    [jpeg.subarray(0, Math.floor(jpeg.length * 0.7)), /row 11 of column "pixels" \(path "a\.png"\) is not a decodable JPEG \(libjpeg: .*missing SOS marker\)/],
    [encodePng(raw(0, 1).subarray(0, (H - 1) * W), H - 1, W, 1), /row 11 .* is a 5x5 \(height x width\) PNG, but the column is declared 6x5 \(--shape pixels=6x5\); images are never resized/],
    [encodePng(raw(0, 3), H, W, 3), /row 11 .* is a rgb PNG \(3 channels\), but the column is declared grayscale \(1 channel\) \(--shape pixels=6x5\); channels are never converted/],
    [encodePng(raw(0, 2), H, W, 2), /is a gray\+alpha PNG \(2 channels\), but the column is declared grayscale/],
    [encodePng(raw(0, 1), H, W, 1, 16), /row 11 .* is a 16-bit PNG; only 8-bit images \(and PNGs of 1, 2 or 4 bits\) are decoded/],
    [null, /^f\.parquet: row 11 of column "pixels" \(path "a\.png"\) has no image bytes, only a path; images are read from the bytes stored in the file/],
  ];
  for (const [bad, message] of cases) {
    const t = table([good, bad], 'struct', ['b.png', 'a.png']);
    await assert.rejects(decodeImageColumns(t, columns(t, [H, W]), 'f.parquet', 10), (err: unknown) => err instanceof DataError && message.test(err.message) || assert.fail(`${String(err)} does not match ${message}`));
  }
  const rgba = table([encodePng(raw(0, 4), H, W, 4)]);
  await assert.rejects(decodeImageColumns(rgba, columns(rgba, [H, W, 3]), 'f.parquet'), /row 0 of column "pixels" is a rgba PNG \(4 channels\), but the column is declared RGB \(3 channels\)/);
  const after = table([jpeg]);
  const ok = await decodeImageColumns(after, columns(after, [H, W]), 'f.parquet');
  assert.deepEqual([...columnValues(ok.getChild('pixels')!, H * W)], [...(await sharpDecode(jpeg, 1)).pixels]);
});

test('BAD INPUT: an image column without a declared shape, or with 2 or 4 channels, says what to declare', () => {
  assert.throws(() => encodedImageColumn('img', 'binary', undefined, 'd', 'train/a.parquet'), /train\/a\.parquet: column "img" holds encoded images \(binary\); declare the pixels they decode to: --shape img=HxW for grayscale or --shape img=HxWx3 for RGB/);
  assert.throws(() => encodedImageColumn('img', 'binary', [4, 4, 4], 'd', 'a'), /its shape must be HxW or HxWx1 \(grayscale\) or HxWx3 \(RGB\), channels last, but --shape gives 4x4x4/);
  assert.throws(() => encodedImageColumn('img', 'binary', [3, 4, 4], 'd', 'a'), /but --shape gives 3x4x4/);
});
