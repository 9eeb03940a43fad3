/** Parameter counts read back from ONNX bytes written by encodeModel (sizes worked out by hand). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeModel } from '../../../../pipeline/onnx/encode-model.ts';
import { countOnnxParameters } from '../../../../stages/evaluate/count-onnx-parameters.ts';
import { makeTinyTeacher } from '../../../fixtures/tiny-teacher.ts';

void test('initializers: the tiny teacher has 784*16 + 16 + 16*10 + 10 = 12,730 parameters', () => {
  assert.equal(countOnnxParameters(makeTinyTeacher().bytes), 12730);
  // 300 * 7 = 2100 weights + 7 + 7 * 3 = 21 + 3 = 2131.
  assert.equal(countOnnxParameters(makeTinyTeacher({ inputSize: 300, hidden: 7, classes: 3 }).bytes), 2131);
});

void test('float Constant nodes count, integer tensors (shapes, indices) do not', () => {
  const bytes = encodeModel({
    graph: {
      name: 'g',
      nodes: [
        { opType: 'Constant', inputs: [], outputs: ['w'], attributes: { value: { t: { name: 'w', dtype: 'float32', dims: [3, 4], data: new Float32Array(12) } } } },
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y0'] },
        { opType: 'Reshape', inputs: ['y0', 'shape'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'shape', dtype: 'int64', dims: [2], data: new BigInt64Array([-1n, 4n]) },
        { name: 'unused_half', dtype: 'float16', dims: [5], data: new Uint16Array(5) },
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 4] }],
    },
  });
  assert.equal(countOnnxParameters(bytes), 12 + 5);
  assert.throws(() => countOnnxParameters(new Uint8Array([0x0f, 0x01]), 'x.onnx'), { name: 'DataError', message: /x\.onnx: the ONNX model has no graph/ });
  // field 7 (graph) announces 5 bytes, 1 follows
  assert.throws(() => countOnnxParameters(new Uint8Array([0x3a, 0x05, 0x01]), 'y.onnx'), { name: 'DataError', message: /y\.onnx: not an ONNX model \(the onnx-proto decoder says: index out of range/ });
});

void test('PyTorch exports: the committed demo teachers decode with onnx-proto and count their weights', async () => {
  const { readFile } = await import('node:fs/promises');
  // artifacts/teachers/mnist-cnn/README.md: 421,642 parameters (conv 1->32 3x3, conv 32->64 3x3, fc 3136->128, fc 128->10:
  // 320 + 18,496 + 401,536 + 1,290), plus the normalisation's two scalar constants (mean 0.1307, std 0.3081) in the graph.
  assert.equal(countOnnxParameters(await readFile('artifacts/teachers/mnist-cnn/model.onnx'), 'mnist-cnn'), 421_642 + 2);
});
