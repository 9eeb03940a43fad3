import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetManifest } from '../../../../pipeline/dataset/dataset-manifest.ts';
import { checkDatasetBindings, checkModelBindings, columnLayout, modelBindingProblems } from '../../../../pipeline/teacher/check-bindings.ts';
import type { TeacherCard } from '../../../../pipeline/teacher/teacher-card.ts';

const card: TeacherCard = {
  formatVersion: 1,
  name: 'cnn',
  model: 'model.onnx',
  sha256: 'a'.repeat(64),
  inputs: [{ name: 'pixels', column: 'pixels', dtype: 'float32', shape: ['batch', 1, 28, 28], preprocess: { scale: 1 / 255 } }],
  output: { name: 'logits', kind: 'logits' },
  classes: { count: 10 },
};
const okOut = [{ name: 'logits', isTensor: true, type: 'float32', shape: ['N', 10] }];

test('a model whose dims are symbolic or equal to the card matches it', () => {
  assert.deepEqual(modelBindingProblems(card, [{ name: 'pixels', isTensor: true, type: 'float32', shape: ['N', 1, 28, 28] }], okOut), []);
  assert.deepEqual(modelBindingProblems(card, [{ name: 'pixels', isTensor: true, type: 'float32', shape: [-1, 1, 'h', 'w'] }], okOut), []);
});

test('BAD CALL each mismatch shows expected and actual name, dtype and shape', () => {
  const p = modelBindingProblems(card, [{ name: 'pixels', isTensor: true, type: 'int32', shape: ['N', 784] }], [{ name: 'probs', isTensor: true, type: 'float32', shape: ['N', 10] }]);
  assert.deepEqual(p, [
    'input: expected "pixels" float32 ["batch", 1, 28, 28] (teacher card), actual "pixels" int32 ["N", 784] (model)',
    'output: expected "logits" float32 ["batch", 10], but the model has no output "logits" (model outputs: "probs" float32 ["N", 10])',
  ]);
  assert.deepEqual(modelBindingProblems(card, [{ name: 'x', isTensor: true, type: 'float32', shape: [1, 1, 28, 28] }], [{ name: 'logits', isTensor: true, type: 'float32', shape: ['N', 12] }]), [
    'input: expected "pixels" float32 ["batch", 1, 28, 28], but the model has no input "pixels" (model inputs: "x" float32 [1, 1, 28, 28])',
    'input: the model also needs "x" float32 [1, 1, 28, 28], which the teacher card does not bind',
    'output: expected "logits" float32 ["batch", 10] (teacher card), actual "logits" float32 ["N", 12] (model)',
  ]);
  // A fixed batch dim of 1 cannot take batches.
  assert.equal(modelBindingProblems(card, [{ name: 'pixels', isTensor: true, type: 'float32', shape: [1, 1, 28, 28] }], okOut).length, 1);
  assert.throws(() => checkModelBindings(card, [], okOut, 'teachers/t/model.onnx'), { name: 'DataError', message: /^teachers\/t\/model\.onnx: the model does not match its teacher card:\n {2}- input: expected "pixels"/ });
});

test('BAD CALL dataset columns must exist and hold the card\'s values per row', () => {
  const manifest = { columns: [{ name: 'row', type: 'int64', role: 'row' }, { name: 'pixels', type: 'fixed_size_list<uint8>[784]', role: 'feature' }, { name: 'label', type: 'uint8', role: 'label' }] } as DatasetManifest;
  checkDatasetBindings(card, manifest, 'card.json', 'data/mnist');
  assert.throws(() => checkDatasetBindings({ ...card, inputs: [{ ...card.inputs[0]!, shape: ['batch', 3, 32, 32] }] }, manifest, 'card.json', 'data/mnist'), {
    name: 'DataError',
    message: 'card.json: the teacher\'s inputs do not match the dataset data/mnist:\n  - expected column "pixels" with 3072 numeric values per row (input "pixels" float32 ["batch", 3, 32, 32]), actual column "pixels": fixed_size_list<uint8>[784] (784 values per row)',
  });
  assert.throws(() => checkDatasetBindings({ ...card, inputs: [{ ...card.inputs[0]!, column: 'image' }] }, manifest, 'card.json', 'data/mnist'), { message: /no such column \(columns: row: int64, pixels: fixed_size_list<uint8>\[784\], label: uint8\)/ });
  assert.deepEqual(columnLayout({ type: 'fixed_size_list<float32>[3]' }), { dtype: 'float32', width: 3 });
  assert.equal(columnLayout({ type: 'utf8' }), null);
});

const sequence = (maxLength: number) => ({ maxLength, padding: 'right' as const, padValue: 0, lengths: { min: 2, mean: 3, max: maxLength } });

test('list<T> and large_list<T> columns bind with the width their manifest sequence declares (read padded to maxLength)', () => {
  assert.deepEqual(columnLayout({ type: 'list<float32>', sequence: sequence(784) }), { dtype: 'float32', width: 784 });
  assert.deepEqual(columnLayout({ type: 'large_list<uint8>', sequence: sequence(784) }), { dtype: 'uint8', width: 784 });
  assert.equal(columnLayout({ type: 'list<float32>' }), null, 'a list the manifest does not size has no width');
  const manifest = { columns: [{ name: 'row', type: 'int64', role: 'row' }, { name: 'pixels', type: 'list<uint8>', role: 'feature', sequence: sequence(784) }] } as DatasetManifest;
  checkDatasetBindings(card, manifest, 'card.json', 'data/lists');
  const short = { columns: [manifest.columns[0]!, { ...manifest.columns[1]!, sequence: sequence(700) }] } as DatasetManifest;
  assert.throws(() => checkDatasetBindings(card, short, 'card.json', 'data/lists'), {
    name: 'DataError',
    message: 'card.json: the teacher\'s inputs do not match the dataset data/lists:\n  - expected column "pixels" with 784 numeric values per row (input "pixels" float32 ["batch", 1, 28, 28]), actual column "pixels": list<uint8> (700 values per row); a list column is read padded to its maximum length (re-index with --max-length pixels=784)',
  });
  const floats = { columns: [manifest.columns[0]!, { name: 'ids', type: 'large_list<float32>', role: 'feature', sequence: sequence(8) }] } as DatasetManifest;
  assert.throws(() => checkDatasetBindings({ ...card, inputs: [{ name: 'ids', column: 'ids', dtype: 'int64', shape: ['batch', 8] }] }, floats, 'card.json', 'data/lists'), { message: /actual column "ids": large_list<float32>; a float column cannot feed an integer input/ });
});
