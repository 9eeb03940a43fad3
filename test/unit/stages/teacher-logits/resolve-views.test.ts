import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TeacherLogitsSection } from '../../../../pipeline/config/experiment-config.ts';
import type { DatasetManifest } from '../../../../pipeline/dataset/dataset-manifest.ts';
import type { TeacherCard } from '../../../../pipeline/teacher/teacher-card.ts';
import { resolveViews } from '../../../../stages/teacher-logits/resolve-views.ts';

const card = (column = 'pixels', inputs = 1): TeacherCard => ({
  formatVersion: 1,
  name: 't',
  model: 'model.onnx',
  sha256: '0'.repeat(64),
  inputs: Array.from({ length: inputs }, (_, i) => ({ name: `in${i}`, column, dtype: 'float32' as const, shape: ['batch' as const, 784] })),
  output: { name: 'logits', kind: 'logits' },
  classes: { count: 10 },
});
const dataset = {
  columns: [
    { name: 'pixels', type: 'fixed_size_list<uint8>[784]', role: 'feature', shape: [28, 28] },
    { name: 'flat', type: 'fixed_size_list<uint8>[784]', role: 'feature' },
    { name: 'x', type: 'fixed_size_list<float32>[8]', role: 'feature' },
    { name: 'ids', type: 'fixed_size_list<int32>[8]', role: 'feature' },
  ],
} as unknown as DatasetManifest;
const cfg = (views: unknown, mode: 'dense' | 'topk' | 'sampled' = 'dense'): TeacherLogitsSection => ({ encoding: { mode }, views } as unknown as TeacherLogitsSection);

test('resolveViews: an image policy records the column and its geometry; a noise policy a float column; none without views', () => {
  assert.equal(resolveViews(cfg(undefined), card(), dataset, null), null);
  assert.deepEqual(resolveViews(cfg({ count: 8, image: { shift: 2 } }), card(), dataset, null), {
    count: 8,
    seed: 0,
    column: 'pixels',
    augment: { kind: 'image', shift: 2, rotation: 0, scale: 0, geometry: { height: 28, width: 28, channels: 1, layout: 'hwc' } },
  });
  assert.deepEqual(resolveViews(cfg({ count: 2, seed: 4, noise: { sd: 0.1 } }, 'topk'), card('x'), dataset, null), { count: 2, seed: 4, column: 'x', augment: { kind: 'noise', sd: 0.1 } });
});

test('BAD CALL resolveViews refuses token teachers, several inputs, sampled targets, neither/both policies, no-op images, wrong column types', () => {
  const refuse = (c: TeacherLogitsSection, t: TeacherCard, message: RegExp, seq: unknown = null): void => {
    assert.throws(() => resolveViews(c, t, dataset, seq as never), { name: 'ConfigError', message });
  };
  refuse(cfg({ count: 2, image: { shift: 1 } }), card('ids'), /views of token inputs are not supported \(the teacher is a causal LM\)/, { target: 'next-token', context: 8, positions: 7, maskColumn: null });
  refuse(cfg({ count: 2, image: { shift: 1 } }), card('pixels', 2), /the teacher has 2 inputs \(in0, in1\)/);
  refuse(cfg({ count: 2, image: { shift: 1 } }, 'sampled'), card(), /dense or topk encodings, not sampled/);
  refuse(cfg({ count: 2 }), card(), /exactly one of "image" .* or "noise" .*, but got neither/);
  refuse(cfg({ count: 2, image: { rotation: 0 } }), card(), /all 0, so every view would be the unaugmented input/);
  refuse(cfg({ count: 2, noise: { sd: 1 } }), card(), /column "pixels" holds uint8 values; noise views need a float32\/float64 column/);
  refuse(cfg({ count: 2, image: { shift: 1 } }), card('ids'), /column "ids" holds int32 values; image views need uint8/);
  assert.throws(() => resolveViews(cfg({ count: 2, image: { shift: 1 } }), card('flat'), dataset, null), { name: 'DataError', message: /feature "flat" has shape null; image corruptions and augmentations need an image shape/ });
});
