/**
 * train-student through the real CLI, end to end on a tiny MNIST subset: the teacher-logits stage
 * captures a store with a tiny ONNX teacher (test/fixtures/tiny-teacher.ts), the teacher is deleted,
 * and the student trains from the store alone. A preload (test/fixtures/record-modules.mjs) records
 * every ESM/CJS module and native library the training process loads: none is onnxruntime.
 */
import assert from 'node:assert/strict';
import { readFile, stat, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../pipeline/provenance.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { jsonLines, runCli } from '../helpers/run-cli.ts';
import { teacherWorkspace, writeTeacher } from '../helpers/teacher-workspace.ts';

const ws = await teacherWorkspace(1000, 300, 400);
await writeTeacher(ws, 'tiny', { hidden: 16 });
await writeFile(
  join(ws.dir, 'exp.json'),
  JSON.stringify({
    name: 'e2e',
    seed: 2,
    dataset: { path: ws.dataset },
    teacher: { path: 'teachers/tiny' },
    teacherLogits: { store: 'stores/e2e', shardRows: 256, batchSize: 128, device: 'cpu', format: 'arrow' },
    student: { arch: 'mlp', hidden: [32], dropout: 0.1 },
    train: { run: 'runs/e2e', epochs: 2, batchSize: 32, learningRate: 0.01, temperature: 1, alpha: 0 },
  }),
);

test('distill train-student trains from the store with the teacher deleted, and never loads onnxruntime', async () => {
  const captured = await runCli(['teacher-logits', '-c', 'exp.json'], { cwd: ws.dir });
  assert.equal(captured.code, 0, captured.stderr);
  await rm(join(ws.dir, 'teachers'), { recursive: true });

  const log = join(ws.dir, 'modules.log');
  const trained = await runCli(['train-student', '-c', 'exp.json'], {
    cwd: ws.dir,
    env: { NODE_OPTIONS: `--import ${join(projectRoot, 'test/fixtures/record-modules.mjs')}`, DISTILL_MODULE_LOG: log },
  });
  assert.equal(trained.code, 0, trained.stderr);
  const logs = jsonLines(trained.stdout);
  const notice = String(logs.find((l) => /^tfjs backend: /.test(String(l.msg)))?.msg);
  const final = logs.filter((l) => l.level === 'progress' && l.final === true);
  assert.equal(final.length, 2, 'one final progress line per epoch');
  assert.equal(final[0]!.unit, 'examples');
  assert.ok((final[0]!.rate as number) > 0);

  const modules = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
  assert.ok(modules.some((l) => l.includes('@tensorflow/tfjs-core')), 'the recorder saw tfjs load');
  assert.ok(modules.some((l) => l.startsWith('so ')), 'the recorder listed shared objects');
  assert.deepEqual(modules.filter((l) => /onnxruntime/i.test(l)), [], 'no onnxruntime module or library');

  const run = join(ws.dir, 'runs/e2e');
  const manifest = JSON.parse(await readFile(join(run, 'run-manifest.json'), 'utf8')) as RunManifest;
  const store = JSON.parse(await readFile(join(ws.dir, 'stores/e2e/manifest.json'), 'utf8')) as { teacher: { sha256: string } };
  assert.equal(manifest.inputs.store!.teacherSha256, store.teacher.sha256);
  // auto took the first backend that runs on this host, said which in one notice line, and recorded it:
  // tensorflow where `make tfjs-node` (or tfjs-node-gpu) is installed, its library really loaded;
  // wasm otherwise, after the two libtensorflow packages were found missing or broken.
  const b = manifest.backend;
  if (b.backend === 'tensorflow') {
    assert.equal(notice, `tfjs backend: tensorflow via ${b.package} (TensorFlow ${b.tensorflowVersion}, oneDNN ${b.onednn ? 'on' : 'off'}), requested auto${b.attempts.length > 1 ? ` (${b.attempts[0]!.candidate} ${b.attempts[0]!.reason})` : ''}`);
    assert.ok(modules.some((l) => /^so .*libtensorflow/.test(l)), 'libtensorflow is among the loaded libraries');
  } else {
    assert.equal(b.backend, 'wasm');
    assert.match(notice, /^tfjs backend: wasm \(SIMD, 1 thread\), requested auto \(@tensorflow\/tfjs-node-gpu .+; @tensorflow\/tfjs-node .+\)$/);
    assert.deepEqual(b.attempts.map((a) => a.ok), [false, false, true]);
    assert.ok(modules.some((l) => l.includes('@tensorflow/tfjs-backend-wasm')));
  }
  assert.equal(manifest.training.rowsPerEpoch, 1000);
  const metrics = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; eval: { kl: number } });
  assert.deepEqual(metrics.map((m) => m.epoch), [1, 2]);
  // The student imitates the tiny (random, nearly flat) teacher: KL(teacher || student) falls and
  // top-1 agreement on the test split is far above the 1/10 of a random guess.
  assert.ok(metrics[1]!.eval.kl < metrics[0]!.eval.kl && metrics[1]!.eval.kl < 0.1, `KL ${metrics.map((m) => m.eval.kl).join(', ')}`);
  assert.ok(manifest.final.eval.agreement! > 0.4, `agreement ${manifest.final.eval.agreement}`);

  // Like make: the same config, inputs and code again is up to date, exit 0, nothing retrained (the files are untouched).
  const before = { manifest: await readFile(join(run, 'run-manifest.json'), 'utf8'), weights: (await stat(join(run, 'weights.bin'))).mtimeMs, metrics: (await stat(join(run, 'metrics.jsonl'))).mtimeMs };
  const again = await runCli(['train-student', '-c', 'exp.json'], { cwd: ws.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout + again.stderr, /is up to date \(same resolved config, inputs and code\): nothing retrained/);
  assert.doesNotMatch(again.stdout + again.stderr, /epoch 1\//);
  assert.equal(await readFile(join(run, 'run-manifest.json'), 'utf8'), before.manifest);
  assert.equal((await stat(join(run, 'weights.bin'))).mtimeMs, before.weights);
  assert.equal((await stat(join(run, 'metrics.jsonl'))).mtimeMs, before.metrics);
  // Another config for the same folder is refused as before, naming what differs.
  const other = await runCli(['train-student', '-c', 'exp.json', '--set', 'train.learningRate=0.0123'], { cwd: ws.dir });
  assert.equal(other.code, 1);
  assert.match(other.stderr, /holds a finished run \(run-manifest.json\) that is not what this config would train now: the resolved config changed .*It is left untouched. Re-run with --force/);
  const extended = await runCli(['train-student', '-c', 'exp.json', '--resume', '--epochs', '3', '--backend', 'cpu'], { cwd: ws.dir });
  assert.equal(extended.code, 0, extended.stderr);
  const m3 = JSON.parse(await readFile(join(run, 'run-manifest.json'), 'utf8')) as RunManifest;
  assert.deepEqual([m3.training.epochs, m3.training.resumedFrom, m3.backend.backend], [3, 2, 'cpu']);
});

test('BAD CALL a shard with a flipped byte: exit 1 and one line naming the shard and both sha256', async () => {
  const shard = join(ws.dir, 'stores/e2e/train/part-00002.arrow');
  const bytes = await readFile(shard);
  bytes[64] = bytes[64]! ^ 1;
  await writeFile(shard, bytes);
  const r = await runCli(['train-student', '-c', 'exp.json', '--force'], { cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: store .*stores\/e2e does not match its manifest \(1 problem\):\n {2}- .*train\/part-00002\.arrow has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}/m);
});
