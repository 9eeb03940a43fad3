/**
 * The corruption suite: seeded, deterministic transforms of uint8 images, in the spirit of
 * ImageNet-C / MNIST-C (Hendrycks & Dietterich 2019; Mu & Gilmer 2019). Each kind has severities
 * 1..5 (0 is the identity). Randomness (noise values, shift direction, rotation sign) comes from a
 * PRNG seeded per row by (seed, kind, severity, global row index), so a row is corrupted the same way
 * whatever batch or subset it is evaluated in.
 *
 * Pixel-size parameters (shift, blur) are given for 28x28 images and scale with min(H, W) / 28.
 * Out-of-image pixels (shift, rotation) are filled with 0; results are rounded and clipped to 0..255.
 */
import { DataError } from '../../pipeline/errors.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import type { ImageGeometry } from '../../pipeline/augment/image-geometry.ts';

export { imageGeometry } from '../../pipeline/augment/image-geometry.ts';
export type { ImageGeometry } from '../../pipeline/augment/image-geometry.ts';

/** The corruption kinds, in report order. */
export const CORRUPTION_KINDS = ['gaussian-noise', 'shift', 'rotation', 'blur', 'contrast'] as const;

/** One corruption kind. */
export type CorruptionKind = (typeof CORRUPTION_KINDS)[number];

/** Highest severity. */
export const MAX_SEVERITY = 5;

/**
 * Parameter of each kind per severity 1..5 (index 0 = severity 0, the identity):
 * gaussian-noise: noise sd as a fraction of 255 (ImageNet-C's levels); shift: pixels (at 28 px);
 * rotation: degrees, sign drawn per row; blur: gaussian sd in pixels (at 28 px); contrast: factor c
 * in x' = (x - mean) * c + mean (ImageNet-C's levels).
 */
export const SEVERITY_PARAMETERS: Readonly<Record<CorruptionKind, readonly number[]>> = {
  'gaussian-noise': [0, 0.08, 0.12, 0.18, 0.26, 0.38],
  shift: [0, 1, 2, 3, 4, 5],
  rotation: [0, 8, 16, 24, 32, 40],
  blur: [0, 0.5, 0.75, 1, 1.25, 1.5],
  contrast: [1, 0.4, 0.3, 0.2, 0.1, 0.05],
};

/** Mixes integers into one 32-bit seed (murmur3's finaliser over a running hash). */
function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Options of {@link corruptImages}. */
export interface CorruptOptions {
  kind: CorruptionKind;
  /** 0 (identity) .. 5. */
  severity: number;
  /** Master seed. */
  seed: number;
  /** Global row index of the first image (the per-row seed uses it). Default 0. */
  firstRow?: number;
}

/** One image's corruption: writes the corrupted values of `src` into `plane` (unclamped). */
interface CorruptionContext {
  src: Uint8Array;
  plane: Float64Array;
  /** The kind's parameter at the requested severity (SEVERITY_PARAMETERS). */
  param: number;
  /** Image size relative to MNIST's 28 pixels. */
  scale: number;
  rand: () => number;
  H: number;
  W: number;
  C: number;
  size: number;
  /** Index of pixel (y, x) channel c in the image's layout. */
  at: (y: number, x: number, c: number) => number;
}

type Corruption = (ctx: CorruptionContext) => void;

const gaussianNoise: Corruption = ({ src, plane, param, rand, size }) => {
  const sd = param * 255;
  for (let k = 0; k < size; k++) {
    // Box-Muller; 1 - u keeps the log argument in (0, 1].
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    plane[k] = src[k]! + sd * z;
  }
};

const contrast: Corruption = ({ src, plane, param, size }) => {
  let mean = 0;
  for (let k = 0; k < size; k++) mean += src[k]!;
  mean /= size;
  for (let k = 0; k < size; k++) plane[k] = (src[k]! - mean) * param + mean;
};

const shift: Corruption = ({ src, plane, param, scale, rand, H, W, C, at }) => {
  const angle = 2 * Math.PI * rand();
  const dx = Math.round(param * scale * Math.cos(angle));
  const dy = Math.round(param * scale * Math.sin(angle));
  plane.fill(0);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sy = y - dy;
      const sx = x - dx;
      if (sy < 0 || sx < 0 || sy >= H || sx >= W) continue;
      for (let c = 0; c < C; c++) plane[at(y, x, c)] = src[at(sy, sx, c)]!;
    }
  }
};

