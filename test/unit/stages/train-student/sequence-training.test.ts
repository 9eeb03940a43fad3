/**
 * Sequence students train from tiny dense, top-k and sampled per-position shards (written with the
 * store's shardTable and read back through Parquet + decodeShard), and bad stores are refused before
 * the first step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StudentSection } from '../../../../pipeline/config/experiment-config.ts';
import { tf } from '../../../../pipeline/engines/tfjs.ts';
import type { StoreEncoding } from '../../../../pipeline/store/soft-target-store.ts';
import { buildSequenceStudent } from '../../../../pipeline/student/sequence/build-sequence-student.ts';
import { agreementAndKl } from '../../../../stages/train-student/distillation-loss.ts';
import { flattenPositions, sequenceBatchTensors } from '../../../../stages/train-student/sequence-batch.ts';
import type { SequenceHostBatch } from '../../../../stages/train-student/sequence-batch.ts';
import { checkSequenceStore, checkStoreLengths, sequenceTargets } from '../../../../stages/train-student/sequence-targets.ts';
import { sequenceTrainStep } from '../../../../stages/train-student/sequence-train-step.ts';
import { bigramTeacher, roundTripShard, sequenceColumns, tinyEncoding, tinyTokens } from '../../../helpers/write-test-sequence-store.ts';
import { forEachTestBackend } from '../../../helpers/test-backends.ts';

const V = 10;
const L = 8;
const T = 2;
const tokens = tinyTokens(12, L, V, 1);
const teacher = bigramTeacher(tokens, 2);
const specs: Record<'transformer' | 'window-mlp', StudentSection> = {
  transformer: { arch: 'transformer', hidden: [], activation: 'relu', dropout: 0, conv: [], dModel: 16, layers: 1, heads: 2, mlpRatio: 2 },
  'window-mlp': { arch: 'window-mlp', hidden: [24], activation: 'relu', dropout: 0, conv: [], dModel: 8, window: 2 },
};

function hostBatch(rows: number[]): SequenceHostBatch {
  const ids = new Int32Array(rows.length * L);
  const mask = new Uint8Array(rows.length * L);
  rows.forEach((r, i) => {
    ids.set(tokens.ids.subarray(r * L, (r + 1) * L), i * L);
    mask.set(tokens.mask.subarray(r * L, (r + 1) * L), i * L);
  });
  return { size: rows.length, context: L, ids, mask };
}

/** KL to the dense teacher at T_c over every target position, and the top-1 agreement. */
function teacherKl(student: ReturnType<typeof buildSequenceStudent>): { kl: number; agreement: number } {
  return tf.tidy(() => {
    const rows = Array.from({ length: tokens.rows }, (_, i) => i);
    const bt = sequenceBatchTensors(hostBatch(rows), 'next-token', null);
    const z = flattenPositions(student.apply(bt.ids, bt.mask), L - 1);
    const r = agreementAndKl(tf.div(z, T) as tf.Tensor2D, { kind: 'dense', logits: tf.tensor2d(teacher, [tokens.rows * (L - 1), V]).div(T) as tf.Tensor2D }, bt.weights);
    return { kl: r.kl.dataSync()[0]!, agreement: r.agreement.dataSync()[0]! };
  });
}

forEachTestBackend((backend) => {
  for (const arch of ['transformer', 'window-mlp'] as const) {
    for (const mode of ['dense', 'topk', 'sampled'] as const) {
      test(`${arch} from a ${mode} per-position shard: the KL to the teacher falls, same seed same weights`, () => {
        const enc = tinyEncoding(mode, V, L, T);
        const shard = roundTripShard(enc, sequenceColumns(tokens, teacher, enc));
        checkStoreLengths(shard, tokens.length, 0, 'tiny store');
        const run = (): { before: number; after: number; weights: number[] } => {
          const s = buildSequenceStudent(specs[arch], { vocab: V, context: L, causal: true, seed: 4, embedding: backend === 'wasm' ? 'one-hot' : 'gather' });
          const opt = tf.train.adam(0.02);
          const before = teacherKl(s).kl;
          for (let step = 0; step < 40; step++) {
            const rows = [0, 1, 2, 3].map((i) => (step * 4 + i) % tokens.rows);
            const bt = sequenceBatchTensors(hostBatch(rows), 'next-token', sequenceTargets(shard, rows, enc, 'bucket'));
            sequenceTrainStep(s, opt, bt, { temperature: T, alpha: 0.1 }).dispose();
            tf.dispose([bt.ids, bt.mask, bt.labels, bt.weights, ...Object.values(bt.targets!).filter((x): x is tf.Tensor => x instanceof tf.Tensor)]);
          }
          const after = teacherKl(s).kl;
          const weights = Array.from(s.variables[s.variables.length - 2]!.dataSync()).slice(0, 20);
          opt.dispose();
          s.dispose();
          return { before, after, weights };
        };
        const a = run();
        assert.ok(a.after < 0.75 * a.before, `KL at T_c ${a.before} -> ${a.after}`);
        assert.deepEqual(run().weights, a.weights);
      });
    }
  }
});

test('BAD CALL a store that does not fit the task: classification store, other target, positions, vocabulary, temperature', () => {
  const task = { context: L, target: 'next-token' as const, vocab: V, temperature: T };
  const ok = tinyEncoding('sampled', V, L, T);
  checkSequenceStore(ok, task, 'store/manifest.json');
  const bad: Array<[StoreEncoding, RegExp]> = [
    [{ mode: 'dense', precision: 'float32', classes: V }, /is a classification store \(one target per row/],
    [{ ...ok, target: 'token' }, /encoding.target is "token", but the dataset's task needs "next-token"/],
    [{ ...ok, positions: L }, /encoding.positions is 8, but the dataset's context 8 with next-token targets has 7 positions/],
    [{ ...ok, classes: V + 1 }, /encoding.classes is 11, but the student's vocabulary has 10 entries/],
    [{ ...ok, temperature: 1 }, /train.temperature is 2, but the sampled store store\/manifest.json was captured at temperature 1/],
    [{ ...tinyEncoding('topk', V, L, 4) }, /train.temperature is 2, but the topk store .* captured at temperature 4/],
  ];
  for (const [enc, message] of bad) assert.throws(() => checkSequenceStore(enc, task, 'store/manifest.json'), { message });
});

test('BAD CALL a store whose row lengths differ from the dataset is refused, naming the row', () => {
  const enc = tinyEncoding('dense', V, L);
  const shard = roundTripShard(enc, sequenceColumns(tokens, teacher, enc));
  const lengths = Int32Array.from(tokens.length);
  lengths[3] = lengths[3]! - 1;
  assert.throws(() => checkStoreLengths(shard, lengths, 0, 'store train/part-00000'), { name: 'DataError', message: new RegExp(`row 3 has length ${tokens.length[3]} in the store, but ${lengths[3]} real tokens in the dataset`) });
});
