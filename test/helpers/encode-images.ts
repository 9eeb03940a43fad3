/**
 * Encoded images from known raw pixels, for the encoded-image dataset tests: PNG through pngjs
 * (lossless: decoding must give the pixels back exactly), JPEG through sharp (libvips + mozjpeg, a dev
 * dependency; lossy), and Parquet files with an image column as binary, large_binary or a Hugging
 * Face style struct {bytes, path}.
 */
import { Binary, Field, Int64, LargeBinary, RecordBatch, Schema, Struct, Table, Uint8, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { encodeParquet } from '../../pipeline/io/table-files.ts';

/** pngjs color types by channel count: gray, gray+alpha, rgb, rgba. */
const PNG_COLOR_TYPE = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;

/** A PNG of `pixels` (HWC, `channels` per pixel: 1 gray, 2 gray+alpha, 3 rgb, 4 rgba), bit depth 8 or 16. */
export function encodePng(pixels: Uint8Array, height: number, width: number, channels: 1 | 2 | 3 | 4, bitDepth: 8 | 16 = 8): Uint8Array {
  const colorType = PNG_COLOR_TYPE[channels];
  const png = new PNG({ width, height, colorType, inputColorType: colorType, inputHasAlpha: channels === 2 || channels === 4, bitDepth });
  png.data = Buffer.from(bitDepth === 16 ? new Uint8Array(Uint16Array.from(pixels, (v) => v * 257).buffer) : pixels);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: channels === 2 || channels === 4, bitDepth });
}

/** A JPEG of `pixels` (HWC, 1 channel: a grayscale JPEG, 3: color) at `quality`, 4:4:4 chroma (sharp/mozjpeg). */
export async function encodeJpeg(pixels: Uint8Array, height: number, width: number, channels: 1 | 3, quality = 95): Promise<Uint8Array> {
  const img = sharp(pixels, { raw: { width, height, channels } });
  return (channels === 1 ? img.toColourspace('b-w') : img).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
}

/**
 * Pixels of an image decoded by sharp (libvips), HWC: the JPEG reference decode. libvips hands a
 * grayscale image out as three equal channels; `channels` 1 takes the first (after checking that).
 */
export async function sharpDecode(bytes: Uint8Array, channels?: 1 | 3): Promise<{ pixels: Uint8Array; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  if (channels === 1 && info.channels === 3) {
    const gray = new Uint8Array(info.width * info.height);
    for (let p = 0; p < gray.length; p++) {
      if (data[p * 3] !== data[p * 3 + 1] || data[p * 3] !== data[p * 3 + 2]) throw new Error(`sharpDecode: pixel ${p} is not gray`);
      gray[p] = data[p * 3]!;
    }
    return { pixels: gray, width: info.width, height: info.height, channels: 1 };
  }
  return { pixels: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
}

/** How the image column is stored. */
export type ImageStorage = 'binary' | 'large_binary' | 'struct';

function binaryData(images: (Uint8Array | null)[], large: boolean): Data {
  return vectorFromArray(images, large ? new LargeBinary() : new Binary()).data[0]!;
}

/**
 * A Parquet file with `row` (int64 from `rowStart`), an image column `column` and `label` (uint8).
 * `struct` stores {bytes: binary, path: utf8} as Hugging Face datasets does; `paths` (default
 * img-<row>.png) fill the path field, and a null image keeps only its path.
 */
export function imageParquet(images: (Uint8Array | null)[], labels: number[], opts: { column?: string; storage?: ImageStorage; rowStart?: number; paths?: string[] } = {}): Uint8Array {
  const n = images.length;
  const column = opts.column ?? 'pixels';
  const storage = opts.storage ?? 'binary';
  let imageData: Data;
  if (storage === 'struct') {
    const children = [new Field('bytes', new Binary(), true), new Field('path', new Utf8(), true)];
    const paths = opts.paths ?? images.map((_, i) => `img-${(opts.rowStart ?? 0) + i}.png`);
    imageData = makeData({ type: new Struct(children), length: n, nullCount: 0, children: [binaryData(images, false), vectorFromArray(paths, new Utf8()).data[0]!] });
  } else {
    imageData = binaryData(images, storage === 'large_binary');
  }
  const fields = [new Field('row', new Int64(), false), new Field(column, imageData.type as DataType, true), new Field('label', new Uint8(), false)];
  const children = [
    makeData({ type: new Int64(), length: n, data: BigInt64Array.from({ length: n }, (_, i) => BigInt((opts.rowStart ?? 0) + i)) }),
    imageData,
    makeData({ type: new Uint8(), length: n, data: Uint8Array.from(labels) }),
  ];
  const schema = new Schema(fields);
  return encodeParquet(new Table([new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))]));
}
