import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StudentSection } from '../../../../../pipeline/config/experiment-config.ts';
import { tf } from '../../../../../pipeline/engines/tfjs.ts';
import { mulberry32 as rng } from '../../../../../pipeline/seeded-random.ts';
import { buildSequenceStudent } from '../../../../../pipeline/student/sequence/build-sequence-student.ts';
import { embed } from '../../../../../pipeline/student/sequence/embedding-block.ts';
import { sequenceBatchTensors } from '../../../../../stages/train-student/sequence-batch.ts';
import type { SequenceShape } from '../../../../../pipeline/student/sequence/sequence-student.ts';
import { sequenceTrainStep } from '../../../../../stages/train-student/sequence-train-step.ts';
import { forEachTestBackend } from '../../../../helpers/test-backends.ts';

const V = 11;
const L = 6;
const base: StudentSection = { arch: 'transformer', hidden: [16], activation: 'relu', dropout: 0, conv: [], dModel: 8, layers: 2, heads: 2, mlpRatio: 2, window: 2 };
const ARCHS = ['embedding', 'window-mlp', 'gru', 'lstm', 'transformer'] as const;

function shapeFor(causal: boolean, embedding: 'gather' | 'one-hot' = 'one-hot'): SequenceShape {
  return { vocab: V, context: L, causal, seed: 3, embedding };
}

function logitsOf(spec: StudentSection, shape: SequenceShape, ids: number[][], mask: number[][]): number[][][] {
  const s = buildSequenceStudent(spec, shape);
  try {
    return tf.tidy(() => s.apply(tf.tensor2d(ids, undefined, 'int32'), tf.tensor2d(mask)).arraySync());
  } finally {
    s.dispose();
  }
}

function maxDiff(a: number[], b: number[]): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
}

const ids = [[1, 4, 2, 7, 3, 9], [5, 5, 8, 0, 0, 0]];
const mask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]];

