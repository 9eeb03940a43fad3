import { DataType, Field, FixedSizeList, RecordBatch, Schema, Struct, Table, Uint8, makeData } from 'apache-arrow';
import type { Binary, Data, Utf8, Vector } from 'apache-arrow';
import { DataError } from '../errors.ts';
import { loadImageDecoder } from '../engines/image-decoder.ts';
import type { DecodeRgba } from '../engines/image-decoder.ts';
import { sha256Bytes } from '../io/sha256.ts';
import { columnTypeName } from './column-type.ts';
import type { DatasetColumn, EncodedImage } from './dataset-manifest.ts';
import { readImageHeader } from './image-header.ts';
import type { ImageFormat } from './image-header.ts';

function binaryName(type: DataType): string | null {
  return DataType.isBinary(type) ? 'binary' : DataType.isLargeBinary(type) ? 'large_binary' : null;
}

/**
 * The storage name of an Arrow type that holds encoded images: `binary`, `large_binary`, or a struct
 * with a binary `bytes` field, as Hugging Face `datasets` stores an Image feature
 * (`struct<bytes: binary, path: utf8>`). Null for any other type.
 */
export function encodedImageStorage(type: DataType): string | null {
  const plain = binaryName(type);
  if (plain) return plain;
  if (!DataType.isStruct(type)) return null;
  const fields = (type as Struct).children;
  const bytes = fields.find((f) => f.name === 'bytes');
  if (!bytes || !binaryName(bytes.type as DataType)) return null;
  return `struct<${fields.map((f) => `${f.name}: ${binaryName(f.type as DataType) ?? columnTypeName(f.type as DataType) ?? String(f.type)}`).join(', ')}>`;
}

/**
 * The manifest column of an encoded-image feature: decoded to `shape` = [H, W] or [H, W, 1] (gray)
 * or [H, W, 3] (rgb), read by every reader as `fixed_size_list<uint8>[H*W*C]`. Without a shape, or
 * with another channel count, a DataError says what to declare.
 */
