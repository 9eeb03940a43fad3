import { readFile } from 'node:fs/promises';
import { DataError } from '../../pipeline/errors.ts';

/** A decoded IDX file (the MNIST distribution format): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** IDX magic numbers: 0x0801 = ubyte vector (labels), 0x0803 = ubyte rank-3 tensor (images). */
export const IDX_MAGIC = { labels: 0x00000801, images: 0x00000803 } as const;

/**
 * Parses an IDX file of unsigned bytes, checking the magic number, the item count and dimensions
 * against what is expected, and the file length against the header: a corrupt or truncated file is
 * a DataError that names the file and what differs.
 */
export function parseIdx(bytes: Uint8Array, name: string, expect: { magic: number; dims: number[] }): IdxArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8) throw new DataError(`${name}: ${bytes.byteLength} bytes is too short for an IDX header`);
  const magic = view.getUint32(0, false);
  if (magic !== expect.magic) {
    throw new DataError(`${name}: IDX magic number is 0x${magic.toString(16).padStart(8, '0')}, expected 0x${expect.magic.toString(16).padStart(8, '0')}`);
  }
  const rank = magic & 0xff;
  const header = 4 + 4 * rank;
  if (bytes.byteLength < header) throw new DataError(`${name}: truncated IDX header (${bytes.byteLength} bytes, needs ${header})`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  if (dims.length !== expect.dims.length || dims.some((d, i) => d !== expect.dims[i])) {
    throw new DataError(`${name}: IDX dimensions are [${dims.join(', ')}], expected [${expect.dims.join(', ')}]`);
  }
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== header + size) {
    throw new DataError(
      `${name}: file is ${bytes.byteLength} bytes but its header [${dims.join(', ')}] needs ${header + size}` +
        (bytes.byteLength < header + size ? ' (truncated)' : ' (trailing bytes)'),
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads and parses an IDX file; see {@link parseIdx}. */
export async function readIdx(path: string, expect: { magic: number; dims: number[] }): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read the IDX file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseIdx(bytes, path, expect);
}
