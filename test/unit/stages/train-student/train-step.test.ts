import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf } from '../../../../pipeline/engines/tfjs.ts';
import { batchTensors, disposeBatch } from '../../../../stages/train-student/batch-tensors.ts';
import { buildStudent } from '../../../../stages/train-student/build-student.ts';
import type { HostBatch } from '../../../../stages/train-student/host-batch.ts';
import { createOptimizer, restoreOptimizerState, saveOptimizerState } from '../../../../stages/train-student/optimizer-state.ts';
import { mulberry32 } from '../../../../pipeline/seeded-random.ts';
import { trainStep } from '../../../../stages/train-student/train-step.ts';
import { forEachTestBackend } from '../../../helpers/test-backends.ts';

const F = 20;
const C = 5;

/** A learnable toy batch: the label is the argmax of the first C features; the teacher logits are 4x those features. */
function toyBatch(seed: number, n: number, topk = false): HostBatch {
  const r = mulberry32(seed);
  const x = Float32Array.from({ length: n * F }, () => r());
  const labels = new Int32Array(n);
  const logits = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < C; c++) {
      logits[i * C + c] = 4 * x[i * F + c]!;
      if (x[i * F + c]! > x[i * F + best]!) best = c;
    }
    labels[i] = best;
  }
  const b: HostBatch = { size: n, x, labels, rows: Int32Array.from({ length: n }, (_, i) => i) };
  if (!topk) return { ...b, logits };
  return { ...b, topkIndex: Int32Array.from({ length: n * 2 }, (_, j) => (j % 2 === 0 ? labels[j >> 1]! : (labels[j >> 1]! + 1) % C)), topkLogit: new Float32Array(n * 2).fill(1), tailLogSumExp: new Float32Array(n).fill(0) };
}

// Student, loss and export code runs on every backend the tests can set up (test/helpers/test-backends.ts).
forEachTestBackend(() => {
  for (const [optimizer, topk] of [['adam', false], ['momentum', true], ['sgd', false]] as const) {
    test(`${optimizer}${topk ? ' (top-k targets)' : ''}: no tensor leaks across steps, and the loss goes down`, () => {
      const student = buildStudent({ arch: 'mlp', hidden: [16], activation: 'relu', dropout: 0.1, conv: [] }, { featureShape: [F], classes: C, seed: 1 });
      const opt = createOptimizer({ optimizer, learningRate: optimizer === 'sgd' ? 0.5 : 0.05 });
      const encoding = topk ? { mode: 'topk' as const, precision: 'float32' as const, classes: C, k: 2, temperature: 2 } : { mode: 'dense' as const, precision: 'float32' as const, classes: C };
      const loss = { temperature: 2, alpha: 0.5 };
      const hb = toyBatch(1, 64, topk);
      const losses: number[] = [];
      let after2 = 0;
      for (let step = 0; step < 30; step++) {
        const bt = batchTensors(hb, F, encoding, 'bucket');
        const cost = trainStep(student, opt, bt, loss, step);
        losses.push(cost.dataSync()[0]!);
        cost.dispose();
        disposeBatch(bt);
        // Optimizer slots are created on the first steps; from then on the count must not move.
        if (step === 2) after2 = tf.memory().numTensors;
        if (step > 2) assert.equal(tf.memory().numTensors, after2, `tensors at step ${step}`);
      }
      assert.ok(losses[29]! < losses[0]! * 0.8, `loss ${losses[0]} -> ${losses[29]}`);
      student.model.dispose();
      opt.dispose();
    });
  }

  test('optimizer state round-trips bit-exactly (Adam beta powers included)', async () => {
    const run = async (restoreAt: number | null): Promise<Float32Array> => {
      const student = buildStudent({ arch: 'mlp', hidden: [8], activation: 'tanh', dropout: 0, conv: [] }, { featureShape: [F], classes: C, seed: 3 });
      let opt = createOptimizer({ optimizer: 'adam', learningRate: 0.01 });
      const enc = { mode: 'dense' as const, precision: 'float32' as const, classes: C };
      for (let step = 0; step < 12; step++) {
        if (step === restoreAt) {
          const state = await saveOptimizerState(opt);
          opt.dispose();
          opt = createOptimizer({ optimizer: 'adam', learningRate: 0.01 });
          await restoreOptimizerState(opt, state, 'test');
        }
        const bt = batchTensors(toyBatch(step, 16), F, enc, 'bucket');
        trainStep(student, opt, bt, { temperature: 3, alpha: 0.2 }, step).dispose();
        disposeBatch(bt);
      }
      const w = Float32Array.from(await student.variables[0]!.data());
      student.model.dispose();
      opt.dispose();
      return w;
    };
    assert.deepEqual(await run(7), await run(null));
  });
});
