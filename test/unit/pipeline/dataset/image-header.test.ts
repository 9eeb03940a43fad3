/**
 * readImageHeader: format, size and channels of PNG (color types 0/2/3/4/6, tRNS) and JPEG (baseline
 * and progressive start-of-frame, gray and color), from images written by pngjs and sharp; named
 * refusals of what is neither.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { readImageHeader } from '../../../../pipeline/dataset/image-header.ts';
import { DataError } from '../../../../pipeline/errors.ts';
import { encodeJpeg, encodePng } from '../../../helpers/encode-images.ts';

const pixels = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255);

/** The PNG with a chunk inserted right after IHDR (CRC left 0: the header reader does not check it). */
function withChunk(png: Uint8Array, type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  new DataView(chunk.buffer).setUint32(0, data.length);
  chunk.set(Buffer.from(type, 'latin1'), 4);
  chunk.set(data, 8);
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}

test('PNG: gray, gray+alpha, rgb, rgba from the color type; size from IHDR', () => {
  for (const [channels, mode] of [
    [1, 'gray'],
    [2, 'gray+alpha'],
    [3, 'rgb'],
    [4, 'rgba'],
  ] as const) {
    const h = readImageHeader(encodePng(pixels(3 * 5 * channels), 3, 5, channels));
    assert.deepEqual(h, { format: 'png', width: 5, height: 3, channels, mode, bitDepth: 8 });
  }
  assert.equal(readImageHeader(encodePng(pixels(12), 2, 2, 3, 16)).bitDepth, 16);
});

test('PNG: a palette image is rgb, and a tRNS chunk gives gray, rgb and palette images an alpha channel', async () => {
  const palette = await sharp(pixels(4 * 4 * 3), { raw: { width: 4, height: 4, channels: 3 } }).png({ palette: true }).toBuffer();
  assert.equal(palette[25], 3, 'sharp wrote color type 3');
  assert.deepEqual([readImageHeader(palette).channels, readImageHeader(palette).mode], [3, 'rgb']);
  assert.equal(readImageHeader(withChunk(encodePng(pixels(16), 4, 4, 1), 'tRNS', new Uint8Array(2))).mode, 'gray+alpha');
  assert.equal(readImageHeader(withChunk(encodePng(pixels(48), 4, 4, 3), 'tRNS', new Uint8Array(6))).mode, 'rgba');
  assert.equal(readImageHeader(withChunk(encodePng(pixels(48), 4, 4, 3), 'tEXt', new Uint8Array(6))).mode, 'rgb');
});

test('JPEG: baseline and progressive, gray and color, size from the start-of-frame segment', async () => {
  assert.deepEqual(readImageHeader(await encodeJpeg(pixels(6 * 7 * 3), 6, 7, 3)), { format: 'jpeg', width: 7, height: 6, channels: 3, mode: 'rgb', bitDepth: 8 });
  assert.deepEqual(readImageHeader(await encodeJpeg(pixels(6 * 7), 6, 7, 1)), { format: 'jpeg', width: 7, height: 6, channels: 1, mode: 'gray', bitDepth: 8 });
  const progressive = await sharp(pixels(9 * 11 * 3), { raw: { width: 11, height: 9, channels: 3 } }).jpeg({ progressive: true }).withMetadata({ orientation: 6 }).toBuffer();
  assert.deepEqual([readImageHeader(progressive).width, readImageHeader(progressive).height], [11, 9], 'stored size, EXIF orientation not applied');
});

test('BAD INPUT: not an image, empty, cut-short headers and a JPEG without a frame are DataErrors saying what was found', async () => {
  const jpeg = await encodeJpeg(pixels(16 * 3), 4, 4, 3);
  const png = encodePng(pixels(16), 4, 4, 1);
  const cases: [Uint8Array, RegExp][] = [
    [Buffer.from('hello, not an image'), /^not a PNG or JPEG image \(19 bytes starting 68 65 6c 6c 6f 2c 20 6e\)$/],
    [new Uint8Array(0), /^empty \(0 bytes\), not a PNG or JPEG image$/],
    [png.subarray(0, 20), /^a PNG without a complete IHDR chunk/],
    [jpeg.subarray(0, 4), /^a JPEG that ends before its start-of-frame segment/],
    [Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2]), /^a JPEG without a start-of-frame segment before its scan data$/],
    [Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 2, 0x12, 0x34]), /^a JPEG with a damaged marker sequence \(byte 0x12 at offset 6/],
  ];
  for (const [bytes, message] of cases) assert.throws(() => readImageHeader(bytes), (err: unknown) => err instanceof DataError && message.test(err.message));
});