export function encodedImageColumn(name: string, storage: string, shape: number[] | undefined, decoder: string, file: string): DatasetColumn {
  if (!shape) {
    throw new DataError(
      `${file}: column "${name}" holds encoded images (${storage}); declare the pixels they decode to: --shape ${name}=HxW for grayscale or --shape ${name}=HxWx3 for RGB (e.g. --shape ${name}=28x28)`,
    );
  }
  const channels = shape.length === 2 || (shape.length === 3 && shape[2] === 1) ? 'gray' : shape.length === 3 && shape[2] === 3 ? 'rgb' : null;
  if (!channels) {
    throw new DataError(`${file}: column "${name}" holds encoded images, so its shape must be HxW or HxWx1 (grayscale) or HxWx3 (RGB), channels last, but --shape gives ${shape.join('x')}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const image: EncodedImage = { storage, channels, layout: 'HWC', decoder, formats: { png: 0, jpeg: 0 } };
  return { name, type: `fixed_size_list<uint8>[${size}]`, role: 'feature', shape, kind: 'image', image };
}

/** Images decoded per column and format (filled by {@link decodeImageColumns}). */
export type ImageTally = Map<string, Record<ImageFormat, number>>;

/** A key that changes with anything that changes the decoded pixels of a dataset's image columns ('' when it has none). */
export function imageCacheKey(columns: readonly DatasetColumn[]): string {
  const images = columns.filter((c) => c.image).map((c) => [c.name, c.shape, c.image!.storage, c.image!.channels, c.image!.decoder]);
  return images.length === 0 ? '' : `.pixels-${sha256Bytes(JSON.stringify(images)).slice(0, 16)}`;
}

async function decodeColumn(vec: Vector, column: DatasetColumn, file: string, rowStart: number, decode: DecodeRgba, tally: Record<ImageFormat, number>): Promise<Data> {
  const shape = column.shape!;
  const [H, W] = shape as [number, number];
  const C = column.image!.channels === 'rgb' ? 3 : 1;
  const size = H * W * C;
  const out = new Uint8Array(vec.length * size);
  const struct = DataType.isStruct(vec.type as DataType) ? (vec as Vector<Struct<{ bytes: Binary; path: Utf8 }>>) : null;
  const bytesVec: Vector = struct ? struct.getChild('bytes')! : vec;
  const pathVec: Vector | null = struct?.getChild('path') ?? null;
  const declared = `--shape ${column.name}=${shape.join('x')}`;
  for (let i = 0; i < vec.length; i++) {
    const path = pathVec?.isValid(i) ? (pathVec.get(i) as string) : null;
    const where = `${file}: row ${rowStart + i} of column "${column.name}"${path ? ` (path ${JSON.stringify(path)})` : ''}`;
    if (!vec.isValid(i)) throw new DataError(`${where} is null; every row needs an image`);
    const bytes = bytesVec.isValid(i) ? (bytesVec.get(i) as Uint8Array) : null;
    if (!bytes) {
      throw new DataError(`${where} has no image bytes${path ? ', only a path' : ''}; images are read from the bytes stored in the file (write the encoded bytes into the column)`);
    }
    let rgba: Uint8Array;
    try {
      const header = readImageHeader(bytes);
      const kind = header.format === 'png' ? 'PNG' : 'JPEG';
      if (header.height !== H || header.width !== W) {
        throw new DataError(`is a ${header.height}x${header.width} (height x width) ${kind}, but the column is declared ${H}x${W} (${declared}); images are never resized: resize them when writing the Parquet, or declare their size`);
      }
      if (header.channels !== C) {
        throw new DataError(
          `is a ${header.mode} ${kind} (${header.channels} channel${header.channels === 1 ? '' : 's'}), but the column is declared ${C === 1 ? 'grayscale (1 channel)' : 'RGB (3 channels)'} (${declared}); channels are never converted`,
        );
      }
      rgba = await decode(bytes, header);
      tally[header.format]++;
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      throw new DataError(`${where} ${/^(is|has) /.test(err.message) ? err.message : `is ${err.message}`}`);
    }
    const row = out.subarray(i * size, (i + 1) * size);
    if (C === 1) for (let p = 0; p < H * W; p++) row[p] = rgba[p * 4]!;
    else {
      for (let p = 0; p < H * W; p++) {
        row[p * 3] = rgba[p * 4]!;
        row[p * 3 + 1] = rgba[p * 4 + 1]!;
        row[p * 3 + 2] = rgba[p * 4 + 2]!;
      }
    }
  }
  const type = new FixedSizeList(size, new Field('item', new Uint8(), false));
  return makeData({ type, length: vec.length, nullCount: 0, child: makeData({ type: new Uint8(), length: out.length, data: out }) });
}

/**
 * The table with every encoded-image column that the manifest describes (`image`) replaced by its
 * decoded pixels, `fixed_size_list<uint8>[H*W*C]`: what every reader and the content fingerprint
 * see. A row that is not a decodable PNG/JPEG of the declared size and channels is a DataError
 * naming the file, row and column (and the struct's path, when it has one). `rowStart` is the
 * file's first row, for messages. Tables without such columns are returned as they are.
 */
export async function decodeImageColumns(table: Table, columns: readonly DatasetColumn[], file: string, rowStart = 0, tally: ImageTally = new Map()): Promise<Table> {
  const targets = columns.filter((c) => c.image && table.getChild(c.name) && encodedImageStorage(table.getChild(c.name)!.type as DataType) !== null);
  if (targets.length === 0) return table;
  const decode = await loadImageDecoder();
  for (const c of targets) if (!tally.has(c.name)) tally.set(c.name, { png: 0, jpeg: 0 });
  let schema: Schema | undefined;
  let at = rowStart;
  const batches: RecordBatch[] = [];
  for (const batch of table.batches) {
    const part = new Table([batch]);
    const fields: Field[] = [];
    const data: Data[] = [];
    for (const [i, f] of table.schema.fields.entries()) {
      const col = targets.find((c) => c.name === f.name);
      const d = col ? await decodeColumn(part.getChild(f.name)!, col, file, at, decode, tally.get(col.name)!) : batch.data.children[i]!;
      fields.push(col ? new Field(f.name, d.type, false) : f);
      data.push(d);
    }
    schema ??= new Schema(fields);
    at += batch.numRows;
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children: data })));
  }
  return new Table(batches);
}
