import assert from 'node:assert/strict';
import { test } from 'node:test';
import { augmentImage } from '../../../../pipeline/augment/augment-image.ts';
import type { ImageGeometry } from '../../../../pipeline/augment/image-geometry.ts';
import { augmentView } from '../../../../pipeline/augment/augment-view.ts';
import { addGaussianNoise } from '../../../../pipeline/augment/augment-vector.ts';
import type { ViewPolicy } from '../../../../pipeline/augment/view-policy.ts';
import { mulberry32 } from '../../../../pipeline/seeded-random.ts';

const G5: ImageGeometry = { height: 5, width: 5, channels: 1, layout: 'hwc' };
/** A 5x5 image whose pixel (y, x) is 10y + x + 1 (so 0 means "outside"). */
const img5 = Uint8Array.from({ length: 25 }, (_, i) => 10 * Math.floor(i / 5) + (i % 5) + 1);
const px = (a: ArrayLike<number>, y: number, x: number): number => a[y * 5 + x]!;

test('the identity copies, and a pure integer shift moves pixels exactly, filling 0 where nothing lands', () => {
  const out = new Uint8Array(25);
  augmentImage(img5, out, G5, { dx: 0, dy: 0, angle: 0, scale: 1 });
  assert.deepEqual(out, img5);
  augmentImage(img5, out, G5, { dx: 2, dy: -1, angle: 0, scale: 1 });
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      const sy = y + 1;
      const sx = x - 2;
      assert.equal(px(out, y, x), sy < 5 && sx >= 0 ? px(img5, sy, sx) : 0, `(${y}, ${x})`);
    }
  }
});

test('rotation by 90 degrees about the centre is a transpose-and-flip (bilinear at integer points is exact); rotation then its inverse of a float image is near the original inside', () => {
  const out = new Uint8Array(25);
  augmentImage(img5, out, G5, { dx: 0, dy: 0, angle: 90, scale: 1 });
  // Output q takes the source at c + R(-90)(q - c): (y, x) <- (y', x') = (4 - x, y) for a 5x5 image.
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) assert.equal(px(out, y, x), px(img5, 4 - x, y), `(${y}, ${x})`);
  // Zoom 2: the centre pixel stays; the corner of the output reads between centre and corner.
  augmentImage(img5, out, G5, { dx: 0, dy: 0, angle: 0, scale: 2 });
  assert.equal(px(out, 2, 2), px(img5, 2, 2));
  assert.equal(px(out, 0, 0), px(img5, 1, 1));
});

test('channels first and channels last give the same image per channel', () => {
  const h = 4;
  const w = 6;
  const rand = mulberry32(7);
  const hwc = Uint8Array.from({ length: h * w * 3 }, () => Math.floor(rand() * 256));
  const chw = new Uint8Array(hwc.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) chw[(c * h + y) * w + x] = hwc[(y * w + x) * 3 + c]!;
  const t = { dx: 1, dy: -1, angle: 17, scale: 1.1 };
  const a = new Uint8Array(hwc.length);
  const b = new Uint8Array(hwc.length);
  augmentImage(hwc, a, { height: h, width: w, channels: 3, layout: 'hwc' }, t);
  augmentImage(chw, b, { height: h, width: w, channels: 3, layout: 'chw' }, t);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) assert.equal(a[(y * w + x) * 3 + c], b[(c * h + y) * w + x]);
});

test('uint8 results are rounded and clipped to 0..255; float images keep the interpolated value', () => {
  const src = Float32Array.from([0, 255, 0, 255]);
  const g: ImageGeometry = { height: 2, width: 2, channels: 1, layout: 'hwc' };
  const f = new Float32Array(4);
  augmentImage(src, f, g, { dx: 0, dy: 0, angle: 0, scale: 0.5 });
  // Zoom 0.5 about (0.5, 0.5): pixel (0, 0) reads source (-0.5, -0.5): a quarter of pixel (0, 0) only.
  assert.equal(f[0], Math.fround(0.25 * 0));
  assert.equal(f[1], Math.fround(0.25 * 255));
  const u = new Uint8Array(4);
  augmentImage(Uint8Array.from(src), u, g, { dx: 0, dy: 0, angle: 0, scale: 0.5 });
  assert.deepEqual([...u], [0, 64, 0, 64]);
});

test('augmentView: view 0 is an exact copy whatever its parameters say; noise views are seeded by their key', () => {
  const policy: ViewPolicy = { count: 2, seed: 0, column: 'x', augment: { kind: 'noise', sd: 0.5 } };
  const src = Float32Array.from({ length: 1000 }, (_, i) => i / 10);
  const out = new Float32Array(1000);
  augmentView(policy, { kind: 'noise', noiseKey: Uint32Array.from([99, 5]) }, 0, src, out);
  assert.deepEqual(out, src);
  augmentView(policy, { kind: 'noise', noiseKey: Uint32Array.from([0, 5]) }, 1, src, out);
  const again = new Float32Array(1000);
  addGaussianNoise(src, again, 0.5, 5);
  assert.deepEqual(out, again);
  const d = Array.from(out, (v, i) => v - src[i]!);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 0.5) < 0.05, `mean ${mean}, sd ${sd}`);
  assert.throws(() => augmentView(policy, { kind: 'noise', noiseKey: Uint32Array.from([0, 5]) }, 1, new Uint8Array(4), new Uint8Array(4)), {
    name: 'DataError',
    message: /column "x": noise views need float values, but the values are Uint8Array/,
  });
});
