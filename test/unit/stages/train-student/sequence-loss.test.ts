/**
 * The distillation loss on flattened sequence batches ([B*P, V] + per-position weights) and with
 * sampled targets, against an independent float64 loop reference and central differences, and the
 * sampled loss's gradient against the dense gradient in expectation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../../pipeline/engines/tfjs.ts';
import { agreementAndKl, distillationLoss } from '../../../../stages/train-student/distillation-loss.ts';
import type { Targets } from '../../../../stages/train-student/distillation-loss.ts';
import { mulberry32 as rng } from '../../../../pipeline/seeded-random.ts';
import { forEachTestBackend } from '../../../helpers/test-backends.ts';
import { drawCounts } from '../../../helpers/write-test-sequence-store.ts';

type Matrix = number[][];

// ------------------------------- float64 reference (plain loops) -------------------------------

function lse(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}
function softmax(z: number[], t: number): number[] {
  const l = lse(z.map((v) => v / t));
  return z.map((v) => Math.exp(v / t - l));
}
/** Sampled draws of one row: distinct ids and counts, padded with (-1, 0) to m slots. */
interface Draws {
  index: Matrix;
  count: Matrix;
}
type RefTargets = { kind: 'dense'; zt: Matrix } | { kind: 'sampled'; draws: Draws; n: number };

function teacherRow(tg: RefTargets, i: number, t: number, c: number): number[] {
  if (tg.kind === 'dense') return softmax(tg.zt[i]!, t);
  const p = new Array<number>(c).fill(0);
  tg.draws.index[i]!.forEach((j, s) => {
    if (j >= 0) p[j]! += tg.draws.count[i]![s]! / tg.n;
  });
  return p;
}

/** alpha * CE over rows with w > 0 and label >= 0, + (1 - alpha) T^2 KL over rows with w > 0, each a weighted mean. */
function refLoss(zs: Matrix, y: number[], w: number[], tg: RefTargets, t: number, alpha: number): number {
  let ce = 0;
  let ceW = 0;
  let kl = 0;
  let klW = 0;
  for (let i = 0; i < zs.length; i++) {
    if (w[i] === 0) continue;
    if (y[i]! >= 0) {
      ce += w[i]! * -(zs[i]![y[i]!]! - lse(zs[i]!));
      ceW += w[i]!;
    }
    const p = teacherRow(tg, i, t, zs[i]!.length);
    const q = softmax(zs[i]!, t);
    let k = 0;
    for (let j = 0; j < p.length; j++) if (p[j]! > 0) k += p[j]! * (Math.log(p[j]!) - Math.log(q[j]!));
    kl += w[i]! * k;
    klW += w[i]!;
  }
  return alpha * (ceW > 0 ? ce / ceW : 0) + (1 - alpha) * t * t * (klW > 0 ? kl / klW : 0);
}

function refGrad(zs: Matrix, y: number[], w: number[], tg: RefTargets, t: number, alpha: number): Matrix {
  const h = 1e-5;
  return zs.map((row, i) =>
    row.map((_, j) => {
      const plus = zs.map((r) => [...r]);
      const minus = zs.map((r) => [...r]);
      plus[i]![j]! += h;
      minus[i]![j]! -= h;
      return (refLoss(plus, y, w, tg, t, alpha) - refLoss(minus, y, w, tg, t, alpha)) / (2 * h);
    }),
  );
}

// ------------------------------------------ helpers ------------------------------------------

/** N draws per row from softmax(zt / t) by inverse CDF with a seeded generator, as distinct (id, count) slots. */
function draw(zt: Matrix, t: number, n: number, m: number, seed: number): Draws {
  const r = rng(seed);
  const out: Draws = { index: [], count: [] };
  for (const row of zt) {
    const counts = drawCounts(softmax(row, t), n, r);
    const ids = [...counts.keys()];
    assert.ok(ids.length <= m, `need m >= ${ids.length} slots`);
    out.index.push([...ids, ...new Array<number>(m - ids.length).fill(-1)]);
    out.count.push([...ids.map((j) => counts.get(j)!), ...new Array<number>(m - ids.length).fill(0)]);
  }
  return out;
}

