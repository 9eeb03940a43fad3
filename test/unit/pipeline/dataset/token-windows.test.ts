import assert from 'node:assert/strict';
import { test } from 'node:test';
import { causalTargets, tokenWindows } from '../../../../pipeline/dataset/token-windows.ts';

/** Windows written out the slow way: every start k*stride < n, cut at min(start+L, n), until one reaches n. */
function reference(n: number, L: number, stride: number, min: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; ; k++) {
    const s = k * stride;
    if (s >= n) break;
    const e = s + L < n ? s + L : n;
    if (e - s >= min) out.push([s, e]);
    if (e === n) break;
  }
  return out;
}

test('stride = L: non-overlapping windows, last one partial (lm-brown rule)', () => {
  assert.deepEqual(tokenWindows(300, { context: 128, stride: 128, minTokens: 2 }), [
    { start: 0, end: 128 },
    { start: 128, end: 256 },
    { start: 256, end: 300 },
  ]);
  // exactly 2 * 128 tokens: no padded window
  assert.deepEqual(tokenWindows(256, { context: 128, stride: 128, minTokens: 2 }).map((w) => w.end - w.start), [128, 128]);
  // a one-token tail has no next-token target: dropped with minTokens 2, kept with 1
  assert.equal(tokenWindows(257, { context: 128, stride: 128, minTokens: 2 }).length, 2);
  assert.equal(tokenWindows(257, { context: 128, stride: 128 }).length, 3);
  assert.deepEqual(tokenWindows(1, { context: 4, stride: 4, minTokens: 2 }), []);
  assert.deepEqual(tokenWindows(0, { context: 4, stride: 4 }), []);
});

test('stride < L: overlapping windows stop at the first that reaches the end', () => {
  assert.deepEqual(tokenWindows(10, { context: 4, stride: 2 }), [
    { start: 0, end: 4 },
    { start: 2, end: 6 },
    { start: 4, end: 8 },
    { start: 6, end: 10 },
  ]);
  assert.deepEqual(tokenWindows(11, { context: 4, stride: 3 }), [
    { start: 0, end: 4 },
    { start: 3, end: 7 },
    { start: 6, end: 10 },
    { start: 9, end: 11 },
  ]);
});

test('windows equal the written-out rule over many sizes, and cover every token', () => {
  for (const L of [1, 2, 3, 5, 8])
    for (let stride = 1; stride <= L; stride++)
      for (const min of [1, 2])
        for (let n = 0; n < 30; n++) {
          if (min > L) continue;
          const got = tokenWindows(n, { context: L, stride, minTokens: min }).map((w) => [w.start, w.end]);
          assert.deepEqual(got, reference(n, L, stride, min), `n=${n} L=${L} stride=${stride} min=${min}`);
          if (min === 1 && n > 0) {
            const covered = new Set<number>();
            for (const [s, e] of got) for (let t = s; t < e; t++) covered.add(t);
            assert.equal(covered.size, n, `every token is in a window (n=${n} L=${L} stride=${stride})`);
          }
        }
});

test('BAD CALL: stride 0 or above the context, context 0', () => {
  assert.throws(() => tokenWindows(5, { context: 4, stride: 0 }), { name: 'ConfigError', message: /stride/ });
  assert.throws(() => tokenWindows(5, { context: 4, stride: 5 }), { name: 'ConfigError', message: /stride/ });
  assert.throws(() => tokenWindows(5, { context: 0, stride: 1 }), { name: 'ConfigError', message: /context/ });
});

test('causal shift: position t predicts token t+1, t = 0..length-2; padding and the last real position have none', () => {
  const ids = [5, 6, 7, 8, 0, 0];
  const into = new Int32Array(ids.length - 1);
  assert.equal(causalTargets(ids, 4, into), 3);
  assert.deepEqual([...into], [6, 7, 8, -100, -100]);
  assert.equal(causalTargets(ids, 1), 0);
  assert.equal(causalTargets(ids, 0), 0);
  // lm-brown: targets = sum of (length - 1) over rows
  const lengths = [128, 128, 44];
  assert.equal(lengths.reduce((s, l) => s + causalTargets(new Array<number>(128).fill(1), l), 0), 127 + 127 + 43);
});
