/**
 * The one module that touches the image codecs. PNG: `pngjs` (pure JavaScript). JPEG: the mozjpeg
 * decoder (libjpeg-turbo's decoder) compiled to WebAssembly, as shipped by `@jsquash/jpeg`. Both
 * were chosen on measured speed against sharp (libvips) and jpeg-js (docs/benchmarks.md "Image
 * decoding", docs/decisions.md), and both are deterministic: the same bytes give the same pixels on
 * every machine (no native build, no SIMD path that differs by CPU).
 *
 * The codecs load lazily (only datasets with encoded-image columns pay for them). The mozjpeg
 * module defines a global `ImageData` class when it loads in Node (it builds its result with it).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { DataError } from '../errors.ts';
import type { ImageHeader } from '../dataset/image-header.ts';

const require = createRequire(import.meta.url);

/** Decodes one image whose header was read; returns RGBA, 4 bytes per pixel, row-major. */
export type DecodeRgba = (bytes: Uint8Array, header: ImageHeader) => Promise<Uint8Array>;

/** The codecs and their versions, e.g. `pngjs 7.0.0 + @jsquash/jpeg 1.6.0 (mozjpeg, wasm)`. */
export function imageDecoderName(): string {
  const version = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;
  return `pngjs ${version('pngjs')} + @jsquash/jpeg ${version('@jsquash/jpeg')} (mozjpeg, wasm)`;
}

interface MozjpegModule {
  decode(data: Uint8Array, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number } | null;
}

/** The parts of the WebAssembly global used here (the project's TypeScript lib has no DOM/wasm types). */
interface WasmInstance {
  exports: object;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => WasmInstance;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type MozjpegFactory = (options: {
  noInitialRun: boolean;
  printErr: (line: string) => void;
  instantiateWasm: (imports: object, done: (instance: WasmInstance) => void) => object;
}) => Promise<MozjpegModule>;

type PngRead = (buffer: Buffer, options: { checkCRC: boolean }) => { width: number; height: number; data: Buffer };

/**
 * A JPEG decoder around one mozjpeg instance. libjpeg reports an error by exiting the wasm program
 * (the call throws) and prints warnings; both go to `messages`. After an error the instance is
 * replaced, so no state of a failed decode is reused.
 */
class JpegDecoder {
  private instance: Promise<MozjpegModule> | undefined;
  private messages: string[] = [];

  constructor(
    private readonly factory: MozjpegFactory,
    private readonly wasm: object,
  ) {}

  private module(): Promise<MozjpegModule> {
    this.instance ??= this.factory({
      noInitialRun: true,
      printErr: (line) => this.messages.push(line),
      instantiateWasm: (imports, done) => {
        const instance = new wasmApi.Instance(this.wasm, imports);
        done(instance);
        return instance.exports;
      },
    });
    return this.instance;
  }

  async decode(bytes: Uint8Array): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
    const mod = await this.module();
    this.messages = [];
    let out: ReturnType<MozjpegModule['decode']>;
    try {
      out = mod.decode(bytes, false); // false: pixels as stored, EXIF orientation not applied (as Pillow and sharp by default)
    } catch (err) {
      this.instance = undefined;
      throw new DataError(`not a decodable JPEG (libjpeg: ${this.messages.join('; ') || (err as Error).message || String(err)})`);
    }
    if (!out) throw new DataError(`not a decodable JPEG (libjpeg: ${this.messages.join('; ') || 'no image'})`);
    const truncated = this.messages.find((m) => /premature end/i.test(m));
    if (truncated) throw new DataError(`a truncated JPEG (libjpeg: ${truncated})`);
    return out;
  }
}

let loaded: Promise<DecodeRgba> | undefined;

async function load(): Promise<DecodeRgba> {
  const pngjs = (await import('pngjs')) as unknown as { PNG?: { sync: { read: PngRead } }; default?: { PNG: { sync: { read: PngRead } } } };
  const readPng = (pngjs.PNG ?? pngjs.default!.PNG).sync.read;
  const factory = ((await import('@jsquash/jpeg/codec/dec/mozjpeg_dec.js')) as unknown as { default: MozjpegFactory }).default;
  const wasm = await wasmApi.compile(await readFile(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
  const jpeg = new JpegDecoder(factory, wasm);
  return async (bytes, header) => {
    if (header.bitDepth !== 8 && !(header.format === 'png' && header.bitDepth < 8)) {
      throw new DataError(`a ${header.bitDepth}-bit ${header.format === 'png' ? 'PNG' : 'JPEG'}; only 8-bit images (and PNGs of 1, 2 or 4 bits) are decoded: convert it to 8 bits`);
    }
    let rgba: Uint8Array;
    let width: number;
    let height: number;
    if (header.format === 'png') {
      try {
        ({ data: rgba, width, height } = readPng(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { checkCRC: true }));
      } catch (err) {
        throw new DataError(`not a decodable PNG (pngjs: ${(err as Error).message})`);
      }
    } else {
      if (header.channels === 4) throw new DataError('a CMYK JPEG; only grayscale and color (YCbCr/RGB) JPEGs are decoded');
      const out = await jpeg.decode(bytes);
      rgba = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
      ({ width, height } = out);
    }
    if (width !== header.width || height !== header.height || rgba.length !== width * height * 4) {
      throw new DataError(`a ${header.format.toUpperCase()} whose header says ${header.height}x${header.width} but whose data decodes to ${height}x${width} (height x width)`);
    }
    return rgba;
  };
}

/** The image decoder, loaded once per process. A bad image is a DataError saying what is wrong with it. */
export function loadImageDecoder(): Promise<DecodeRgba> {
  loaded ??= load();
  return loaded;
}
