/**
 * The stage on a small MNIST subset with a store written directly (test/helpers/write-test-store.ts):
 * resume exactness and run-to-run identity on every test backend (test/helpers/test-backends.ts), the refusals (shard sha256, dataset fingerprint, class count,
 * finished run), and the hard-label baseline without a store.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadExperiment } from '../../../../pipeline/config/load-experiment.ts';
import type { DatasetManifest } from '../../../../pipeline/dataset/dataset-manifest.ts';
import { CollectingReporter, silentReporter } from '../../../../pipeline/reporter.ts';
import { runMnistData } from '../../../../stages/data/run-mnist.ts';
import { runTrainStudent } from '../../../../stages/train-student/run-train-student.ts';
import type { RunManifest } from '../../../../pipeline/student/run-manifest.ts';
import { testBackends } from '../../../helpers/test-backends.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';
import { writeTestStore } from '../../../helpers/write-test-store.ts';

const ws = await tmpDir();
const { manifest: dataset } = await runMnistData({ out: join(ws, 'data'), limitTrain: 600, limitTest: 200, rowsPerFile: 200 }, silentReporter);
await writeTestStore({ datasetDir: join(ws, 'data'), dataset, out: join(ws, 'store'), splits: ['train', 'test'], shardRows: 250 });

let n = 0;
/** Writes an experiment config and loads it (each test its own run folder). */
async function experiment(over: { student?: object; train?: object; store?: string; dataset?: string } = {}, overrides: string[] = []) {
  const name = `exp-${++n}`;
  const cfg = {
    name,
    seed: 5,
    dataset: { path: over.dataset ?? 'data' },
    teacher: { path: 'no-such-teacher' },
    teacherLogits: { store: over.store ?? 'store' },
    student: { arch: 'mlp', hidden: [24], dropout: 0.2, ...over.student },
    train: { run: `runs/${name}`, epochs: 2, batchSize: 50, backend: 'cpu', shuffleWindow: 2, ...over.train },
  };
  await writeFile(join(ws, `${name}.json`), JSON.stringify(cfg));
  return { exp: await loadExperiment(`${name}.json`, overrides, ws), runDir: join(ws, 'runs', name), file: `${name}.json` };
}