const rotation: Corruption = ({ src, plane, param, rand, H, W, C, at }) => {
  const theta = ((rand() < 0.5 ? -1 : 1) * param * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const cy = (H - 1) / 2;
  const cx = (W - 1) / 2;
  const px = (y: number, x: number, c: number): number => (y < 0 || x < 0 || y >= H || x >= W ? 0 : src[at(y, x, c)]!);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Inverse mapping: the source point that lands on (y, x), sampled bilinearly.
      const sx = cos * (x - cx) + sin * (y - cy) + cx;
      const sy = -sin * (x - cx) + cos * (y - cy) + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < C; c++) {
        plane[at(y, x, c)] =
          (1 - fy) * ((1 - fx) * px(y0, x0, c) + fx * px(y0, x0 + 1, c)) + fy * ((1 - fx) * px(y0 + 1, x0, c) + fx * px(y0 + 1, x0 + 1, c));
      }
    }
  }
};

const blur: Corruption = ({ src, plane, param, scale, H, W, C, size, at }) => {
  const sd = param * scale;
  const radius = Math.ceil(3 * sd);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sd * sd)));
  const norm = kernel.reduce((a, b) => a + b, 0);
  const tmp = new Float64Array(size);
  // Separable; edges clamp to the nearest pixel.
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) acc += kernel[k + radius]! * src[at(y, Math.min(W - 1, Math.max(0, x + k)), c)]!;
        tmp[at(y, x, c)] = acc / norm;
      }
    }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) acc += kernel[k + radius]! * tmp[at(Math.min(H - 1, Math.max(0, y + k)), x, c)]!;
        plane[at(y, x, c)] = acc / norm;
      }
    }
  }
};

/** The corruption of each kind, one entry each. */
const CORRUPTIONS: Readonly<Record<CorruptionKind, Corruption>> = { 'gaussian-noise': gaussianNoise, shift, rotation, blur, contrast };

/**
 * Corrupts `n = images.length / (H * W * C)` uint8 images; returns new bytes (the input is not
 * changed). Severity 0 returns an exact copy.
 */
export function corruptImages(images: Uint8Array, geometry: ImageGeometry, opts: CorruptOptions): Uint8Array {
  const { height: H, width: W, channels: C } = geometry;
  const size = H * W * C;
  if (images.length % size !== 0) throw new DataError(`corruptImages: ${images.length} values is not a whole number of ${H}x${W}x${C} images`);
  if (!Number.isInteger(opts.severity) || opts.severity < 0 || opts.severity > MAX_SEVERITY) {
    throw new RangeError(`severity must be an integer in 0..${MAX_SEVERITY}, but got ${opts.severity}`);
  }
  const kindIndex = CORRUPTION_KINDS.indexOf(opts.kind);
  if (kindIndex < 0) throw new RangeError(`corruption kind must be one of ${CORRUPTION_KINDS.join(', ')}, but got ${JSON.stringify(opts.kind)}`);
  const out = new Uint8Array(images);
  if (opts.severity === 0) return out;
  const param = SEVERITY_PARAMETERS[opts.kind][opts.severity]!;
  const scale = Math.min(H, W) / 28;
  const at = geometry.layout === 'hwc' ? (y: number, x: number, c: number) => (y * W + x) * C + c : (y: number, x: number, c: number) => (c * H + y) * W + x;
  const n = images.length / size;
  const plane = new Float64Array(size);
  for (let i = 0; i < n; i++) {
    const src = images.subarray(i * size, (i + 1) * size);
    const dst = out.subarray(i * size, (i + 1) * size);
    const rand = mulberry32(mixSeed(opts.seed, kindIndex, opts.severity, (opts.firstRow ?? 0) + i));
    CORRUPTIONS[opts.kind]({ src, plane, param, scale, rand, H, W, C, size, at });
    for (let k = 0; k < size; k++) dst[k] = Math.min(255, Math.max(0, Math.round(plane[k]!)));
  }
  return out;
}
