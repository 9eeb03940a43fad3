import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../../pipeline/engines/tfjs.ts';
import { addSequenceMetrics, emptySequenceSums, finishSequenceMetrics } from '../../../../stages/train-student/sequence-metrics.ts';

/** Float64 reference over rows with weight 1: NLL (labels >= 0 only), agreement, KL at T = 1. */
function reference(zs: number[][], zt: number[][], y: number[], w: number[]): { nll: number; tNll: number; agreement: number; kl: number } {
  const logSoftmax = (z: number[]): number[] => {
    const m = Math.max(...z);
    const l = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    return z.map((v) => v - l);
  };
  const argmax = (z: number[]): number => z.indexOf(Math.max(...z));
  let nll = 0, tNll = 0, n = 0, agree = 0, kl = 0, pos = 0;
  zs.forEach((z, i) => {
    if (w[i] === 0) return;
    const q = logSoftmax(z);
    const p = logSoftmax(zt[i]!);
    pos++;
    agree += argmax(z) === argmax(zt[i]!) ? 1 : 0;
    kl += p.reduce((s, lp, j) => s + Math.exp(lp) * (lp - q[j]!), 0);
    if (y[i]! < 0) return;
    n++;
    nll -= q[y[i]!]!;
    tNll -= p[y[i]!]!;
  });
  return { nll: nll / n, tNll: tNll / n, agreement: agree / pos, kl: kl / pos };
}

test('sequence metrics over two batches match the float64 reference (padding and -100 skipped)', async () => {
  const zs = [[1, 2, 0.5], [0, -1, 3], [2, 2.5, -1], [0.3, 0.1, 0.2], [5, 0, 0]];
  const zt = [[0, 3, 1], [1, 0, 2], [4, 0, 0], [0, 0, 1], [0, 5, 0]];
  const y = [1, 2, -100, 0, 1];
  const w = [1, 1, 1, 1, 0];
  const sums = emptySequenceSums(true, true, true);
  for (const [a, b] of [[0, 2], [2, 5]] as const) {
    const logits = tf.tensor2d(zs.slice(a, b));
    const labels = tf.tensor1d(y.slice(a, b), 'int32');
    const weights = tf.tensor1d(w.slice(a, b));
    const targets = { kind: 'dense' as const, logits: tf.tensor2d(zt.slice(a, b)) };
    await addSequenceMetrics(sums, logits, labels, weights, targets);
    tf.dispose([logits, labels, weights, targets.logits]);
  }
  const m = finishSequenceMetrics(sums);
  const ref = reference(zs, zt, y, w);
  const close = (a: number | null, b: number, what: string): void => assert.ok(a !== null && Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);
  close(m.nll, ref.nll, 'nll');
  close(m.perplexity, Math.exp(ref.nll), 'perplexity');
  close(m.teacherNll, ref.tNll, 'teacher nll');
  close(m.agreement, ref.agreement, 'agreement');
  close(m.kl, ref.kl, 'kl');
  assert.equal(m.positions, 4);
});
