/** A saved sequence student reloads to the same logits, and a damaged weights file is refused by name. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StudentSection } from '../../../../../pipeline/config/experiment-config.ts';
import { tf } from '../../../../../pipeline/engines/tfjs.ts';
import { buildSequenceStudent } from '../../../../../pipeline/student/sequence/build-sequence-student.ts';
import { loadSequenceStudent, readSequenceModel, saveSequenceStudent, sequenceExportInput } from '../../../../../pipeline/student/sequence/sequence-model-file.ts';

const section: StudentSection = { arch: 'transformer', hidden: [12], activation: 'relu', dropout: 0, conv: [], dModel: 8, layers: 1, heads: 2, mlpRatio: 2, window: 2 };
const ids = Int32Array.from([1, 4, 2, 7, 3, 0, 5, 5, 8, 2, 1, 0]);
const mask = Float32Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0]);

test('save then load gives the same logits (11 input ids, 5 output classes per position); the export input names every variable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'seq-model-'));
  try {
    const s = buildSequenceStudent(section, { vocab: 11, classes: 5, context: 6, causal: false, seed: 3, embedding: 'gather' });
    s.variables.forEach((v, i) => tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 50 + i)))));
    const logits = (x: typeof s): Float32Array => tf.tidy(() => x.apply(tf.tensor2d(ids, [2, 6], 'int32'), tf.tensor2d(mask, [2, 6])).dataSync() as Float32Array);
    const before = logits(s);
    assert.equal(before.length, 2 * 6 * 5);
    const saved = await saveSequenceStudent(s, section, dir);
    assert.equal(saved.weightsBytes, s.params * 4);
    s.dispose();
    const back = await loadSequenceStudent(join(dir, 'model.json'));
    assert.deepEqual(logits(back), before);
    back.dispose();
    const input = sequenceExportInput(await readSequenceModel(join(dir, 'model.json')));
    assert.equal(input.arch, 'transformer');
    assert.equal(input.context, 6);
    assert.equal(input.classes, 5);
    assert.deepEqual(input.weights.get('logits/kernel')?.shape, [8, 5]);
    assert.ok(input.weights.has('logits/kernel'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a changed weights.bin is refused, naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'seq-model-'));
  try {
    const s = buildSequenceStudent({ ...section, arch: 'embedding' }, { vocab: 11, context: 6, causal: true, seed: 3, embedding: 'gather' });
    await saveSequenceStudent(s, { ...section, arch: 'embedding' }, dir);
    s.dispose();
    const w = await readFile(join(dir, 'weights.bin'));
    w[0] = w[0]! ^ 1;
    await writeFile(join(dir, 'weights.bin'), w);
    await assert.rejects(readSequenceModel(join(dir, 'model.json')), /weights\.bin: sha256 differs/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
