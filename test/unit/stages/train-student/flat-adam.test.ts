/** FlatAdamOptimizer: bit-identical to tfjs's own Adam, fewer kernels, and checkpoints either one can resume. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf } from '../../../../pipeline/engines/tfjs.ts';
import { mulberry32 } from '../../../../pipeline/seeded-random.ts';
import type { BatchTensors } from '../../../../stages/train-student/batch-tensors.ts';
import { buildStudent } from '../../../../stages/train-student/build-student.ts';
import type { StudentModel } from '../../../../stages/train-student/build-student.ts';
import { FlatAdamOptimizer } from '../../../../stages/train-student/flat-adam.ts';
import { restoreOptimizerState, saveOptimizerState } from '../../../../stages/train-student/optimizer-state.ts';
import { trainStep } from '../../../../stages/train-student/train-step.ts';
import { forEachTestBackend } from '../../../helpers/test-backends.ts';

const F = 30;
const C = 6;
const LOSS = { temperature: 3, alpha: 0.2 };

function batches(n: number): BatchTensors[] {
  const r = mulberry32(7);
  return Array.from({ length: n }, () => ({
    x: tf.tensor2d(Float32Array.from({ length: 16 * F }, () => r()), [16, F]),
    labels: tf.tensor1d(Int32Array.from({ length: 16 }, () => Math.floor(r() * C)), 'int32'),
    targets: { kind: 'dense' as const, logits: tf.tensor2d(Float32Array.from({ length: 16 * C }, () => 4 * r() - 2), [16, C]) },
  }));
}

function student(): StudentModel {
  return buildStudent({ arch: 'mlp', hidden: [12, 9], activation: 'relu', dropout: 0, conv: [] }, { featureShape: [F], classes: C, seed: 5 });
}

function weights(s: StudentModel): Float32Array[] {
  return s.variables.map((v) => Float32Array.from(v.dataSync()));
}

forEachTestBackend(() => {
  test('FlatAdamOptimizer trains bit-identically to tf.train.adam, with fewer kernels per step', async () => {
    const data = batches(5);
    const [a, b] = [student(), student()];
    const [oa, ob] = [tf.train.adam(0.01), new FlatAdamOptimizer(0.01, 0.9, 0.999)];
    for (let step = 0; step < 25; step++) {
      trainStep(a, oa, data[step % 5]!, LOSS, step).dispose();
      trainStep(b, ob, data[step % 5]!, LOSS, step).dispose();
    }
    assert.deepEqual(weights(b), weights(a));
    const kernels = async (s: StudentModel, o: tf.Optimizer): Promise<number> => (await tf.profile(() => trainStep(s, o, data[0]!, LOSS, 0).dispose())).kernels.length;
    const [ka, kb] = [await kernels(a, oa), await kernels(b, ob)];
    // 6 variables: tfjs runs 14 kernels each (84); the flat update 13 + 6 reshapes + concat + split + 6 reshapes + 6 adds (33).
    assert.equal(ka - kb, 84 - 33, `kernels per step: tf.train.adam ${ka}, flat ${kb}`);
    const before = tf.memory().numTensors;
    trainStep(b, ob, data[1]!, LOSS, 1).dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensor kept by a step');
    tf.dispose(data.flatMap((d) => [d.x, d.labels, ...(d.targets?.kind === 'dense' ? [d.targets.logits] : [])]));
    [a, b].forEach((s) => s.model.dispose());
    oa.dispose();
    ob.dispose();
  });

  test("a checkpoint of either Adam resumes in the other, bit-identically (tfjs's slot layout)", async () => {
    const data = batches(4);
    const run = async (first: () => tf.Optimizer, second: (() => tf.Optimizer) | null): Promise<Float32Array[]> => {
      const s = student();
      let opt = first();
      for (let step = 0; step < 14; step++) {
        if (step === 6 && second) {
          const state = await saveOptimizerState(opt);
          opt.dispose();
          opt = second();
          await restoreOptimizerState(opt, state, 'test');
        }
        trainStep(s, opt, data[step % 4]!, LOSS, step).dispose();
      }
      const w = weights(s);
      s.model.dispose();
      opt.dispose();
      return w;
    };
    const tfAdam = (): tf.Optimizer => tf.train.adam(0.01);
    const flat = (): tf.Optimizer => new FlatAdamOptimizer(0.01, 0.9, 0.999);
    const straight = await run(tfAdam, null);
    assert.deepEqual(await run(tfAdam, flat), straight, 'tfjs Adam -> flat');
    assert.deepEqual(await run(flat, tfAdam), straight, 'flat -> tfjs Adam');
    assert.deepEqual(await run(flat, flat), straight, 'flat -> flat');
    const names = (await saveOptimizerState(new FlatAdamOptimizer(0.01, 0.9, 0.999))).map((w) => w.name);
    assert.deepEqual(names.slice(0, 1), ['iter'], 'a fresh optimizer saves its iteration count only');
    tf.dispose(data.flatMap((d) => [d.x, d.labels, ...(d.targets?.kind === 'dense' ? [d.targets.logits] : [])]));
  });

  test('FlatAdamOptimizer refuses a step whose variables changed or lack a gradient', () => {
    const opt = new FlatAdamOptimizer(0.01, 0.9, 0.999);
    const v1 = tf.variable(tf.ones([3]), true, 'flat-adam-test-v1');
    const v2 = tf.variable(tf.ones([2]), true, 'flat-adam-test-v2');
    opt.applyGradients({ [v1.name]: tf.ones([3]) });
    assert.throws(() => opt.applyGradients({ [v1.name]: tf.ones([3]), [v2.name]: tf.ones([2]) }), /variables changed between steps \(sizes 3 -> 3, 2/);
    assert.throws(() => opt.applyGradients([{ name: v1.name, tensor: null as unknown as tf.Tensor }]), /no gradient for flat-adam-test-v1/);
    tf.dispose([v1, v2]);
    opt.dispose();
  });
});
