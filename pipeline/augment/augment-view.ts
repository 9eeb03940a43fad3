/**
 * THE augmentation of a stored view: the single code path by which the teacher-logits stage builds
 * the teacher's input for a (row, view) and the student stage rebuilds it from the stored parameters.
 * "Consistent teaching" (Beyer et al. 2022) holds because both call this function with the same
 * source values and the same stored parameters.
 */
import { DataError } from '../errors.ts';
import { augmentImage } from './augment-image.ts';
import type { ImageValues } from './augment-image.ts';
import { addGaussianNoise } from './augment-vector.ts';
import type { VectorValues } from './augment-vector.ts';
import type { ViewParams, ViewPolicy } from './view-policy.ts';

/** Typed arrays a view can be built from. */
export type ViewValues = ImageValues | VectorValues | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/**
 * Writes view `i % K` of its row (entry i of `params`) of the source row `src` into `dst` (same
 * length and type): view 0 is an exact copy; an image view is shifted/rotated/zoomed
 * (augment-image.ts); a noise view gets Gaussian noise (augment-vector.ts).
 */
export function augmentView(policy: ViewPolicy, params: ViewParams, i: number, src: ViewValues, dst: ViewValues): void {
  if (i % policy.count === 0) {
    dst.set(src);
    return;
  }
  const a = policy.augment;
  if (a.kind === 'image' && params.kind === 'image') {
    if (!(src instanceof Uint8Array || src instanceof Float32Array || src instanceof Float64Array)) throw unsupported(policy, src);
    augmentImage(src, dst as ImageValues, a.geometry, { dx: params.dx[i]!, dy: params.dy[i]!, angle: params.angle[i]!, scale: params.scale[i]! });
    return;
  }
  if (a.kind === 'noise' && params.kind === 'noise') {
    if (!(src instanceof Float32Array || src instanceof Float64Array)) throw unsupported(policy, src);
    addGaussianNoise(src, dst as VectorValues, a.sd, params.noiseKey[i]!);
    return;
  }
  throw new DataError(`view parameters of kind "${params.kind}" do not fit the "${a.kind}" policy of column "${policy.column}"`);
}

function unsupported(policy: ViewPolicy, src: ViewValues): DataError {
  const allowed = policy.augment.kind === 'image' ? 'uint8 or float pixels' : 'float values';
  return new DataError(`column "${policy.column}": ${policy.augment.kind} views need ${allowed}, but the values are ${src.constructor.name}`);
}
