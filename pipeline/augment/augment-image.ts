/**
 * The image augmentation of a stored view: an integer shift, a rotation and a zoom about the image
 * centre, applied to one image. The teacher-logits stage and the student stage both call it (through
 * augment-view.ts), so the student's input for a (row, view) is the teacher's, bit for bit.
 */
import type { ImageGeometry } from './image-geometry.ts';
import { pixelIndex } from './image-geometry.ts';

/** One view's transform: shift (pixels), rotation (degrees), zoom factor. */
export interface ImageTransform {
  dx: number;
  dy: number;
  angle: number;
  scale: number;
}

/** Image values the augmentation handles: 8-bit pixels (rounded and clipped to 0..255) or floats (kept as computed). */
export type ImageValues = Uint8Array | Float32Array | Float64Array;

function store(dst: ImageValues, k: number, value: number): void {
  dst[k] = dst instanceof Uint8Array ? Math.min(255, Math.max(0, Math.round(value))) : value;
}

/**
 * Writes the transformed image `src` into `dst` (same length and type). The output pixel q takes the
 * source point p = c + R(-angle) (q - c - d) / scale (c the centre ((W-1)/2, (H-1)/2), d = (dx, dy)),
 * sampled bilinearly; points outside the image read 0. The identity copies; a pure integer shift
 * (angle 0, scale 1) moves pixels exactly, without interpolation.
 */
export function augmentImage(src: ImageValues, dst: ImageValues, geometry: ImageGeometry, t: ImageTransform): void {
  const { height: H, width: W, channels: C } = geometry;
  const at = pixelIndex(geometry);
  if (t.angle === 0 && t.scale === 1) {
    if (t.dx === 0 && t.dy === 0) {
      dst.set(src);
      return;
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sy = y - t.dy;
        const sx = x - t.dx;
        const inside = sy >= 0 && sx >= 0 && sy < H && sx < W;
        for (let c = 0; c < C; c++) dst[at(y, x, c)] = inside ? src[at(sy, sx, c)]! : 0;
      }
    }
    return;
  }
  const theta = (t.angle * Math.PI) / 180;
  const cos = Math.cos(theta) / t.scale;
  const sin = Math.sin(theta) / t.scale;
  const cy = (H - 1) / 2;
  const cx = (W - 1) / 2;
  const px = (y: number, x: number, c: number): number => (y < 0 || x < 0 || y >= H || x >= W ? 0 : src[at(y, x, c)]!);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = x - cx - t.dx;
      const v = y - cy - t.dy;
      const sx = cos * u + sin * v + cx;
      const sy = -sin * u + cos * v + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < C; c++) {
        const value = (1 - fy) * ((1 - fx) * px(y0, x0, c) + fx * px(y0, x0 + 1, c)) + fy * ((1 - fx) * px(y0 + 1, x0, c) + fx * px(y0 + 1, x0 + 1, c));
        store(dst, at(y, x, c), value);
      }
    }
  }
}
