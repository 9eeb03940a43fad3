import assert from 'node:assert/strict';
import { test } from 'node:test';
import { float16ToFloat32, float32ToFloat16, fromFloat16Bits, toFloat16Bits } from '../../../../pipeline/store/float16.ts';

test('toFloat16Bits: IEEE 754 binary16 patterns of known values', () => {
  // Reference patterns: numpy.array([...], dtype=numpy.float16).view(numpy.uint16)
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [1 / 3, 0x3555],
    [65504, 0x7bff], [65519.99, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -26, 0x0000], [3 * 2 ** -25, 0x0002],
    // ties to even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 -> 1; 1 + 3*2^-11 -> 1 + 2^-9
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
  ];
  for (const [v, bits] of cases) assert.equal(toFloat16Bits(v), bits, `toFloat16Bits(${v})`);
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
});

test('every finite half converts to float32 and back unchanged', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const f = float16ToFloat32(all);
  const back = float32ToFloat16(f);
  for (let h = 0; h < 65536; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads
    assert.equal(back[h], h, `half 0x${h.toString(16)} -> ${f[h]} -> 0x${back[h]!.toString(16)}`);
  }
  assert.equal(fromFloat16Bits(0x3555), 0.333251953125);
});

test('float32 -> half error is at most half an ulp (relative 2^-11) over random logits', () => {
  let s = 7;
  for (let i = 0; i < 10000; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const v = Math.fround(((s / 2 ** 32) * 2 - 1) * 60);
    const r = fromFloat16Bits(toFloat16Bits(v));
    assert.ok(Math.abs(r - v) <= Math.max(Math.abs(v) * 2 ** -11, 2 ** -25), `${v} -> ${r}`);
  }
});
