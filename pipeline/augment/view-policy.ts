/**
 * Augmented views of a store (FKD, Shen & Xing 2022; "consistent teaching", Beyer et al. 2022): each
 * dataset row is captured K times, view 0 unaugmented and views 1..K-1 augmented by a declared,
 * seeded policy. What a store records of its policy ({@link ViewPolicy}, in `manifest.encoding.views`)
 * and the parameters of each (row, view) ({@link ViewParams}), which are a pure function of
 * (policy seed, split, row, view) and are also stored in the shards, so the student stage rebuilds
 * exactly the input the teacher saw (augment-view.ts) without re-deriving anything.
 */
import { fmix32, fnv1a32, mulberry32 } from '../seeded-random.ts';
import type { ImageGeometry } from './image-geometry.ts';

/** Image views: an integer shift, a rotation and a scale about the image centre (bilinear, 0 outside). */
export interface ImageAugment {
  kind: 'image';
  /** Largest |dx| and |dy| in pixels; each is drawn uniformly from the integers -shift..shift. */
  shift: number;
  /** Largest |angle| in degrees; drawn uniformly from [-rotation, rotation]. 0 = no rotation. */
  rotation: number;
  /** Largest relative zoom s; the factor is drawn uniformly from [1 - s, 1 + s]. 0 = no scaling. */
  scale: number;
  /** The feature's image geometry (from the dataset manifest's shape), recorded so both stages use the same. */
  geometry: ImageGeometry;
}

/** Numeric-vector views: independent Gaussian noise of standard deviation `sd` (in the column's units) on every value. */
export interface NoiseAugment {
  kind: 'noise';
  sd: number;
}

/** The view policy of a store (`manifest.encoding.views`). */
export interface ViewPolicy {
  /** Views K per row, view 0 included (>= 2). */
  count: number;
  /** Seed of the parameters of every (split, row, view). */
  seed: number;
  /** The dataset column the views augment (the teacher's only input; the student's feature). */
  column: string;
  augment: ImageAugment | NoiseAugment;
}

/**
 * The parameters of a run of (row, view) pairs, row-major (row, view): entry i is row
 * rowStart + floor(i / K), view i % K. View 0 is always the identity.
 */
export type ViewParams =
  | {
      kind: 'image';
      /** Shift in pixels along the width (positive: to the right). */
      dx: Int32Array;
      /** Shift in pixels along the height (positive: down). */
      dy: Int32Array;
      /** Rotation in degrees (float32, as stored). */
      angle: Float32Array;
      /** Zoom factor (float32, as stored; 1 = none). */
      scale: Float32Array;
    }
  | {
      kind: 'noise';
      /** Key of the view's noise generator (0 for view 0, which has no noise). */
      noiseKey: Uint32Array;
    };

/** The stored parameter columns of a policy, in shard column order (after `row` and `view`). */
export function viewParamColumns(policy: ViewPolicy): readonly string[] {
  return policy.augment.kind === 'image' ? ['dx', 'dy', 'angle', 'scale'] : ['noise_key'];
}

/** The key of (seed, split, row, view): murmur3's finaliser chained over them. */
export function viewKey(seed: number, split: string, row: number, view: number): number {
  let h = fmix32((seed ^ 0x7f4a7c15) >>> 0);
  h = fmix32(h ^ fnv1a32(split));
  h = fmix32(h ^ (row >>> 0));
  h = fmix32(h ^ Math.floor(row / 2 ** 32));
  return fmix32(h ^ view);
}

/** Empty parameter arrays for n (row, view) pairs. */
export function emptyViewParams(policy: ViewPolicy, n: number): ViewParams {
  return policy.augment.kind === 'image'
    ? { kind: 'image', dx: new Int32Array(n), dy: new Int32Array(n), angle: new Float32Array(n), scale: new Float32Array(n).fill(1) }
    : { kind: 'noise', noiseKey: new Uint32Array(n) };
}

/**
 * The parameters of rows [rowStart, rowStart + rows) of `split`, K views each: view 0 the identity,
 * view v > 0 drawn from mulberry32(viewKey(seed, split, row, v)) in the order dx, dy, angle, scale
 * (image) or taken as the noise key (noise). Depends on nothing else (not the batch, shard or worker).
 */
export function deriveViewParams(policy: ViewPolicy, split: string, rowStart: number, rows: number): ViewParams {
  const k = policy.count;
  const out = emptyViewParams(policy, rows * k);
  const a = policy.augment;
  for (let r = 0; r < rows; r++) {
    for (let v = 1; v < k; v++) {
      const i = r * k + v;
      const key = viewKey(policy.seed, split, rowStart + r, v);
      if (out.kind === 'noise') {
        out.noiseKey[i] = key;
        continue;
      }
      const img = a as ImageAugment;
      const rand = mulberry32(key);
      out.dx[i] = Math.floor(rand() * (2 * img.shift + 1)) - img.shift;
      out.dy[i] = Math.floor(rand() * (2 * img.shift + 1)) - img.shift;
      out.angle[i] = (2 * rand() - 1) * img.rotation;
      out.scale[i] = 1 + (2 * rand() - 1) * img.scale;
    }
  }
  return out;
}

/** Entries [a, b) of the parameters (views, not rows), sharing memory. */
export function sliceViewParams(p: ViewParams, a: number, b: number): ViewParams {
  return p.kind === 'image'
    ? { kind: 'image', dx: p.dx.subarray(a, b), dy: p.dy.subarray(a, b), angle: p.angle.subarray(a, b), scale: p.scale.subarray(a, b) }
    : { kind: 'noise', noiseKey: p.noiseKey.subarray(a, b) };
}

/** The K views of each row `offsets[j]` (rows relative to the arrays' first row), copied. */
export function gatherViewParams(p: ViewParams, offsets: Int32Array, k: number): ViewParams {
  const pick = <T extends Int32Array | Float32Array | Uint32Array>(src: T): T => {
    const out = new (src.constructor as new (n: number) => T)(offsets.length * k);
    offsets.forEach((r, j) => out.set(src.subarray(r * k, (r + 1) * k), j * k));
    return out;
  };
  return p.kind === 'image' ? { kind: 'image', dx: pick(p.dx), dy: pick(p.dy), angle: pick(p.angle), scale: pick(p.scale) } : { kind: 'noise', noiseKey: pick(p.noiseKey) };
}

/**
 * The view a training epoch shows of a row: uniform over 0..K-1, a pure function of (seed, epoch,
 * row), so a resumed run draws what an uninterrupted run draws, whatever the batch or worker.
 */
export function epochView(seed: number, epoch: number, row: number, k: number): number {
  let h = fmix32((seed ^ 0x27d4eb2f) >>> 0);
  h = fmix32(h ^ (epoch >>> 0));
  h = fmix32(h ^ (row >>> 0));
  return Math.floor((h / 2 ** 32) * k);
}
