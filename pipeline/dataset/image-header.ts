/**
 * What an encoded image says about itself before it is decoded: container format, size and channels,
 * read from the PNG IHDR/tRNS chunks (PNG spec, W3C 2003) or the JPEG start-of-frame segment
 * (ITU T.81). Cheap, so a column can refuse an image of the wrong size or channels with a clear
 * message without decoding it.
 */
import { DataError } from '../errors.ts';

/** Encoded image formats that dataset columns accept. */
export type ImageFormat = 'png' | 'jpeg';

/** The header of an encoded image. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** Channels of the encoded image: 1 gray, 2 gray+alpha, 3 rgb, 4 rgba (PNG) or cmyk (JPEG). */
  channels: number;
  /** The channels by name, for messages: gray, gray+alpha, rgb, rgba, cmyk. */
  mode: 'gray' | 'gray+alpha' | 'rgb' | 'rgba' | 'cmyk';
  /** Bits per sample (PNG 1, 2, 4, 8, 16; JPEG 8 or 12). */
  bitDepth: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function pngHeader(bytes: Uint8Array): ImageHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || view.getUint32(8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    throw new DataError('a PNG without a complete IHDR chunk (truncated or damaged PNG)');
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = bytes[24]!;
  const colorType = bytes[25]!;
  const base: Record<number, { channels: number; mode: ImageHeader['mode'] }> = {
    0: { channels: 1, mode: 'gray' },
    2: { channels: 3, mode: 'rgb' },
    3: { channels: 3, mode: 'rgb' },
    4: { channels: 2, mode: 'gray+alpha' },
    6: { channels: 4, mode: 'rgba' },
  };
  const kind = base[colorType];
  if (!kind) throw new DataError(`a PNG with color type ${colorType}, which the PNG spec does not define`);
  if (width === 0 || height === 0) throw new DataError(`a PNG of ${height}x${width} pixels (height x width)`);
  // A tRNS chunk (before the first IDAT) gives gray, rgb and palette images an alpha channel.
  let at = 33;
  let transparent = false;
  while (at + 8 <= bytes.length) {
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'IDAT' || type === 'IEND') break;
    if (type === 'tRNS') transparent = true;
    at += 12 + view.getUint32(at);
  }
  if (transparent && kind.channels === 1) return { format: 'png', width, height, channels: 2, mode: 'gray+alpha', bitDepth };
  if (transparent && kind.channels === 3) return { format: 'png', width, height, channels: 4, mode: 'rgba', bitDepth };
  return { format: 'png', width, height, ...kind, bitDepth };
}

/** Start-of-frame markers: C0-CF except C4 (DHT), C8 (JPG) and CC (DAC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegHeader(bytes: Uint8Array): ImageHeader {
  let at = 2;
  while (at < bytes.length) {
    if (bytes[at] !== 0xff) throw new DataError(`a JPEG with a damaged marker sequence (byte 0x${bytes[at]!.toString(16)} at offset ${at} where a marker was expected)`);
    while (bytes[at] === 0xff) at++; // fill bytes
    const marker = bytes[at++];
    if (marker === undefined) break;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // standalone markers
    if (marker === 0xd9 || marker === 0xda) throw new DataError(`a JPEG without a start-of-frame segment before its ${marker === 0xda ? 'scan data' : 'end'}`);
    if (at + 2 > bytes.length) break;
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    if (isStartOfFrame(marker)) {
      if (at + 8 > bytes.length) break;
      const bitDepth = bytes[at + 2]!;
      const height = (bytes[at + 3]! << 8) | bytes[at + 4]!;
      const width = (bytes[at + 5]! << 8) | bytes[at + 6]!;
      const components = bytes[at + 7]!;
      const mode = ({ 1: 'gray', 3: 'rgb', 4: 'cmyk' } as const)[components as 1 | 3 | 4];
      if (!mode) throw new DataError(`a JPEG with ${components} color components (expected 1 gray, 3 color or 4 CMYK)`);
      if (width === 0 || height === 0) throw new DataError(`a JPEG of ${height}x${width} pixels (height x width)`);
      return { format: 'jpeg', width, height, channels: components, mode, bitDepth };
    }
    at += length;
  }
  throw new DataError('a JPEG that ends before its start-of-frame segment (truncated or damaged JPEG)');
}

/**
 * The header of a PNG or JPEG image. Anything else, or a header cut short, is a DataError saying
 * what was found (the caller adds file, row and column).
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return pngHeader(bytes);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegHeader(bytes);
  if (bytes.length === 0) throw new DataError('empty (0 bytes), not a PNG or JPEG image');
  throw new DataError(`not a PNG or JPEG image (${bytes.length} bytes starting ${hexStart(bytes)})`);
}
