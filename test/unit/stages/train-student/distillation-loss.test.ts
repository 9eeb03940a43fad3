import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../../pipeline/engines/tfjs.ts';
import {
  agreementAndKl,
  distillationLoss,
  lossComponents,
} from '../../../../stages/train-student/distillation-loss.ts';
import type { Targets, TopKTail } from '../../../../stages/train-student/distillation-loss.ts';
import { mulberry32 as rng } from '../../../../pipeline/seeded-random.ts';
import { forEachTestBackend } from '../../../helpers/test-backends.ts';

// ---------------------------------------------------------------------------------------------
// Independent float64 reference (plain loops; shares no code with the implementation).
// ---------------------------------------------------------------------------------------------

type Matrix = number[][];

/** Reference top-k row: kept indices (descending, ties to lower index) and float64 tail LSE. */
interface RefTopK {
  index: Matrix;
  logit: Matrix;
  tailLse: number[];
}

function logSumExp(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** Reference encoding; values rounded to float32 exactly as the store would hold them. */
function refEncode(zt: Matrix, k: number, t: number): RefTopK {
  const out: RefTopK = { index: [], logit: [], tailLse: [] };
  for (const row of zt) {
    const order = row.map((_, j) => j).sort((a, b) => (row[b] !== row[a] ? row[b] - row[a] : a - b));
    const kept = order.slice(0, k);
    const tail = order.slice(k).map((j) => row[j] / t);
    out.index.push(kept);
    out.logit.push(kept.map((j) => Math.fround(row[j])));
    out.tailLse.push(Math.fround(logSumExp(tail)));
  }
  return out;
}

/** KL(p || q) over one row's categories, 0 log 0 = 0. */
function kl(p: number[], q: number[]): number {
  let s = 0;
  for (let j = 0; j < p.length; j++) if (p[j] > 0) s += p[j] * (Math.log(p[j]) - Math.log(q[j]));
  return s;
}

function softmax(z: number[], t: number): number[] {
  const lse = logSumExp(z.map((v) => v / t));
  return z.map((v) => Math.exp(v / t - lse));
}

type RefTargets = { kind: 'dense'; zt: Matrix } | { kind: 'topk'; enc: RefTopK; tail: TopKTail };

/** Per-row KL(p_t^T || p_s^T) by the stated rules, probabilities built explicitly. */
function refKlRow(zs: number[], tg: RefTargets, i: number, t: number): number {
  const q = softmax(zs, t);
  if (tg.kind === 'dense') return kl(softmax(tg.zt[i], t), q);
  const { index, logit, tailLse } = { index: tg.enc.index[i], logit: tg.enc.logit[i], tailLse: tg.enc.tailLse[i] };
  const c = zs.length;
  const k = index.length;
  const lse = logSumExp([...logit.map((v) => v / t), tailLse]);
  const pKept = logit.map((v) => Math.exp(v / t - lse));
  const pTail = Math.exp(tailLse - lse);
  const isKept = new Array<boolean>(c).fill(false);
  for (const j of index) isKept[j] = true;
  if (tg.tail === 'bucket') {
    let qTail = 0;
    for (let j = 0; j < c; j++) if (!isKept[j]) qTail += q[j];
    return kl([...pKept, pTail], [...index.map((j) => q[j]), qTail]);
  }
  const p = new Array<number>(c).fill(k === c ? 0 : pTail / (c - k));
  index.forEach((j, n) => (p[j] = pKept[n]));
  return kl(p, q);
}

function refLoss(zs: Matrix, y: number[], tg: RefTargets | null, t: number, alpha: number): number {
  let total = 0;
  for (let i = 0; i < zs.length; i++) {
    const ce = -(zs[i][y[i]] - logSumExp(zs[i]));
    const klTerm = alpha === 1 || tg === null ? 0 : refKlRow(zs[i], tg, i, t);
    total += alpha * ce + (1 - alpha) * t * t * klTerm;
  }
  return total / zs.length;
}

/** Central-difference gradient of the reference loss w.r.t. the student logits (float64). */
function refGrad(zs: Matrix, y: number[], tg: RefTargets | null, t: number, alpha: number): Matrix {
  const h = 1e-5;
  return zs.map((row, i) =>
    row.map((_, j) => {
      const plus = zs.map((r) => [...r]);
      const minus = zs.map((r) => [...r]);
      plus[i][j] += h;
      minus[i][j] -= h;
      return (refLoss(plus, y, tg, t, alpha) - refLoss(minus, y, tg, t, alpha)) / (2 * h);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Random float32-representable matrix (values exactly as the tensor will hold them). */
function randomMatrix(r: () => number, rows: number, cols: number, scale: number): Matrix {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround((r() - 0.5) * 2 * scale)));
}

function close(actual: number, expected: number, rel: number, what: string, abs = 1e-7): void {
  const err = Math.abs(actual - expected);
  assert.ok(err <= rel * Math.abs(expected) + abs, `${what}: got ${actual}, expected ${expected} (err ${err})`);
}

function toTargets(tg: RefTargets, t: number): Targets {
  if (tg.kind === 'dense') return { kind: 'dense', logits: tf.tensor2d(tg.zt) };
  return {
    kind: 'topk',
    index: tf.tensor2d(tg.enc.index, undefined, 'int32'),
    logit: tf.tensor2d(tg.enc.logit),
    tailLogSumExp: tf.tensor1d(tg.enc.tailLse),
    captureTemperature: t,
    tail: tg.tail,
  };
}

function scalar(x: tf.Scalar): number {
  const v = x.dataSync()[0];
  x.dispose();
  return v;
}

function lossValue(zs: Matrix, y: number[], tg: RefTargets | null, t: number, alpha: number): number {
  return tf.tidy(() =>
    distillationLoss(tf.tensor2d(zs), tf.tensor1d(y, 'int32'), tg === null ? null : toTargets(tg, t), {
      temperature: t,
      alpha,
    }).dataSync()[0],
  );
}

function lossGrad(zs: Matrix, y: number[], tg: RefTargets | null, t: number, alpha: number): Matrix {
  return tf.tidy(() => {
    const labels = tf.tensor1d(y, 'int32');
    const targets = tg === null ? null : toTargets(tg, t);
    const g = tf.grad((z: tf.Tensor) => distillationLoss(z as tf.Tensor2D, labels, targets, { temperature: t, alpha }));
    return g(tf.tensor2d(zs)).arraySync() as Matrix;
  });
}

function batch(seed: number, rows: number, classes: number): { zs: Matrix; zt: Matrix; y: number[] } {
  const r = rng(seed);
  const zs = randomMatrix(r, rows, classes, 3);
  const zt = randomMatrix(r, rows, classes, 5);
  const y = Array.from({ length: rows }, () => Math.floor(r() * classes));
  return { zs, zt, y };
}

const PAIRS: ReadonlyArray<readonly [number, number]> = [
  [1, 0],
  [1, 0.5],
  [2, 0.1],
  [4, 0],
  [4, 0.7],
  [0.5, 0.3],
];

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

// Student, loss and export code runs on every backend the tests can set up (test/helpers/test-backends.ts).
forEachTestBackend(() => {
  test('dense: matches the float64 reference on random batches for several (T, alpha)', () => {
    const { zs, zt, y } = batch(1, 16, 10);
    for (const [t, alpha] of PAIRS) {
      close(lossValue(zs, y, { kind: 'dense', zt }, t, alpha), refLoss(zs, y, { kind: 'dense', zt }, t, alpha), 1e-5, `T=${t} alpha=${alpha}`);
    }
  });

  test('top-k bucket and uniform: match the float64 reference on random batches', () => {
    const { zs, zt, y } = batch(2, 12, 10);
    for (const k of [1, 3, 7]) {
      for (const [t, alpha] of PAIRS) {
        const enc = refEncode(zt, k, t);
        for (const tail of ['bucket', 'uniform'] as const) {
          const tg: RefTargets = { kind: 'topk', enc, tail };
          close(lossValue(zs, y, tg, t, alpha), refLoss(zs, y, tg, t, alpha), 1e-5, `${tail} k=${k} T=${t} alpha=${alpha}`);
        }
      }
    }
  });

  test('bucket and uniform differ when the teacher tail is not uniform (the rules are really different)', () => {
    const { zs, zt, y } = batch(3, 8, 10);
    const enc = refEncode(zt, 3, 2);
    const bucket = lossValue(zs, y, { kind: 'topk', enc, tail: 'bucket' }, 2, 0);
    const uniform = lossValue(zs, y, { kind: 'topk', enc, tail: 'uniform' }, 2, 0);
    assert.ok(Math.abs(bucket - uniform) > 1e-3, `bucket ${bucket} vs uniform ${uniform}`);
    close(uniform, refLoss(zs, y, { kind: 'topk', enc, tail: 'uniform' }, 2, 0), 1e-5, 'uniform');
  });

  test('closed form: identical student and teacher logits give KL = 0', () => {
    const { zs, y } = batch(4, 8, 6);
    for (const t of [1, 3]) {
      const c = lossComponents(tf.tensor2d(zs), tf.tensor1d(y, 'int32'), { kind: 'dense', logits: tf.tensor2d(zs) }, { temperature: t, alpha: 0.5 });
      assert.ok(c.kl !== null);
      close(scalar(c.kl), 0, 0, `KL T=${t}`, 1e-6);
      close(scalar(c.ce), refLoss(zs, y, null, t, 1), 1e-6, `CE T=${t}`);
      close(lossValue(zs, y, { kind: 'dense', zt: zs }, t, 0), 0, 0, `loss alpha=0 T=${t}`, 1e-5);
    }
  });

  test('closed form: alpha = 1 is plain cross-entropy (ln 2 for a uniform 2-class student), targets ignored', () => {
    // CE(y, softmax([0, 0])) = ln 2 = 0.6931471805599453
    close(lossValue([[0, 0]], [1], null, 4, 1), 0.6931471805599453, 1e-6, 'null targets');
    close(lossValue([[0, 0]], [0], { kind: 'dense', zt: [[9, -9]] }, 4, 1), 0.6931471805599453, 1e-6, 'targets ignored');
    const { zs, zt, y } = batch(5, 10, 7);
    close(lossValue(zs, y, { kind: 'dense', zt }, 2, 1), refLoss(zs, y, null, 2, 1), 1e-6, 'random CE');
  });

  test('closed form: uniform 2-class student vs one-hot and 3:1 teachers', () => {
    // Teacher [0, -inf] is exactly one-hot: KL([1, 0] || [1/2, 1/2]) = ln 2 (0 log 0 = 0 must hold).
    close(lossValue([[0, 0]], [0], { kind: 'dense', zt: [[0, -Infinity]] }, 1, 0), 0.6931471805599453, 1e-6, 'one-hot');
    // Teacher z = [2 ln 3, 0] at T = 2 -> p = [3/4, 1/4]; python:
    //   kl = 0.75*log(0.75/0.5) + 0.25*log(0.25/0.5) = 0.13081203594113697
    //   alpha = 0:   T^2 * kl               = 0.5232481437645479
    //   alpha = 0.5: 0.5*ln 2 + 0.5*4*kl    = 0.6081976621622466   (label 0)
    const zt = [[2 * Math.log(3), 0]];
    close(lossValue([[0, 0]], [0], { kind: 'dense', zt }, 2, 0), 0.5232481437645479, 1e-6, 'alpha=0');
    close(lossValue([[0, 0]], [0], { kind: 'dense', zt }, 2, 0.5), 0.6081976621622466, 1e-6, 'alpha=0.5');
  });

  test('closed form: top-k tail rules on a 3-class row', () => {
    // Teacher z = [ln 2, 0, 0] -> p = [1/2, 1/4, 1/4]; k = 1 keeps class 0; tailLogSumExp = ln 2.
    // Student z = [0, ln 3, 0] -> q = [1/5, 3/5, 1/5]. T = 1, alpha = 0. python:
    //   bucket:  KL([.5, .5] || [.2, .8])            = log(1.25) = 0.22314355131420976
    //   uniform: .5*log(.5/.2) + .25*log(.25/.6) + .25*log(.25/.2) = 0.295064069427155
    const zs = [[0, Math.log(3), 0]];
    const enc: RefTopK = { index: [[0]], logit: [[Math.fround(Math.log(2))]], tailLse: [Math.fround(Math.log(2))] };
    close(lossValue(zs, [0], { kind: 'topk', enc, tail: 'bucket' }, 1, 0), 0.22314355131420976, 1e-6, 'bucket');
    close(lossValue(zs, [0], { kind: 'topk', enc, tail: 'uniform' }, 1, 0), 0.295064069427155, 1e-6, 'uniform');
    // The teacher's tail is uniform here, so 'uniform' equals the dense loss.
    close(lossValue(zs, [0], { kind: 'dense', zt: [[Math.log(2), 0, 0]] }, 1, 0), 0.295064069427155, 1e-6, 'dense');
  });

  test('the T^2 factor: T = 1 vs T = 4 against the reference and against the unscaled KL', () => {
    const { zs, zt, y } = batch(6, 10, 10);
    for (const t of [1, 4]) {
      const loss = lossValue(zs, y, { kind: 'dense', zt }, t, 0);
      close(loss, refLoss(zs, y, { kind: 'dense', zt }, t, 0), 1e-5, `T=${t}`);
      const c = lossComponents(tf.tensor2d(zs), tf.tensor1d(y, 'int32'), { kind: 'dense', logits: tf.tensor2d(zt) }, { temperature: t, alpha: 0 });
      assert.ok(c.kl !== null);
      const klT = scalar(c.kl);
      scalar(c.ce);
      close(loss, t * t * klT, 1e-6, `loss = T^2 KL at T=${t}`);
      let refKl = 0;
      for (let i = 0; i < zs.length; i++) refKl += refKlRow(zs[i], { kind: 'dense', zt }, i, t) / zs.length;
      close(klT, refKl, 1e-5, `unscaled KL T=${t}`);
    }
    // At T = 4 the loss is 16 x the tempered KL, not the T = 1 KL.
    assert.ok(Math.abs(lossValue(zs, y, { kind: 'dense', zt }, 4, 0) - lossValue(zs, y, { kind: 'dense', zt }, 1, 0)) > 1e-2);
  });

  test('gradient: tf.grad matches central differences of the float64 reference (dense, bucket, uniform)', () => {
    const { zs, zt, y } = batch(7, 6, 8);
    const cases: Array<[string, RefTargets, number, number]> = [
      ['dense', { kind: 'dense', zt }, 3, 0.3],
      ['dense T=1', { kind: 'dense', zt }, 1, 0],
      ['bucket', { kind: 'topk', enc: refEncode(zt, 3, 2), tail: 'bucket' }, 2, 0.2],
      ['uniform', { kind: 'topk', enc: refEncode(zt, 3, 2), tail: 'uniform' }, 2, 0.2],
      ['bucket k=1', { kind: 'topk', enc: refEncode(zt, 1, 4), tail: 'bucket' }, 4, 0],
    ];
    for (const [name, tg, t, alpha] of cases) {
      const fd = refGrad(zs, y, tg, t, alpha);
      const g = lossGrad(zs, y, tg, t, alpha);
      let maxAbs = 0;
      for (const row of fd) for (const v of row) maxAbs = Math.max(maxAbs, Math.abs(v));
      assert.ok(maxAbs > 1e-3, `${name}: gradient is not trivially zero`);
      for (let i = 0; i < zs.length; i++) {
        for (let j = 0; j < zs[0].length; j++) close(g[i][j], fd[i][j], 1e-3, `${name} dL/dz[${i}][${j}]`, 1e-3 * maxAbs);
      }
    }
  });

  test('gradient: dense closed form alpha (softmax(z) - onehot) / B + (1 - alpha) T (q - p) / B', () => {
    const { zs, zt, y } = batch(8, 5, 4);
    const t = 2.5;
    const alpha = 0.4;
    const g = lossGrad(zs, y, { kind: 'dense', zt }, t, alpha);
    for (let i = 0; i < zs.length; i++) {
      const s = softmax(zs[i], 1);
      const q = softmax(zs[i], t);
      const p = softmax(zt[i], t);
      for (let j = 0; j < 4; j++) {
        const expected = (alpha * (s[j] - (j === y[i] ? 1 : 0)) + (1 - alpha) * t * (q[j] - p[j])) / zs.length;
        close(g[i][j], expected, 1e-4, `dL/dz[${i}][${j}]`, 1e-7);
      }
    }
  });

  test('k == C: both tail rules equal the dense loss (value and gradient)', () => {
    const { zs, zt, y } = batch(9, 10, 6);
    for (const [t, alpha] of PAIRS) {
      const dense = lossValue(zs, y, { kind: 'dense', zt }, t, alpha);
      const gDense = lossGrad(zs, y, { kind: 'dense', zt }, t, alpha);
      const enc = refEncode(zt, 6, t);
      assert.ok(enc.tailLse.every((v) => v === -Infinity));
      for (const tail of ['bucket', 'uniform'] as const) {
        close(lossValue(zs, y, { kind: 'topk', enc, tail }, t, alpha), dense, 1e-6, `${tail} T=${t} alpha=${alpha}`);
        const g = lossGrad(zs, y, { kind: 'topk', enc, tail }, t, alpha);
        for (let i = 0; i < zs.length; i++) for (let j = 0; j < 6; j++) close(g[i][j], gDense[i][j], 1e-5, `${tail} grad[${i}][${j}]`, 1e-7);
      }
    }
  });

  test('extreme logits (1e4, -1e4) give a finite loss and gradient that match the reference', () => {
    const zs = [[1e4, -1e4, 0, 5], [-1e4, 1e4, 3, 0]];
    const zt = [[-1e4, 1e4, 0, 1], [1e4, 0, -1e4, 2]];
    const y = [0, 2];
    for (const tg of [{ kind: 'dense', zt }, { kind: 'topk', enc: refEncode(zt, 2, 1), tail: 'bucket' }, { kind: 'topk', enc: refEncode(zt, 2, 1), tail: 'uniform' }] as RefTargets[]) {
      const v = lossValue(zs, y, tg, 1, 0.5);
      assert.ok(Number.isFinite(v), `${tg.kind}: ${v}`);
      close(v, refLoss(zs, y, tg, 1, 0.5), 1e-5, `${tg.kind} extreme`);
      assert.ok(lossGrad(zs, y, tg, 1, 0.5).flat().every(Number.isFinite));
    }
  });

  test('BAD CALL top-k at a temperature other than the capture temperature', () => {
    const { zs, zt, y } = batch(10, 4, 5);
    const targets = toTargets({ kind: 'topk', enc: refEncode(zt, 2, 4), tail: 'bucket' }, 4);
    assert.throws(() => distillationLoss(tf.tensor2d(zs), tf.tensor1d(y, 'int32'), targets, { temperature: 2, alpha: 0.5 }), {
      name: 'RangeError',
      message:
        "temperature T=2 does not match the store's capture temperature 4; a top-k store fixes T at capture (dense stores leave T free)",
    });
    assert.throws(() => lossComponents(tf.tensor2d(zs), tf.tensor1d(y, 'int32'), targets, { temperature: 1, alpha: 0.5 }), {
      name: 'RangeError',
      message: /temperature T=1 does not match the store's capture temperature 4/,
    });
  });

  test('BAD CALL alpha and temperature out of range name the field, the value and the range', () => {
    const z = tf.tensor2d([[0, 1]]);
    const y = tf.tensor1d([0], 'int32');
    const dense: Targets = { kind: 'dense', logits: tf.tensor2d([[1, 0]]) };
    for (const alpha of [-0.1, 1.5, NaN]) {
      assert.throws(() => distillationLoss(z, y, dense, { temperature: 1, alpha }), {
        name: 'RangeError',
        message: `train.alpha must be a number in [0, 1], got ${alpha}`,
      });
    }
    for (const temperature of [0, -1, Infinity, NaN]) {
      assert.throws(() => distillationLoss(z, y, dense, { temperature, alpha: 0.5 }), {
        name: 'RangeError',
        message: `train.temperature must be a positive finite number, got ${temperature}`,
      });
    }
    assert.throws(() => distillationLoss(z, y, { kind: 'dense', logits: tf.tensor2d([[1, 0, 2]]) }, { temperature: 1, alpha: 0.5 }), {
      name: 'RangeError',
      message: /targets.logits must have shape \[B, C\] = \[1, 2\], got \[1, 3\]/,
    });
    assert.throws(() => distillationLoss(z, tf.tensor1d([0]), dense, { temperature: 1, alpha: 0.5 }), {
      name: 'TypeError',
      message: /labels must be int32, got float32/,
    });
  });

  test('alpha = 1 works with null targets; alpha < 1 with null targets throws a clear error', () => {
    const z = tf.tensor2d([[2, 0, -1]]);
    const y = tf.tensor1d([1], 'int32');
    // CE = -(0 - log(e^2 + e^0 + e^-1)) = 2.1698460195562856 (python)
    close(scalar(distillationLoss(z, y, null, { temperature: 3, alpha: 1 })), 2.1698460195562856, 1e-6, 'CE');
    const c = lossComponents(z, y, null, { temperature: 3, alpha: 1 });
    assert.equal(c.kl, null);
    close(scalar(c.ce), 2.1698460195562856, 1e-6, 'components CE');
    assert.throws(() => distillationLoss(z, y, null, { temperature: 3, alpha: 0.9 }), {
      name: 'TypeError',
      message: /distillation targets are required when train.alpha < 1, got alpha=0.9/,
    });
    assert.throws(() => lossComponents(z, y, null, { temperature: 3, alpha: 0 }), { name: 'TypeError', message: /targets are required/ });
  });

  test('agreementAndKl: top-1 agreement and KL at T = 1 (dense) / capture T (top-k)', () => {
    // Student argmax per row: 0, 1, 2; teacher argmax: 0, 1, 0 (row 2: tie 3, 3 -> class 0) -> 2/3.
    const zs = [[3, 1, 0], [0, 2, 1], [0, 1, 4]];
    const zt = [[5, 0, 0], [1, 6, 1], [3, 3, 1]];
    const d = agreementAndKl(tf.tensor2d(zs), { kind: 'dense', logits: tf.tensor2d(zt) });
    assert.equal(d.klTemperature, 1);
    close(scalar(d.agreement), 2 / 3, 1e-6, 'dense agreement');
    const refKl1 = zs.reduce((s, row, i) => s + refKlRow(row, { kind: 'dense', zt }, i, 1), 0) / 3;
    close(scalar(d.kl), refKl1, 1e-5, 'dense KL');
    const enc = refEncode(zt, 2, 2);
    const tk = agreementAndKl(tf.tensor2d(zs), toTargets({ kind: 'topk', enc, tail: 'bucket' }, 2));
    assert.equal(tk.klTemperature, 2);
    close(scalar(tk.agreement), 2 / 3, 1e-6, 'top-k agreement');
    const refKl2 = zs.reduce((s, row, i) => s + refKlRow(row, { kind: 'topk', enc, tail: 'bucket' }, i, 2), 0) / 3;
    close(scalar(tk.kl), refKl2, 1e-5, 'top-k KL');
  });

  test('no tensor leak: inside tf.tidy, and outside only the returned scalar survives', () => {
    const { zs, zt, y } = batch(11, 8, 10);
    const z = tf.tensor2d(zs);
    const labels = tf.tensor1d(y, 'int32');
    const all: Targets[] = [
      { kind: 'dense', logits: tf.tensor2d(zt) },
      toTargets({ kind: 'topk', enc: refEncode(zt, 3, 2), tail: 'bucket' }, 2),
      toTargets({ kind: 'topk', enc: refEncode(zt, 3, 2), tail: 'uniform' }, 2),
      toTargets({ kind: 'topk', enc: refEncode(zt, 10, 2), tail: 'bucket' }, 2),
    ];
    for (const targets of all) {
      const opts = { temperature: 2, alpha: 0.3 };
      const before = tf.memory().numTensors;
      const v = tf.tidy(() => distillationLoss(z, labels, targets, opts).dataSync()[0]);
      assert.ok(Number.isFinite(v));
      assert.equal(tf.memory().numTensors, before, 'inside tf.tidy');
      const loss = distillationLoss(z, labels, targets, opts);
      assert.equal(tf.memory().numTensors, before + 1, 'only the result survives');
      loss.dispose();
      const c = lossComponents(z, labels, targets, opts);
      assert.equal(tf.memory().numTensors, before + 2, 'components: ce and kl survive');
      c.ce.dispose();
      c.kl?.dispose();
      const a = agreementAndKl(z, targets);
      assert.equal(tf.memory().numTensors, before + 2, 'agreement and kl survive');
      a.agreement.dispose();
      a.kl.dispose();
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => distillationLoss(x as tf.Tensor2D, labels, targets, opts))(z);
      });
      assert.equal(tf.memory().numTensors, before, 'gradient inside tf.tidy');
    }
  });
});