function toTargets(tg: RefTargets, t: number): Targets {
  if (tg.kind === 'dense') return { kind: 'dense', logits: tf.tensor2d(tg.zt) };
  return { kind: 'sampled', index: tf.tensor2d(tg.draws.index, undefined, 'int32'), count: tf.tensor2d(tg.draws.count), samples: tg.n, captureTemperature: t };
}

function lossAndGrad(zs: Matrix, y: number[], w: number[], tg: RefTargets, t: number, alpha: number): { value: number; grad: Matrix } {
  return tf.tidy(() => {
    const labels = tf.tensor1d(y, 'int32');
    const weights = tf.tensor1d(w);
    const targets = toTargets(tg, t);
    const f = (z: tf.Tensor): tf.Scalar => distillationLoss(z as tf.Tensor2D, labels, targets, { temperature: t, alpha }, weights);
    const { value, grad } = tf.valueAndGrad(f)(tf.tensor2d(zs));
    return { value: value.dataSync()[0]!, grad: grad.arraySync() as Matrix };
  });
}

function randomMatrix(r: () => number, rows: number, cols: number, scale: number): Matrix {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround((r() - 0.5) * 2 * scale)));
}

/** A flattened sequence batch: B = 3 rows of P = 4 positions, V = 6; row lengths 4, 2, 3 (weights 0 after), labels with -100. */
function sequenceBatch(seed: number): { zs: Matrix; zt: Matrix; y: number[]; w: number[] } {
  const r = rng(seed);
  const lengths = [4, 2, 3];
  const w = lengths.flatMap((len) => [0, 1, 2, 3].map((p) => (p < len ? 1 : 0)));
  const y = w.map((_, i) => (i === 5 ? -100 : Math.floor(r() * 6)));
  return { zs: randomMatrix(r, 12, 6, 3), zt: randomMatrix(r, 12, 6, 4), y, w };
}