forEachTestBackend((backend) => {
  test('gather and one-hot embeddings give the same vectors and (where gather has a gradient) the same gradient', () => {
    tf.tidy(() => {
      const table = tf.randomNormal([V, 5], 0, 1, 'float32', 4) as tf.Tensor2D;
      const x = tf.tensor2d(ids, undefined, 'int32');
      assert.ok(maxDiff(embed(table, x, 'gather').dataSync() as unknown as number[], Array.from(embed(table, x, 'one-hot').dataSync())) <= 1e-6);
      if (backend === 'wasm') return; // UnsortedSegmentSum (gather's gradient) is not registered on wasm
      const g = (m: 'gather' | 'one-hot'): number[] => Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.square(embed(t as tf.Tensor2D, x, m))))(table).dataSync());
      assert.ok(maxDiff(g('gather'), g('one-hot')) <= 1e-6);
    });
  });

  for (const arch of ARCHS) {
    test(`${arch}: logits [B, L, V], parameter count = the variables, seeded (same seed same logits)`, () => {
      const spec = { ...base, arch };
      const causal = arch !== 'gru' && arch !== 'lstm' ? true : false;
      const a = logitsOf(spec, shapeFor(causal), ids, mask);
      assert.deepEqual([a.length, a[0]!.length, a[0]![0]!.length], [2, L, V]);
      assert.deepEqual(a, logitsOf(spec, shapeFor(causal), ids, mask));
      const other = logitsOf(spec, { ...shapeFor(causal), seed: 4 }, ids, mask);
      assert.ok(maxDiff(a.flat(2), other.flat(2)) > 1e-4, 'another seed gives other weights');
      const s = buildSequenceStudent(spec, shapeFor(causal));
      assert.equal(s.params, s.variables.reduce((n, v) => n + v.size, 0));
      assert.equal(s.variableNames.length, s.variables.length);
      s.dispose();
    });
  }

  test('parameter counts and MACs per token by hand: transformer and window-mlp', () => {
    const t = buildSequenceStudent(base, shapeFor(true));
    const d = 8;
    const h = 16;
    assert.equal(t.params, V * d + L * d + 2 * (4 * d * d + d + 4 * d + d * h + h + h * d + d) + 2 * d + d * V + V);
    assert.equal(t.macsPerToken, 2 * (4 * d * d + 2 * d * h + 2 * L * d) + d * V);
    t.dispose();
    const w = buildSequenceStudent({ ...base, arch: 'window-mlp' }, shapeFor(true));
    assert.equal(w.params, V * d + 2 * d * 16 + 16 + 16 * V + V); // causal window 2: this token and the one before
    assert.equal(w.macsPerToken, 2 * d * 16 + 16 * V);
    w.dispose();
  });

  for (const arch of ['transformer', 'window-mlp', 'gru', 'lstm'] as const) {
    test(`${arch} causal: logits at position t do not depend on tokens after t`, () => {
      const spec = { ...base, arch };
      const a = logitsOf(spec, shapeFor(true), ids, mask);
      const changed = ids.map((row) => row.map((x, i) => (i >= 3 ? (x + 5) % V : x)));
      const b = logitsOf(spec, shapeFor(true), changed, mask);
      for (let r = 0; r < 2; r++) for (let t = 0; t < 3; t++) assert.ok(maxDiff(a[r]![t]!, b[r]![t]!) <= 1e-5, `row ${r} position ${t}`);
      assert.ok(maxDiff(a[0]![4]!, b[0]![4]!) > 1e-5, 'later positions do see the change');
    });
  }

  for (const [arch, bidirectional] of [['transformer', false], ['window-mlp', false], ['gru', true], ['lstm', true]] as const) {
    test(`${arch} ${bidirectional ? 'bidirectional ' : ''}token classification: padding tokens do not change real positions`, () => {
      const spec = { ...base, arch, bidirectional };
      const a = logitsOf(spec, shapeFor(false), ids, mask);
      const changed = [ids[0]!, [5, 5, 8, 6, 2, 9]];
      const b = logitsOf(spec, shapeFor(false), changed, mask);
      for (let t = 0; t < 3; t++) assert.ok(maxDiff(a[1]![t]!, b[1]![t]!) <= 1e-5, `position ${t}`);
    });
  }

  for (const arch of ['transformer', 'window-mlp'] as const) {
    test(`${arch}: sequence train steps on dense targets lower the loss, no tensor leak`, () => {
      const s = buildSequenceStudent({ ...base, arch }, shapeFor(true));
      const opt = tf.train.adam(0.01);
      const r = rng(5);
      const hb = { size: 4, context: L, ids: Int32Array.from({ length: 4 * L }, () => Math.floor(r() * V)), mask: new Uint8Array(4 * L).fill(1) };
      const zt = tf.randomNormal([4 * (L - 1), V], 0, 3, 'float32', 6) as tf.Tensor2D;
      const before = tf.memory().numTensors;
      const losses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const bt = sequenceBatchTensors(hb, 'next-token', { kind: 'dense', logits: zt });
        const cost = sequenceTrainStep(s, opt, bt, { temperature: 2, alpha: 0.2 });
        losses.push(cost.dataSync()[0]!);
        tf.dispose([cost, bt.ids, bt.mask, bt.labels, bt.weights]);
        if (i === 0) assert.ok(tf.memory().numTensors - before <= 2 * s.variables.length + 4, 'only optimizer slots are new after a step');
      }
      const afterFirst = tf.memory().numTensors;
      assert.ok(losses[29]! < 0.7 * losses[0]!, `loss ${losses[0]} -> ${losses[29]}`);
      assert.equal(tf.memory().numTensors, afterFirst);
      zt.dispose();
      opt.dispose();
      s.dispose();
    });
  }

  test('BAD CALL a context longer than the position table, heads not dividing dModel, a bidirectional causal LM', () => {
    assert.throws(() => buildSequenceStudent({ ...base, context: 4 }, shapeFor(true)), { name: 'ConfigError', message: /context is 6 tokens, longer than the student's position table \(student.context = 4\)/ });
    assert.throws(() => buildSequenceStudent({ ...base, heads: 3 }, shapeFor(true)), { name: 'ConfigError', message: /student.dModel \(8\) must be a multiple of student.heads \(3\)/ });
    assert.throws(() => buildSequenceStudent({ ...base, arch: 'gru', bidirectional: true }, shapeFor(true)), { name: 'ConfigError', message: /bidirectional is true, but the task is a causal LM/ });
    assert.throws(() => buildSequenceStudent({ ...base, arch: 'mlp' }, shapeFor(true)), { name: 'ConfigError', message: /"mlp" is not a sequence student/ });
  });
});
