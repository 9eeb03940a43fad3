/**
 * Export parity: small tfjs models built with tf.sequential are converted to ONNX, loaded by ONNX
 * Runtime (the independent implementation) and must give tfjs's outputs within 1e-4 on random
 * inputs. Shapes are deliberately non-square with several channels, so a wrong kernel transpose or
 * flatten order (NCHW vs NHWC) cannot pass by symmetry.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSession } from '../../../../pipeline/engines/onnxruntime.ts';
import { tf } from '../../../../pipeline/engines/tfjs.ts';
import { encodeModel } from '../../../../pipeline/onnx/encode-model.ts';
import { silentReporter } from '../../../../pipeline/reporter.ts';
import { layersToOnnx } from '../../../../pipeline/export/layers-to-onnx.ts';
import { predictLayersModel } from '../../../../pipeline/student/predict-layers-model.ts';
import { mulberry32 } from '../../../fixtures/tiny-teacher.ts';
import { forEachTestBackend } from '../../../helpers/test-backends.ts';

const TOL = 1e-4;

function randomUniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

/** Sets every weight of `model` to seeded uniform values in [-0.5, 0.5) (biases too, so they matter). */
function seedWeights(model: tf.LayersModel, seed: number): void {
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(randomUniform(w.size, seed + i, -0.5, 0.5), w.shape)));
}

async function maxAbsDiff(model: tf.LayersModel, rows: number, seed: number): Promise<{ diff: number; outputs: Float32Array }> {
  const converted = layersToOnnx(model, { inputName: 'pixels' });
  const inShape = converted.inputShape;
  const width = inShape.reduce((a, b) => a * b, 1);
  const x = randomUniform(rows * width, seed);
  const expected = predictLayersModel(model, x, rows, 1, 7);
  const { session } = await openSession(encodeModel(converted.spec), { device: 'cpu', intraOpThreads: 1 }, silentReporter);
  try {
    assert.deepEqual(session.inputMetadata[0]!.shape, ['batch', ...inShape]);
    const out = await session.run({ pixels: { type: 'float32', data: x, dims: [rows, ...inShape] } });
    const got = out.logits!;
    assert.deepEqual(got.dims, [rows, converted.outputSize]);
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs((got.data[i] as number) - expected[i]!));
    return { diff, outputs: expected };
  } finally {
    await session.release();
  }
}

// Student, loss and export code runs on every backend the tests can set up (test/helpers/test-backends.ts).
forEachTestBackend(() => {
  void test('MLP (dense relu/tanh/elu/sigmoid + dropout) exports within 1e-4 of tfjs', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [20], units: 16, activation: 'relu' }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.dense({ units: 12, activation: 'tanh' }),
        tf.layers.dense({ units: 8, activation: 'elu' }),
        tf.layers.dense({ units: 6, activation: 'sigmoid', useBias: false }),
        tf.layers.dense({ units: 5 }),
      ],
    });
    seedWeights(model, 10);
    const converted = layersToOnnx(model, { inputName: 'pixels' });
    assert.deepEqual(converted.spec.graph.nodes.map((n) => n.opType), ['Gemm', 'Relu', 'Gemm', 'Tanh', 'Gemm', 'Elu', 'Gemm', 'Sigmoid', 'Gemm']);
    // 20*16+16 + 16*12+12 + 12*8+8 + 8*6 + 6*5+5 = 336 + 204 + 104 + 48 + 35 = 727.
    assert.equal(converted.parameters, 727);
    assert.equal(converted.parameters, model.countParams());
    assert.equal(converted.outputKind, 'logits');
    const { diff, outputs } = await maxAbsDiff(model, 33, 1);
    assert.ok(diff <= TOL, `max abs diff ${diff}`);
    assert.ok(Math.max(...outputs) - Math.min(...outputs) > 0.1, 'outputs are not degenerate');
    model.dispose();
  });

  void test('CNN (conv same/valid, strides, non-square kernel, max and average pooling, flatten) exports within 1e-4', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [11, 9, 2], filters: 3, kernelSize: [3, 2], padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
        tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: [2, 1], padding: 'valid', activation: 'tanh' }),
        tf.layers.averagePooling2d({ poolSize: [1, 2], strides: [1, 2], padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 7, activation: 'relu' }),
        tf.layers.dense({ units: 4 }),
      ],
    });
    seedWeights(model, 20);
    const converted = layersToOnnx(model, { inputName: 'pixels' });
    const ops = converted.spec.graph.nodes.map((n) => n.opType);
    assert.deepEqual(ops, ['Transpose', 'Conv', 'Relu', 'MaxPool', 'Conv', 'Tanh', 'AveragePool', 'Transpose', 'Flatten', 'Gemm', 'Relu', 'Gemm']);
    assert.equal(converted.parameters, model.countParams());
    const { diff } = await maxAbsDiff(model, 9, 2);
    assert.ok(diff <= TOL, `max abs diff ${diff}`);
    model.dispose();
  });

  void test('CNN fed flat pixels through a Reshape (MNIST-shaped), dilated conv, exports within 1e-4', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.reshape({ inputShape: [784], targetShape: [28, 28, 1] }),
        tf.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'elu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 5, kernelSize: 5, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 3, strides: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    seedWeights(model, 30);
    const converted = layersToOnnx(model, { inputName: 'pixels' });
    assert.equal(converted.outputKind, 'probs');
    assert.deepEqual(converted.inputShape, [784]);
    const { diff } = await maxAbsDiff(model, 6, 3);
    assert.ok(diff <= TOL, `max abs diff ${diff}`);
    model.dispose();
  });

  void test('BAD CALL unsupported layers and activations are refused naming the layer and what is supported', () => {
    const bn = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 }), tf.layers.batchNormalization({ name: 'bn' })] });
    assert.throws(() => layersToOnnx(bn, { inputName: 'x' }), { name: 'DataError', message: /layer bn \(BatchNormalization\) is not supported.*supported: InputLayer, Dense, Conv2D/ });
    const swish = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'swish', name: 'd' })] });
    assert.throws(() => layersToOnnx(swish, { inputName: 'x' }), { name: 'DataError', message: /layer d: activation "swish" is not supported/ });
    const dense3d = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4, 5], units: 3, name: 'd3' })] });
    assert.throws(() => layersToOnnx(dense3d, { inputName: 'x' }), { name: 'DataError', message: /layer d3 \(Dense\) gets a rank-3 input/ });
    for (const m of [bn, swish, dense3d]) m.dispose();
  });
});