function assertClose(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}: got ${a}, expected ${b}`);
}

// ------------------------------------------- tests -------------------------------------------

forEachTestBackend(() => {
  test('weighted dense and sampled: value and gradient match the float64 reference (padding and -100 ignored)', () => {
    const { zs, zt, y, w } = sequenceBatch(7);
    for (const [t, alpha] of [[1, 0.5], [2, 0], [4, 0.3]] as const) {
      const targetsList: RefTargets[] = [{ kind: 'dense', zt }, { kind: 'sampled', draws: draw(zt, t, 16, 8, 3), n: 16 }];
      for (const tg of targetsList) {
        const got = lossAndGrad(zs, y, w, tg, t, alpha);
        assertClose(got.value, refLoss(zs, y, w, tg, t, alpha), 1e-5, `${tg.kind} T=${t} alpha=${alpha} value`);
        const ref = refGrad(zs, y, w, tg, t, alpha);
        ref.forEach((row, i) => row.forEach((g, j) => assertClose(got.grad[i]![j]!, g, 2e-3, `${tg.kind} T=${t} alpha=${alpha} grad[${i}][${j}]`)));
        // Padding positions get exactly zero gradient.
        w.forEach((wi, i) => wi === 0 && got.grad[i]!.forEach((g) => assert.ok(g === 0, `padding row ${i} has gradient ${g}`)));
      }
    }
  });

  test('weights of all ones equal the unweighted loss; padding rows do not change the loss', () => {
    const { zs, zt, y } = sequenceBatch(8);
    const yy = y.map((v) => Math.max(v, 0));
    const ones = yy.map(() => 1);
    const weighted = lossAndGrad(zs, yy, ones, { kind: 'dense', zt }, 2, 0.4).value;
    const plain = tf.tidy(() => distillationLoss(tf.tensor2d(zs), tf.tensor1d(yy, 'int32'), { kind: 'dense', logits: tf.tensor2d(zt) }, { temperature: 2, alpha: 0.4 }).dataSync()[0]!);
    assertClose(weighted, plain, 1e-6, 'all-ones weights');
    const w = ones.map((_, i) => (i < 6 ? 1 : 0));
    const first6 = tf.tidy(() => distillationLoss(tf.tensor2d(zs.slice(0, 6)), tf.tensor1d(yy.slice(0, 6), 'int32'), { kind: 'dense', logits: tf.tensor2d(zt.slice(0, 6)) }, { temperature: 2, alpha: 0.4 }).dataSync()[0]!);
    assertClose(lossAndGrad(zs, yy, w, { kind: 'dense', zt }, 2, 0.4).value, first6, 1e-6, 'rows 6.. weighted 0');
  });

  test('sampled: the mean gradient over many seeded draws equals the dense gradient at T_c (bound from the spread)', () => {
    const { zs, zt, y, w } = sequenceBatch(9);
    const t = 2;
    const n = 4;
    const reps = 200;
    const dense = lossAndGrad(zs, y, w, { kind: 'dense', zt }, t, 0).grad.flat();
    const sum = new Float64Array(dense.length);
    const sumSq = new Float64Array(dense.length);
    for (let s = 0; s < reps; s++) {
      const g = lossAndGrad(zs, y, w, { kind: 'sampled', draws: draw(zt, t, n, n, 1000 + s), n }, t, 0).grad.flat();
      g.forEach((v, i) => {
        sum[i]! += v;
        sumSq[i]! += v * v;
      });
    }
    const bounds: number[] = [];
    dense.forEach((d, i) => {
      const mean = sum[i]! / reps;
      const sd = Math.sqrt(Math.max(sumSq[i]! / reps - mean * mean, 0));
      const bound = (5 * sd) / Math.sqrt(reps) + 1e-6;
      bounds.push(bound);
      assert.ok(Math.abs(mean - d) <= bound, `grad[${i}]: sampled mean ${mean}, dense ${d}, bound ${bound}`);
    });
    // The bounds are tight enough to catch a wrong target: the dense gradient at T = 1 instead of T_c falls outside them.
    const wrongT = lossAndGrad(zs, y, w, { kind: 'dense', zt }, 1, 0).grad.flat();
    const outside = wrongT.filter((g, i) => Math.abs(sum[i]! / reps - g) > bounds[i]!).length;
    assert.ok(outside >= 10, `a wrong-temperature gradient must fail the bounds, but only ${outside} of ${wrongT.length} components do`);
  });

  test('sampled agreementAndKl: top-1 is the most drawn id; weighted over target positions only', () => {
    tf.tidy(() => {
      const student = tf.tensor2d([[3, 0, 0], [0, 3, 0], [0, 0, 3]]);
      const targets: Targets = { kind: 'sampled', index: tf.tensor2d([[2, 0], [1, -1], [1, 2]], undefined, 'int32'), count: tf.tensor2d([[1, 3], [4, 0], [3, 1]]), samples: 4, captureTemperature: 1 };
      const r = agreementAndKl(student, targets, tf.tensor1d([1, 1, 0]));
      assert.equal(r.agreement.dataSync()[0], 1); // rows 0, 1 agree; row 2 (weight 0) would not
      assert.equal(r.klTemperature, 1);
    });
  });

  test('BAD CALL sampled targets at a temperature other than the capture temperature; weights of the wrong shape', () => {
    tf.tidy(() => {
      const zs = tf.zeros([2, 3]) as tf.Tensor2D;
      const y = tf.tensor1d([0, 1], 'int32');
      const targets: Targets = { kind: 'sampled', index: tf.tensor2d([[0], [1]], undefined, 'int32'), count: tf.tensor2d([[2], [2]]), samples: 2, captureTemperature: 2 };
      assert.throws(() => distillationLoss(zs, y, targets, { temperature: 1, alpha: 0.5 }), { name: 'RangeError', message: /T=1 does not match the store's capture temperature 2; a sampled store fixes T/ });
      assert.throws(() => distillationLoss(zs, y, null, { temperature: 1, alpha: 1 }, tf.ones([3]) as tf.Tensor1D), { name: 'RangeError', message: /weights must have shape \[B\] = \[2\], got \[3\]/ });
    });
  });
});
