/**
 * The robustness suite of numeric vector features (tabular data): seeded, deterministic transforms in
 * units of each feature's train statistics, so a severity means the same on every dataset whatever
 * each feature's scale. Severities 1..5 (0 is the identity):
 * - feature-noise: x_j + N(0, (s * std_j)^2), s in SEVERITY (standard deviations);
 * - feature-dropout-zero / feature-dropout-mean: each value independently with probability p replaced
 *   by 0 / by the feature's train mean (a missing value, imputed two common ways);
 * - mean-shift: every row's x_j + s * std_j (a drift of every feature's mean by s standard deviations).
 * Randomness comes from a PRNG seeded by (seed, kind, severity, row), so a row is corrupted the same
 * way in any subset; the two dropouts drop the same values (they differ only in what fills the hole). Integer columns are rounded and clipped to their type's range.
 */
import { DataError } from '../../pipeline/errors.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import { deriveSeed, mulberry32 } from '../../pipeline/seeded-random.ts';

/** The vector corruption kinds, in report order. */
export const VECTOR_CORRUPTION_KINDS = ['feature-noise', 'feature-dropout-zero', 'feature-dropout-mean', 'mean-shift'] as const;

/** One vector corruption kind. */
export type VectorCorruptionKind = (typeof VECTOR_CORRUPTION_KINDS)[number];

/** Parameter per severity 0..5: noise and shift in train standard deviations; dropout as the share of values dropped. */
export const VECTOR_SEVERITY_PARAMETERS: Readonly<Record<VectorCorruptionKind, readonly number[]>> = {
  'feature-noise': [0, 0.1, 0.25, 0.5, 0.75, 1],
  'feature-dropout-zero': [0, 0.05, 0.1, 0.2, 0.3, 0.5],
  'feature-dropout-mean': [0, 0.05, 0.1, 0.2, 0.3, 0.5],
  'mean-shift': [0, 0.1, 0.25, 0.5, 0.75, 1],
};

/** Per-feature mean and standard deviation (population, float64) of the train rows. */
export interface FeatureStats {
  width: number;
  mean: Float64Array;
  std: Float64Array;
}

type PlainArray = Exclude<NumericArray, BigInt64Array | BigUint64Array>;

function plain(values: NumericArray, what: string): PlainArray {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) throw new DataError(`${what}: 64-bit integer features have no vector corruption suite`);
  return values;
}

/** Mean and standard deviation of each of `width` features over `rows` rows (two passes, float64). */
export function featureStats(values: NumericArray, rows: number, width: number): FeatureStats {
  const v = plain(values, 'feature statistics');
  const mean = new Float64Array(width);
  const std = new Float64Array(width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) mean[j]! += v[r * width + j]!;
  for (let j = 0; j < width; j++) mean[j]! /= Math.max(rows, 1);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < width; j++) {
      const d = v[r * width + j]! - mean[j]!;
      std[j]! += d * d;
    }
  }
  for (let j = 0; j < width; j++) std[j] = Math.sqrt(std[j]! / Math.max(rows, 1));
  return { width, mean, std };
}

/** Integer type ranges (values are rounded, then clipped). */
const RANGES = new Map<unknown, [number, number]>([
  [Uint8Array, [0, 255]],
  [Int8Array, [-128, 127]],
  [Uint16Array, [0, 65535]],
  [Int16Array, [-32768, 32767]],
  [Uint32Array, [0, 4294967295]],
  [Int32Array, [-2147483648, 2147483647]],
]);

/** What to apply: kind, severity 0..5, seed. */
export interface VectorCorruption {
  kind: VectorCorruptionKind;
  severity: number;
  seed: number;
}

/** A standard normal draw (Box-Muller) from a uniform generator. */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Corrupts `rows` rows of `width` features (row-major; the array's type is kept). `firstRow` is the
 * global index of the first row (it keys each row's randomness).
 */
export function corruptVectors(clean: NumericArray, rows: number, stats: FeatureStats, c: VectorCorruption, firstRow = 0): NumericArray {
  const src = plain(clean, `corruption ${c.kind}`);
  const levels = VECTOR_SEVERITY_PARAMETERS[c.kind];
  if (!Number.isInteger(c.severity) || c.severity < 0 || c.severity >= levels.length) throw new RangeError(`severity must be an integer in 0..${levels.length - 1}, got ${c.severity}`);
  const level = levels[c.severity]!;
  const w = stats.width;
  const Ctor = src.constructor as new (n: number) => PlainArray;
  const out = new Ctor(rows * w);
  const range = RANGES.get(src.constructor);
  // Both dropouts draw the same values to drop, so zero- and mean-imputation are compared on the same holes.
  const key = c.kind === 'feature-dropout-mean' ? 'feature-dropout-zero' : c.kind;
  for (let r = 0; r < rows; r++) {
    const rand = mulberry32(deriveSeed(c.seed, 'vector-corruption', key, c.severity, firstRow + r));
    for (let j = 0; j < w; j++) {
      const i = r * w + j;
      let x = src[i]!;
      if (c.kind === 'feature-noise') x += level * stats.std[j]! * gaussian(rand);
      else if (c.kind === 'mean-shift') x += level * stats.std[j]!;
      else if (rand() < level) x = c.kind === 'feature-dropout-zero' ? 0 : stats.mean[j]!;
      out[i] = range ? Math.min(range[1], Math.max(range[0], Math.round(x))) : x;
    }
  }
  return out;
}
