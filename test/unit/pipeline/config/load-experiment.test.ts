import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../../pipeline/errors.ts';
import { applyOverride, loadExperiment } from '../../../../pipeline/config/load-experiment.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

const base = {
  name: 'unit',
  dataset: { path: 'data/mnist' },
  teacher: { path: 'teachers/t' },
  teacherLogits: { store: 'stores/s' },
  student: { arch: 'mlp', hidden: [32] },
  train: { run: 'runs/r', epochs: 2 },
};

async function writeConfig(dir: string, value: unknown): Promise<string> {
  const file = join(dir, 'experiment.json');
  await writeFile(file, JSON.stringify(value));
  return file;
}

test('defaults are filled in and the result is frozen', async () => {
  const dir = await tmpDir();
  const exp = await loadExperiment(await writeConfig(dir, base), [], dir);
  assert.equal(exp.config.seed, 1);
  assert.equal(exp.config.dataset.trainSplit, 'train');
  assert.equal(exp.config.teacherLogits?.format, 'parquet');
  assert.deepEqual(exp.config.teacherLogits?.encoding, { mode: 'dense', precision: 'float32', k: 5, temperature: 1 });
  assert.equal(exp.config.train?.alpha, 0.1);
  assert.equal(exp.config.train?.epochs, 2);
  assert.equal(Object.isFrozen(exp.config), true);
  assert.equal(Object.isFrozen(exp.config.train), true);
  assert.throws(() => {
    (exp.config.train as { epochs: number }).epochs = 9;
  }, TypeError);
  assert.match(exp.fileSha256, /^[0-9a-f]{64}$/);
});

test('command-line overrides win over the file and are validated', async () => {
  const dir = await tmpDir();
  const file = await writeConfig(dir, base);
  const exp = await loadExperiment(file, ['train.epochs=7', 'teacherLogits.encoding.mode=topk', 'student.hidden=[64,64]'], dir);
  assert.equal(exp.config.train?.epochs, 7);
  assert.equal(exp.config.teacherLogits?.encoding.mode, 'topk');
  assert.deepEqual(exp.config.student?.hidden, [64, 64]);
  assert.deepEqual(exp.overrides, ['train.epochs=7', 'teacherLogits.encoding.mode=topk', 'student.hidden=[64,64]']);
  await assert.rejects(loadExperiment(file, ['train.epochs=0'], dir), { name: 'ConfigError', message: /train\.epochs must be >= 1, but got 0/ });
});

test('BAD CALL misspelled key: ConfigError naming the key and the suggestion', async () => {
  const dir = await tmpDir();
  const file = await writeConfig(dir, { ...base, train: { run: 'runs/r', epocs: 3 } });
  await assert.rejects(loadExperiment(file, [], dir), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /unknown key "train\.epocs" \(did you mean "train\.epochs"\?\)/);
    return true;
  });
});

test('BAD CALL wrong enum value names the allowed values', async () => {
  const dir = await tmpDir();
  const file = await writeConfig(dir, { ...base, teacherLogits: { store: 's', format: 'csv' } });
  await assert.rejects(loadExperiment(file, [], dir), { name: 'ConfigError', message: /teacherLogits\.format must be one of "parquet", "arrow", but got "csv"/ });
});

test('BAD CALL missing required field and wrong type', async () => {
  const dir = await tmpDir();
  const file = await writeConfig(dir, { name: 'x', dataset: {}, seed: 'one' });
  await assert.rejects(loadExperiment(file, [], dir), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /dataset\.path is required but missing/);
    assert.match(err.message, /seed must be integer, but got "one"/);
    return true;
  });
});

test('BAD CALL a path escaping the workspace is refused', async () => {
  const dir = await tmpDir();
  const file = await writeConfig(dir, { ...base, dataset: { path: '../../etc' } });
  await assert.rejects(loadExperiment(file, [], dir), { name: 'ConfigError', message: /dataset\.path "\.\.\/\.\.\/etc" escapes the workspace/ });
});

test('BAD CALL unreadable or non-JSON config files', async () => {
  const dir = await tmpDir();
  await assert.rejects(loadExperiment(join(dir, 'nope.json'), [], dir), { name: 'ConfigError', message: /cannot read the experiment config/ });
  const file = join(dir, 'bad.json');
  await writeFile(file, '{"name": ');
  await assert.rejects(loadExperiment(file, [], dir), { name: 'ConfigError', message: /is not valid JSON/ });
});

test('applyOverride parses JSON values and keeps strings otherwise', () => {
  const target: Record<string, unknown> = { a: { b: 1 } };
  applyOverride(target, 'a.b=2.5');
  applyOverride(target, 'a.c=hello');
  applyOverride(target, 'x.y.z=true');
  assert.deepEqual(target, { a: { b: 2.5, c: 'hello' }, x: { y: { z: true } } });
  assert.throws(() => applyOverride(target, 'novalue'), /must look like field\.path=value/);
  assert.throws(() => applyOverride(target, 'a.b.c=1'), /b is not an object/);
});

test('extends: a variant starts from another file; objects merge, arrays and scalars replace', async () => {
  const dir = await tmpDir();
  await writeConfig(dir, base);
  const variant = join(dir, 'hard-label.json');
  await writeFile(variant, JSON.stringify({ extends: 'experiment.json', name: 'unit-hard', student: { hidden: [8] }, train: { alpha: 1, run: 'runs/hard' } }));
  const exp = await loadExperiment(variant, ['train.epochs=4'], dir);
  assert.equal(exp.config.name, 'unit-hard');
  assert.deepEqual(exp.config.student?.hidden, [8]);
  assert.equal(exp.config.student?.arch, 'mlp');
  assert.equal(exp.config.train?.alpha, 1);
  assert.equal(exp.config.train?.run, 'runs/hard');
  assert.equal(exp.config.train?.epochs, 4);
  assert.equal(exp.config.teacherLogits?.store, 'stores/s');
  assert.equal((exp.config as unknown as Record<string, unknown>).extends, undefined);
  assert.deepEqual(exp.files, [variant, join(dir, 'experiment.json')]);
});

test('BAD CALL extends cycles and unknown keys in a parent are reported', async () => {
  const dir = await tmpDir();
  await writeFile(join(dir, 'a.json'), JSON.stringify({ extends: 'b.json', name: 'a', dataset: { path: 'd' } }));
  await writeFile(join(dir, 'b.json'), JSON.stringify({ extends: 'a.json' }));
  await assert.rejects(loadExperiment(join(dir, 'a.json'), [], dir), { name: 'ConfigError', message: /"extends" forms a cycle/ });
  await writeFile(join(dir, 'p.json'), JSON.stringify({ name: 'p', dataset: { path: 'd', trainSplt: 'x' } }));
  await writeFile(join(dir, 'c.json'), JSON.stringify({ extends: 'p.json' }));
  await assert.rejects(loadExperiment(join(dir, 'c.json'), [], dir), { message: /unknown key "dataset\.trainSplt" \(did you mean "dataset\.trainSplit"\?\)/ });
});