for (const { name: backend, skip } of testBackends()) {
  test(`resume on ${backend}: 1 epoch + resume 1 epoch gives bit-identical weights to 2 epochs uninterrupted`, { skip }, async () => {
    const whole = await experiment({ train: { backend } });
    const full = await runTrainStudent(whole.exp, {}, silentReporter);
    assert.equal(full.backend.backend, backend);
    // The manifest's TensorFlow version is what the loaded library reports (2.21.0 for `make tfjs-node`).
    assert.equal(full.backend.tensorflowVersion === null, backend !== 'tensorflow');
    assert.equal(full.training.steps, 2 * 12);

    const split = await experiment({ train: { backend, epochs: 1 } });
    await runTrainStudent(split.exp, {}, silentReporter);
    const resumedExp = await loadExperiment(split.file, ['train.epochs=2'], ws);
    const reporter = new CollectingReporter();
    const resumed = await runTrainStudent(resumedExp, { resume: true }, reporter);
    assert.ok(reporter.messages('info').includes(`resuming ${split.runDir} after epoch 1 of 2`));
    assert.equal(resumed.training.resumedFrom, 1);
    assert.equal(resumed.training.steps, 24);
    assert.deepEqual(resumed.epochs.map((e) => e.epoch), [1, 2]);

    const a = await readFile(join(whole.runDir, 'weights.bin'));
    const b = await readFile(join(split.runDir, 'weights.bin'));
    assert.equal(a.byteLength, (784 * 24 + 24 + 24 * 10 + 10) * 4);
    assert.ok(a.equals(b), 'weights differ after resume');
    assert.equal(resumed.outputs.weightsSha256, full.outputs.weightsSha256);
    assert.equal(resumed.final.eval.accuracy, full.final.eval.accuracy);
    const lines = (await readFile(join(split.runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch), [1, 2]);
  });
}

for (const { name: backend, skip } of testBackends()) {
  test(`run to run on ${backend}: the same seeded config (dropout on) trained twice from scratch gives bit-identical weights`, { skip }, async () => {
    const a = await experiment({ train: { backend, epochs: 1 } });
    const b = await experiment({ train: { backend, epochs: 1 } });
    const ma = await runTrainStudent(a.exp, {}, silentReporter);
    const mb = await runTrainStudent(b.exp, {}, silentReporter);
    assert.equal(ma.outputs.weightsSha256, mb.outputs.weightsSha256);
    assert.ok((await readFile(join(a.runDir, 'weights.bin'))).equals(await readFile(join(b.runDir, 'weights.bin'))));
    assert.deepEqual(ma.final.eval, mb.final.eval);
  });
}

test('a finished run is up to date for the same config, refused for another without --force; an unfinished one needs --resume or --force', async () => {
  const { exp, runDir, file } = await experiment({ train: { epochs: 1 } });
  const first = await runTrainStudent(exp, {}, silentReporter);
  const before = await readFile(join(runDir, 'run-manifest.json'), 'utf8');
  const reporter = new CollectingReporter();
  const same = await runTrainStudent(exp, {}, reporter);
  assert.deepEqual(same, first);
  assert.ok(reporter.messages('info').includes(`${runDir} is up to date (same resolved config, inputs and code): nothing retrained`));
  const changed = await loadExperiment(file, ['student.dropout=0.3'], ws);
  await assert.rejects(runTrainStudent(changed, {}, silentReporter), { name: 'DistillError', message: /holds a finished run \(run-manifest.json\) that is not what this config would train now: the resolved config changed .*It is left untouched. Re-run with --force/ });
  assert.equal(await readFile(join(runDir, 'run-manifest.json'), 'utf8'), before);
  const forced = await runTrainStudent(exp, { force: true }, silentReporter);
  assert.equal(forced.outputs.weightsSha256, first.outputs.weightsSha256, 'same seed, same weights');
  const { rm } = await import('node:fs/promises');
  await rm(join(runDir, 'run-manifest.json'));
  await assert.rejects(runTrainStudent(exp, {}, silentReporter), { message: /holds an unfinished run \(checkpoints\/\); re-run with --resume/ });
});

test('run manifest and outputs record every input fingerprint, backend, seeds and per-epoch times', async () => {
  const { exp, runDir } = await experiment({ train: { epochs: 1 } });
  const m = await runTrainStudent(exp, {}, silentReporter);
  const saved = JSON.parse(await readFile(join(runDir, 'run-manifest.json'), 'utf8')) as RunManifest;
  assert.deepEqual(saved, JSON.parse(JSON.stringify(m)));
  assert.equal(m.inputs.dataset.splits.train!.fingerprint, dataset.splits.train!.fingerprint);
  assert.equal(m.inputs.dataset.splits.test!.fingerprint, dataset.splits.test!.fingerprint);
  const store = JSON.parse(await readFile(join(ws, 'store', 'manifest.json'), 'utf8')) as { teacher: { sha256: string } };
  assert.equal(m.inputs.store!.teacherSha256, store.teacher.sha256);
  assert.match(m.inputs.store!.manifestSha256, /^[0-9a-f]{64}$/);
  assert.equal(m.backend.backend, 'cpu');
  assert.equal(m.seeds.master, 5);
  assert.equal(m.epochs.length, 1);
  assert.ok(m.epochs[0]!.examplesPerSecond > 0 && m.epochs[0]!.trainSeconds > 0);
  assert.equal(m.final.eval.rows, 200);
  assert.ok(m.final.eval.agreement !== null && m.final.eval.kl !== null && m.final.eval.klTemperature === 1);
  const resolved = JSON.parse(await readFile(join(runDir, 'config.resolved.json'), 'utf8')) as { sourceSha256: string };
  assert.equal(resolved.sourceSha256, exp.fileSha256);
  const model = JSON.parse(await readFile(join(runDir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  assert.deepEqual(model.weightsManifest[0]!.paths, ['./weights.bin']);
});

test('BAD CALL a store shard with one flipped byte is refused before the first step, naming both sha256', async () => {
  const dir = await tmpDir();
  const { cp } = await import('node:fs/promises');
  await cp(join(ws, 'store'), join(ws, 'store-flipped'), { recursive: true });
  const shard = join(ws, 'store-flipped', 'train', 'part-00001.arrow');
  const bytes = await readFile(shard);
  bytes[100] = bytes[100]! ^ 0xff;
  await writeFile(shard, bytes);
  const { exp, runDir } = await experiment({ store: 'store-flipped' });
  await assert.rejects(runTrainStudent(exp, {}, silentReporter), {
    name: 'IntegrityError',
    message: /store-flipped\/train\/part-00001\.arrow has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}/,
  });
  const { readdir } = await import('node:fs/promises');
  assert.deepEqual((await readdir(runDir)).filter((f) => f !== '.lock'), [], 'nothing written');
  void dir;
});

test('BAD CALL a store captured from another dataset is refused, naming both fingerprints', async () => {
  const { manifest: other } = await runMnistData({ out: join(ws, 'data-other'), limitTrain: 601, limitTest: 200, rowsPerFile: 200 }, silentReporter);
  const { exp } = await experiment({ dataset: 'data-other' });
  await assert.rejects(runTrainStudent(exp, {}, silentReporter), {
    name: 'IntegrityError',
    message: new RegExp(`split "train" with fingerprint ${dataset.splits.train!.fingerprint} \\(600 rows\\), but the dataset .*data-other has fingerprint ${other.splits.train!.fingerprint} \\(601 rows\\)`),
  });
});

test('BAD CALL a store with another class count is refused, naming both counts', async () => {
  await writeTestStore({ datasetDir: join(ws, 'data'), dataset: dataset as DatasetManifest, out: join(ws, 'store-12'), splits: ['train'], shardRows: 300, classes: 12 });
  const { exp } = await experiment({ store: 'store-12' });
  await assert.rejects(runTrainStudent(exp, {}, silentReporter), {
    name: 'DataError',
    message: /class count mismatch: the store .*store-12 has 12 classes \(encoding.classes\), the dataset .*data label "label" has 10/,
  });
});

test('alpha = 1 trains the hard-label baseline without a store; a top-k store fixes T', async () => {
  const { exp } = await experiment({ store: 'no-store-here', train: { alpha: 1, epochs: 2, learningRate: 0.005 } });
  const m = await runTrainStudent(exp, {}, silentReporter);
  assert.equal(m.inputs.store, null);
  assert.equal(m.final.eval.agreement, null);
  assert.ok(m.final.eval.accuracy > 0.6, `baseline accuracy ${m.final.eval.accuracy}`);
  const { exp: noStore } = await experiment({ store: 'no-store-here', train: { alpha: 0.5 } });
  await assert.rejects(runTrainStudent(noStore, {}, silentReporter), { name: 'DataError', message: /no-store-here\/manifest.json does not exist/ });

  await writeTestStore({ datasetDir: join(ws, 'data'), dataset, out: join(ws, 'store-topk'), splits: ['train', 'test'], shardRows: 300, mode: 'topk', k: 3, temperature: 2 });
  const { exp: wrongT } = await experiment({ store: 'store-topk', train: { temperature: 4 } });
  await assert.rejects(runTrainStudent(wrongT, {}, silentReporter), { name: 'ConfigError', message: /train.temperature is 4, but the top-k store .* was captured at temperature 2/ });
  const { exp: topk } = await experiment({ store: 'store-topk', train: { temperature: 2, epochs: 1, tail: 'uniform' } });
  const t = await runTrainStudent(topk, {}, silentReporter);
  assert.equal(t.inputs.store!.encoding.mode, 'topk');
  assert.equal(t.final.eval.klTemperature, 2);
  assert.ok(t.final.eval.agreement! > 0);
});
