import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StudentSection } from '../../../../pipeline/config/experiment-config.ts';
import { tf } from '../../../../pipeline/engines/tfjs.ts';
import { buildStudent } from '../../../../stages/train-student/build-student.ts';
import { forEachTestBackend } from '../../../helpers/test-backends.ts';

const mlp: StudentSection = { arch: 'mlp', hidden: [32, 16], activation: 'relu', dropout: 0.2, conv: [] };

async function weights(seed: number, spec: StudentSection = mlp): Promise<Float32Array[]> {
  const s = buildStudent(spec, { featureShape: [784], classes: 10, seed });
  const out = await Promise.all(s.variables.map(async (v) => Float32Array.from(await v.data())));
  s.model.dispose();
  return out;
}

// Student, loss and export code runs on every backend the tests can set up (test/helpers/test-backends.ts).
forEachTestBackend(() => {
  test('seeded initialisation: the same seed gives bit-identical weights, another seed other weights', async () => {
    const a = await weights(1);
    assert.deepEqual(await weights(1), a);
    const b = await weights(2);
    assert.notDeepEqual(b[0], a[0]);
    // Biases start at zero; Glorot-uniform kernels stay within sqrt(6 / (fanIn + fanOut)).
    assert.ok(a[1]!.every((v) => v === 0));
    const limit = Math.sqrt(6 / (784 + 32));
    assert.ok(a[0]!.every((v) => Math.abs(v) <= limit) && a[0]!.some((v) => Math.abs(v) > limit / 2));
  });

  test('mlp: layer sizes, names, parameter count and MACs are what the config says', () => {
    const s = buildStudent(mlp, { featureShape: [784], classes: 10, seed: 1 });
    assert.deepEqual(s.variableNames, ['hidden_1/kernel', 'hidden_1/bias', 'hidden_2/kernel', 'hidden_2/bias', 'logits/kernel', 'logits/bias']);
    assert.equal(s.params, 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
    assert.equal(s.forwardMacs, 784 * 32 + 32 * 16 + 16 * 10);
    const out = tf.tidy(() => s.apply(tf.zeros([3, 784]) as tf.Tensor2D));
    assert.deepEqual(out.shape, [3, 10]);
    out.dispose();
    s.model.dispose();
  });

  test('dropout: masks follow the seed; no seed means no dropout (inference equals model.predict)', async () => {
    const s = buildStudent({ ...mlp, dropout: 0.5 }, { featureShape: [784], classes: 10, seed: 1 });
    const x = tf.randomUniform([4, 784], 0, 1, 'float32', 3) as tf.Tensor2D;
    const d1 = await s.apply(x, 11).data();
    const d1b = await s.apply(x, 11).data();
    const d2 = await s.apply(x, 12).data();
    assert.deepEqual(d1b, d1);
    assert.notDeepEqual(d2, d1);
    const infer = await s.apply(x).data();
    const predicted = await (s.model.predict(x) as tf.Tensor).data();
    assert.deepEqual(infer, predicted);
    s.model.dispose();
    x.dispose();
  });

  test('cnn: conv blocks with pooling on a 28x28 feature, output [B, C]', () => {
    const cnn: StudentSection = { arch: 'cnn', hidden: [16], activation: 'relu', dropout: 0, conv: [{ filters: 4, kernel: 3, pool: true }, { filters: 8, kernel: 3, pool: true }] };
    const s = buildStudent(cnn, { featureShape: [28, 28], classes: 10, seed: 1 });
    assert.deepEqual(s.inputShape, [28, 28, 1]);
    assert.equal(s.params, (9 * 1 * 4 + 4) + (9 * 4 * 8 + 8) + (7 * 7 * 8 * 16 + 16) + (16 * 10 + 10));
    assert.equal(s.forwardMacs, 28 * 28 * 9 * 4 + 14 * 14 * 9 * 4 * 8 + 7 * 7 * 8 * 16 + 16 * 10);
    const out = tf.tidy(() => s.apply(tf.zeros([2, 784]) as tf.Tensor2D));
    assert.deepEqual(out.shape, [2, 10]);
    out.dispose();
    s.model.dispose();
    assert.throws(() => buildStudent(cnn, { featureShape: [10], classes: 3, seed: 1 }), { name: 'ConfigError', message: /student.arch "cnn" needs an image feature .* \[10\]/ });
  });
});

test('BAD CALL a sequence arch is refused by the feature-student builder instead of silently building an MLP', () => {
  assert.throws(() => buildStudent({ ...mlp, arch: 'transformer' }, { featureShape: [4], classes: 3, seed: 1 }), { name: 'ConfigError', message: /student.arch "transformer" is a sequence student/ });
});
