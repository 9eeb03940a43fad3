/**
 * The geometry of an image feature column (height, width, channels, layout), from the shape its
 * dataset manifest records. Shared by the image corruptions of `distill evaluate` and the image
 * augmentations of stored views (augment-image.ts).
 */
import { DataError } from '../errors.ts';

/** Image geometry of a feature column: height, width, channels and where the channels are. */
export interface ImageGeometry {
  height: number;
  width: number;
  channels: number;
  /** hwc: channels last (or a single channel); chw: channels first. */
  layout: 'hwc' | 'chw';
}

/**
 * Geometry of a feature from its manifest shape: [H, W] (one channel), [H, W, C] with C <= 4, or
 * [C, H, W] with C <= 4 < W. Anything else is a DataError naming the column.
 */
export function imageGeometry(column: string, shape: readonly number[] | undefined): ImageGeometry {
  if (shape && shape.length === 2) return { height: shape[0]!, width: shape[1]!, channels: 1, layout: 'hwc' };
  if (shape && shape.length === 3 && shape[2]! <= 4) return { height: shape[0]!, width: shape[1]!, channels: shape[2]!, layout: 'hwc' };
  if (shape && shape.length === 3 && shape[0]! <= 4) return { height: shape[1]!, width: shape[2]!, channels: shape[0]!, layout: 'chw' };
  throw new DataError(
    `feature "${column}" has shape ${JSON.stringify(shape ?? null)}; image corruptions and augmentations need an image shape [H, W], [H, W, C] or [C, H, W] with C <= 4 (set it with \`distill data index --shape ${column}=28x28\`)`,
  );
}

/** The index of pixel (y, x), channel c, in an image of this geometry. */
export function pixelIndex(geometry: ImageGeometry): (y: number, x: number, c: number) => number {
  const { height: H, width: W, channels: C } = geometry;
  return geometry.layout === 'hwc' ? (y, x, c) => (y * W + x) * C + c : (y, x, c) => (c * H + y) * W + x;
}
