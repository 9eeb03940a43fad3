import assert from 'node:assert/strict';
import { test } from 'node:test';
import { positionKey, samplePosition, splitKey, uniformAt } from '../../../../stages/teacher-logits/sample-targets.ts';

const Z = Float32Array.from([2, 0.5, -1, 1.5, -4, 0]);
const softmax = (z: Float32Array, t: number): number[] => {
  const e = Array.from(z, (v) => Math.exp(v / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

function draw(seed: number, row: number, n: number, t: number, slots = 6): { index: Int32Array; count: Uint16Array } {
  const out = { index: new Int32Array(slots), count: new Uint16Array(slots), at: 0, slots };
  samplePosition(Z, 0, Z.length, t, n, positionKey(seed, splitKey('train'), row, 3), out, { u: new Float64Array(n), p: new Float64Array(Z.length) });
  return out;
}

test('samplePosition: N draws as distinct classes, slots by descending count then lower index, empty slots -1/0', () => {
  const { index, count } = draw(1, 0, 12, 1);
  assert.equal(count.reduce((a, b) => a + b, 0), 12);
  const used = [...count].filter((c) => c > 0).length;
  assert.equal(new Set([...index].slice(0, used)).size, used);
  for (let s = 1; s < used; s++) assert.ok(count[s - 1]! > count[s]! || (count[s - 1] === count[s] && index[s - 1]! < index[s]!), `slot ${s} out of order`);
  for (let s = used; s < 6; s++) assert.deepEqual([index[s], count[s]], [-1, 0]);
});

test('the generator is a pure function of (seed, split, row, position, draw): same key same draws, any key change other draws', () => {
  assert.deepEqual(draw(5, 17, 50, 1), draw(5, 17, 50, 1));
  const u = (seed: number, split: string, row: number, pos: number) => Array.from({ length: 8 }, (_, i) => uniformAt(positionKey(seed, splitKey(split), row, pos), i));
  const base = u(1, 'train', 2 ** 33 + 5, 7);
  for (const other of [u(2, 'train', 2 ** 33 + 5, 7), u(1, 'test', 2 ** 33 + 5, 7), u(1, 'train', 5, 7), u(1, 'train', 2 ** 33 + 5, 8)]) assert.notDeepEqual(other, base);
  for (const x of base) assert.ok(x >= 0 && x < 1);
});

test('unbiased: the mean of count/N over 3000 independently seeded captures is within 5 binomial sigmas of softmax(z/T) for every class', () => {
  for (const t of [1, 2.5]) {
    const p = softmax(Z, t);
    const n = 12;
    const runs = 3000;
    const sum = new Float64Array(Z.length);
    for (let seed = 0; seed < runs; seed++) {
      const { index, count } = draw(seed, 0, n, t);
      for (let s = 0; s < 6; s++) if (count[s]! > 0) sum[index[s]!]! += count[s]! / n;
    }
    for (let j = 0; j < Z.length; j++) {
      const mean = sum[j]! / runs;
      const sigma = Math.sqrt((p[j]! * (1 - p[j]!)) / (n * runs));
      assert.ok(Math.abs(mean - p[j]!) <= 5 * sigma, `T=${t} class ${j}: mean p_hat ${mean.toFixed(5)}, p ${p[j]!.toFixed(5)}, 5 sigma ${(5 * sigma).toFixed(5)}`);
    }
  }
});

test('the bound can fail: captures at the wrong temperature are outside it', () => {
  const p = softmax(Z, 2.5);
  const runs = 3000;
  let mean0 = 0;
  for (let seed = 0; seed < runs; seed++) {
    const { index, count } = draw(seed, 0, 12, 1);
    for (let s = 0; s < 6; s++) if (index[s] === 0) mean0 += count[s]! / 12 / runs;
  }
  const sigma = Math.sqrt((p[0]! * (1 - p[0]!)) / (12 * runs));
  assert.ok(Math.abs(mean0 - p[0]!) > 5 * sigma);
});

test('a class of zero probability is never drawn, even with the rounding fallback', () => {
  const z = Float32Array.from([0, -1e4, 0, -1e4]);
  const out = { index: new Int32Array(4), count: new Uint16Array(4), at: 0, slots: 4 };
  for (let seed = 0; seed < 200; seed++) {
    samplePosition(z, 0, 4, 1, 30, positionKey(seed, 0, 0, 0), out, { u: new Float64Array(30), p: new Float64Array(4) });
    for (let s = 0; s < 4; s++) if (out.count[s]! > 0) assert.ok(out.index[s] === 0 || out.index[s] === 2);
  }
});
