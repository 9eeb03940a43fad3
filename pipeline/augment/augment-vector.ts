/**
 * The numeric-vector augmentation of a stored view: independent Gaussian noise on every value, drawn
 * from a generator seeded by the view's key. Called by both stages through augment-view.ts.
 */
import { mulberry32 } from '../seeded-random.ts';

/** Vector values the noise applies to (float columns; integer columns are refused by the stage). */
export type VectorValues = Float32Array | Float64Array;

/**
 * dst[j] = src[j] + sd * z_j, z_j standard normal (Box-Muller over mulberry32(key), two uniforms per
 * value, 1 - u keeping the log argument in (0, 1]); stored in dst's precision.
 */
export function addGaussianNoise(src: VectorValues, dst: VectorValues, sd: number, key: number): void {
  const rand = mulberry32(key);
  for (let j = 0; j < src.length; j++) {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    dst[j] = src[j]! + sd * z;
  }
}
