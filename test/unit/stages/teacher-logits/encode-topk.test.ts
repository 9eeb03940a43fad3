import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTopKProbs, encodeTopK } from '../../../../stages/teacher-logits/encode-topk.ts';
import { mulberry32 as rng } from '../../../../pipeline/seeded-random.ts';

/** |a - b| <= tol * max(1, |b|). */
function close(actual: number, expected: number, tol: number, what: string): void {
  const err = Math.abs(actual - expected);
  assert.ok(err <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected} (err ${err})`);
}


/** Independent reference: full sort of (value, index) pairs, then a naive float64 tail logsumexp. */
function referenceTopK(row: number[], k: number, t: number): { index: number[]; tail: number } {
  const order = row.map((v, i) => [v, i] as const).sort((x, y) => (y[0] !== x[0] ? y[0] - x[0] : x[1] - y[1]));
  const index = order.slice(0, k).map((p) => p[1]);
  const rest = order.slice(k).map((p) => p[0] / t);
  if (rest.length === 0) return { index, tail: -Infinity };
  const m = Math.max(...rest);
  return { index, tail: m + Math.log(rest.reduce((s, a) => s + Math.exp(a - m), 0)) };
}

test('encodeTopK: hand-checked row at T=1 and T=2', () => {
  // z = [1, 3, 2, 0], k = 2 -> kept classes 1 (z=3) and 2 (z=2); tail = {0: 1, 3: 0}.
  // python: math.log(math.exp(1) + math.exp(0))     = 1.3132616875182228  (T = 1)
  //         math.log(math.exp(0.5) + math.exp(0))   = 0.9740769841801067  (T = 2)
  const z = new Float32Array([1, 3, 2, 0]);
  const e1 = encodeTopK(z, 1, 4, 2, 1);
  assert.deepEqual([...e1.index], [1, 2]);
  assert.deepEqual([...e1.logit], [3, 2]);
  close(e1.tailLogSumExp[0], 1.3132616875182228, 1e-7, 'tail T=1');
  const e2 = encodeTopK(z, 1, 4, 2, 2);
  assert.deepEqual([...e2.index], [1, 2], 'ranking does not depend on T');
  assert.deepEqual([...e2.logit], [3, 2], 'raw logits are stored, not z / T');
  close(e2.tailLogSumExp[0], 0.9740769841801067, 1e-7, 'tail T=2');
});

test('encodeTopK: ties go to the lower class index; several rows', () => {
  // row 0: z = [2, 5, 5, 1, 5]; k = 2 keeps 1, 2 (5 at index 4 loses the tie);
  //   tail = log(e^2 + e^1 + e^5) = 5.065883903757429 (python)
  // row 1: z = [0.5, -1, 4, 4, -inf]; k = 2 keeps 2, 3 (equal logits, lower index first).
  const z = new Float32Array([2, 5, 5, 1, 5, 0.5, -1, 4, 4, -Infinity]);
  const e = encodeTopK(z, 2, 5, 2, 1);
  assert.deepEqual([...e.index], [1, 2, 2, 3]);
  assert.deepEqual([...e.logit], [5, 5, 4, 4]);
  close(e.tailLogSumExp[0], 5.065883903757429, 1e-7, 'row 0 tail');
  // row 1 tail = log(e^0.5 + e^-1 + e^-inf) = log(e^0.5 + e^-1) = 0.7014132779827524
  //   python: math.log(math.exp(0.5) + math.exp(-1))
  close(e.tailLogSumExp[1], 0.7014132779827524, 1e-7, 'row 1 tail');
  // k = 3 on row 0 keeps 1, 2, 4; tail = log(e^2 + e^1) = 2.3132616875182226
  const e3 = encodeTopK(z.subarray(0, 5), 1, 5, 3, 1);
  assert.deepEqual([...e3.index], [1, 2, 4]);
  close(e3.tailLogSumExp[0], 2.3132616875182226, 1e-7, 'k=3 tail');
});

test('encodeTopK: k == classes keeps every class in rank order and the tail is -Infinity', () => {
  const e = encodeTopK(new Float32Array([0.25, -3, 7, 0.25]), 1, 4, 4, 1.5);
  assert.deepEqual([...e.index], [2, 0, 3, 1]);
  assert.deepEqual([...e.logit], [7, 0.25, 0.25, -3]);
  assert.equal(e.tailLogSumExp[0], -Infinity);
  const d = decodeTopKProbs(e.logit, e.tailLogSumExp[0], 1.5);
  assert.equal(d.tail, 0);
  close(
    d.probs.reduce((s, p) => s + p, 0),
    1,
    1e-12,
    'sum',
  );
});

test('encodeTopK: matches an independent sort-based reference on random rows (k from 3 to C, with ties)', () => {
  const r = rng(7);
  for (const [classes, k, t] of [
    [10, 3, 1],
    [50, 5, 2.5],
    [100, 40, 0.7],
    [64, 64, 4],
  ] as const) {
    const rows = 6;
    // Quantised values so that ties actually occur.
    const z = new Float32Array(rows * classes).map(() => Math.round((r() - 0.5) * 20) / 2);
    const e = encodeTopK(z, rows, classes, k, t);
    for (let i = 0; i < rows; i++) {
      const ref = referenceTopK([...z.subarray(i * classes, (i + 1) * classes)], k, t);
      assert.deepEqual([...e.index.subarray(i * k, (i + 1) * k)], ref.index, `C=${classes} k=${k} row ${i}`);
      for (let j = 0; j < k; j++) assert.equal(e.logit[i * k + j], z[i * classes + ref.index[j]]);
      if (ref.tail === -Infinity) assert.equal(e.tailLogSumExp[i], -Infinity);
      else close(e.tailLogSumExp[i], ref.tail, 1e-6, `tail C=${classes} k=${k} row ${i}`);
    }
  }
});

test('decodeTopKProbs: hand-checked probabilities and tail mass', () => {
  // z = [1, 3, 2, 0], python softmax(z / T):
  //   T = 1: [0.08714431874203257, 0.6439142598879724, 0.23688281808991016, 0.03205860328008499]
  //          tail (classes 0, 3) = 0.11920292202211756
  //   T = 2: [0.16740509727844333, 0.45505423392341127, 0.27600434470659363, 0.1015363240915518]
  //          tail = 0.26894142136999516
  const z = new Float32Array([1, 3, 2, 0]);
  for (const [t, p1, p2, tail] of [
    [1, 0.6439142598879724, 0.23688281808991016, 0.11920292202211756],
    [2, 0.45505423392341127, 0.27600434470659363, 0.26894142136999516],
  ] as const) {
    const e = encodeTopK(z, 1, 4, 2, t);
    const d = decodeTopKProbs(e.logit, e.tailLogSumExp[0], t);
    close(d.probs[0], p1, 1e-7, `p(class 1) T=${t}`);
    close(d.probs[1], p2, 1e-7, `p(class 2) T=${t}`);
    close(d.tail, tail, 1e-7, `tail T=${t}`);
  }
});

test('decodeTopKProbs: reconstructs softmax(z / T) on the kept classes and sums to 1 (random rows)', () => {
  const r = rng(11);
  const classes = 30;
  const k = 6;
  const rows = 20;
  for (const t of [0.5, 1, 3]) {
    const z = new Float32Array(rows * classes).map(() => (r() - 0.5) * 16);
    const e = encodeTopK(z, rows, classes, k, t);
    for (let i = 0; i < rows; i++) {
      const row = [...z.subarray(i * classes, (i + 1) * classes)].map((v) => v / t);
      const m = Math.max(...row);
      const s = row.reduce((acc, a) => acc + Math.exp(a - m), 0);
      const d = decodeTopKProbs(e.logit.subarray(i * k, (i + 1) * k), e.tailLogSumExp[i], t);
      let total = d.tail;
      for (let j = 0; j < k; j++) {
        const cls = e.index[i * k + j];
        close(d.probs[j], Math.exp(row[cls] - m) / s, 1e-6, `T=${t} row ${i} class ${cls}`);
        total += d.probs[j];
      }
      close(total, 1, 1e-6, `sum T=${t} row ${i}`);
      close(d.logSumExp, m + Math.log(s), 1e-6, `LSE T=${t} row ${i}`);
    }
  }
});

test('encodeTopK/decodeTopKProbs: extreme logits (1e4, -1e4) stay finite', () => {
  // z = [1e4, -1e4, 0, 5e3], k = 1: tail = log(e^-1e4 + e^0 + e^5000) = 5000 (other terms vanish).
  const z = new Float32Array([1e4, -1e4, 0, 5e3]);
  const e = encodeTopK(z, 1, 4, 1, 1);
  assert.deepEqual([...e.index], [0]);
  assert.equal(e.tailLogSumExp[0], 5000);
  const d = decodeTopKProbs(e.logit, e.tailLogSumExp[0], 1);
  assert.equal(d.probs[0], 1); // 1 - e^-5000 rounds to 1
  assert.equal(d.tail, 0); // e^-5000 underflows to 0
  assert.equal(d.logSumExp, 1e4);
  // k = 2 keeps 1e4 and 5e3; tail = log(e^0 + e^-1e4) = 0 exactly in float64.
  const e2 = encodeTopK(z, 1, 4, 2, 0.01);
  assert.equal(e2.tailLogSumExp[0], 0);
  const d2 = decodeTopKProbs(e2.logit, e2.tailLogSumExp[0], 0.01);
  assert.ok(Number.isFinite(d2.logSumExp));
  assert.equal(d2.logSumExp, 1e6);
  assert.equal(d2.probs[0], 1);
  assert.equal(d2.probs[1], 0);
});

test('encodeTopK: NaN ranks last and poisons only its row tail', () => {
  const e = encodeTopK(new Float32Array([NaN, 1, 2, 3, 0, 1]), 2, 3, 1, 1);
  assert.deepEqual([...e.index], [2, 0]);
  assert.ok(Number.isNaN(e.tailLogSumExp[0]));
  // row 1: [3, 0, 1] keeps class 0; tail = log(e^0 + e^1) = 1.3132616875182228
  close(e.tailLogSumExp[1], 1.3132616875182228, 1e-7, 'row 1 tail');
});

test('BAD CALL encodeTopK: k, temperature, sizes', () => {
  const z = new Float32Array(6);
  assert.throws(() => encodeTopK(z, 2, 3, 0, 1), { name: 'RangeError', message: /k must be an integer in \[1, classes=3\], got 0/ });
  assert.throws(() => encodeTopK(z, 2, 3, 4, 1), { name: 'RangeError', message: /k must be .* got 4/ });
  assert.throws(() => encodeTopK(z, 2, 3, 1, 0), { name: 'RangeError', message: /temperature must be a positive finite number, got 0/ });
  assert.throws(() => encodeTopK(z, 2, 3, 1, Infinity), { name: 'RangeError', message: /temperature .* got Infinity/ });
  assert.throws(() => encodeTopK(z, 3, 3, 1, 1), { name: 'RangeError', message: /logits.length must be rows \* classes = 3 \* 3 = 9, got 6/ });
  assert.throws(() => encodeTopK(z, 2.5, 3, 1, 1), { name: 'RangeError', message: /rows must be a positive integer, got 2.5/ });
  assert.throws(() => decodeTopKProbs([1], 0, -1), { name: 'RangeError', message: /decodeTopKProbs: temperature .* got -1/ });
});
