/** The corruption suite: determinism, identity at severity 0, and what each kind does to simple images. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CORRUPTION_KINDS, corruptImages, imageGeometry } from '../../../../stages/evaluate/corrupt-images.ts';
import type { ImageGeometry } from '../../../../stages/evaluate/corrupt-images.ts';
import { mulberry32 } from '../../../fixtures/tiny-teacher.ts';

const G28: ImageGeometry = { height: 28, width: 28, channels: 1, layout: 'hwc' };

function randomImages(n: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length: n * 784 }, () => Math.floor(256 * rand()));
}

const sum = (a: Uint8Array): number => a.reduce((s, v) => s + v, 0);

void test('same seed, same bytes; another seed, other bytes (for the random kinds); input untouched', () => {
  const images = randomImages(4, 1);
  const before = new Uint8Array(images);
  for (const kind of CORRUPTION_KINDS) {
    for (const severity of [1, 3, 5]) {
      const a = corruptImages(images, G28, { kind, severity, seed: 7 });
      const b = corruptImages(images, G28, { kind, severity, seed: 7 });
      assert.deepEqual(a, b, `${kind} ${severity}`);
      assert.notDeepEqual(a, images, `${kind} ${severity} changes the images`);
      if (kind === 'gaussian-noise' || kind === 'rotation' || kind === 'shift') {
        assert.notDeepEqual(corruptImages(images, G28, { kind, severity, seed: 8 }), a, `${kind} ${severity} depends on the seed`);
      }
    }
  }
  assert.deepEqual(images, before);
});

void test('a row is corrupted the same way whatever batch it is in (per-row seeds)', () => {
  const images = randomImages(6, 2);
  const all = corruptImages(images, G28, { kind: 'gaussian-noise', severity: 2, seed: 3 });
  const tail = corruptImages(images.subarray(4 * 784), G28, { kind: 'gaussian-noise', severity: 2, seed: 3, firstRow: 4 });
  assert.deepEqual(tail, all.subarray(4 * 784));
});

void test('severity 0 is the identity for every kind', () => {
  const images = randomImages(3, 4);
  for (const kind of CORRUPTION_KINDS) assert.deepEqual(corruptImages(images, G28, { kind, severity: 0, seed: 1 }), images, kind);
});

void test('shift moves a single dot by the severity in pixels, rounded along a random direction', () => {
  const img = new Uint8Array(784);
  img[14 * 28 + 14] = 200;
  for (const severity of [1, 2, 3, 4, 5]) {
    const out = corruptImages(img, G28, { kind: 'shift', severity, seed: 11 });
    const at = out.findIndex((v) => v === 200);
    assert.ok(at >= 0, 'the dot survives');
    assert.equal(sum(out), 200, 'nothing else appears');
    const dy = Math.floor(at / 28) - 14;
    const dx = (at % 28) - 14;
    // |(dx, dy)| is severity rounded per axis: within half a pixel per axis of the circle.
    assert.ok(Math.abs(Math.hypot(dx, dy) - severity) <= Math.SQRT1_2 + 1e-9, `severity ${severity}: moved (${dx}, ${dy})`);
  }
});

void test('contrast pulls pixels toward the image mean; blur and contrast keep a constant image', () => {
  // Two pixels 0 and 200 among 782 of 100: mean = (200 + 78200) / 784 = 100. Severity 1 (c = .4):
  // 0 -> (0 - 100) * .4 + 100 = 60; 200 -> 140; 100 stays.
  const img = new Uint8Array(784).fill(100);
  img[0] = 0;
  img[1] = 200;
  const out = corruptImages(img, G28, { kind: 'contrast', severity: 1, seed: 1 });
  assert.deepEqual([out[0], out[1], out[2]], [60, 140, 100]);
  const flat = new Uint8Array(784).fill(77);
  assert.deepEqual(corruptImages(flat, G28, { kind: 'blur', severity: 5, seed: 1 }), flat);
  assert.deepEqual(corruptImages(flat, G28, { kind: 'contrast', severity: 5, seed: 1 }), flat);
});

void test('gaussian noise on mid-grey has the documented spread; blur spreads a dot, keeping its mass', () => {
  const grey = new Uint8Array(784 * 50).fill(128);
  const noisy = corruptImages(grey, G28, { kind: 'gaussian-noise', severity: 1, seed: 5 });
  const mean = sum(noisy) / noisy.length;
  const sd = Math.sqrt(noisy.reduce((s, v) => s + (v - mean) ** 2, 0) / noisy.length);
  // sd = 0.08 * 255 = 20.4 (clipping is negligible 6 sd away from 0 and 255).
  assert.ok(Math.abs(mean - 128) < 0.5, `mean ${mean}`);
  assert.ok(Math.abs(sd - 20.4) < 0.5, `sd ${sd}`);
  const dot = new Uint8Array(784);
  dot[14 * 28 + 14] = 255;
  const blurred = corruptImages(dot, G28, { kind: 'blur', severity: 5, seed: 1 });
  assert.ok(blurred[14 * 28 + 14]! < 100, 'the peak spreads');
  assert.ok(Math.abs(sum(blurred) - 255) <= 12, `mass ${sum(blurred)} (rounding only)`);
});

void test('rotation keeps the centre pixel and roughly the mass of a centred blob', () => {
  const img = new Uint8Array(784);
  for (let y = 10; y < 18; y++) for (let x = 12; x < 16; x++) img[y * 28 + x] = 255;
  for (const severity of [1, 5]) {
    const out = corruptImages(img, G28, { kind: 'rotation', severity, seed: 2 });
    assert.equal(out[14 * 28 + 14], 255);
    assert.notDeepEqual(out, img);
    assert.ok(Math.abs(sum(out) - sum(img)) / sum(img) < 0.1, `mass ${sum(out)} vs ${sum(img)}`);
  }
});

void test('image geometry from manifest shapes; BAD CALL on shapes that are not images', () => {
  assert.deepEqual(imageGeometry('pixels', [28, 28]), G28);
  assert.deepEqual(imageGeometry('img', [32, 32, 3]), { height: 32, width: 32, channels: 3, layout: 'hwc' });
  assert.deepEqual(imageGeometry('img', [3, 32, 32]), { height: 32, width: 32, channels: 3, layout: 'chw' });
  assert.throws(() => imageGeometry('x', [784]), { name: 'DataError', message: /feature "x" has shape \[784\].*--shape x=28x28/ });
  assert.throws(() => imageGeometry('x', undefined), { name: 'DataError', message: /shape null/ });
  assert.throws(() => corruptImages(new Uint8Array(10), G28, { kind: 'blur', severity: 1, seed: 1 }), { name: 'DataError' });
  assert.throws(() => corruptImages(new Uint8Array(784), G28, { kind: 'blur', severity: 6, seed: 1 }), { name: 'RangeError', message: /0\.\.5/ });
});
