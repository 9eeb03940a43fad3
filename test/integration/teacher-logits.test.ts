/**
 * The teacher-logits stage on a small MNIST subset (1000 train + 300 test rows) with tiny seeded ONNX
 * teachers (test/fixtures/tiny-teacher.ts), through the real CLI where exit codes and messages
 * matter. Values are checked against an independent path: the test reads the pixels with DuckDB,
 * runs onnxruntime-node itself, and reads the Parquet shards back with DuckDB.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBListValue } from '@duckdb/node-api';
import * as ort from 'onnxruntime-node';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { indexDataset } from '../../pipeline/dataset/index-dataset.ts';
import { inProcessSessionFactory, ProviderUnavailableError } from '../../pipeline/engines/onnxruntime.ts';
import type { SessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { atomicWrite } from '../../pipeline/io/atomic-write.ts';
import { encodeTable } from '../../pipeline/io/table-files.ts';
import { CollectingReporter, silentReporter } from '../../pipeline/reporter.ts';
import { openStore, verifyStore } from '../../pipeline/store/open-store.ts';
import { fromFloat16Bits, toFloat16Bits } from '../../pipeline/store/float16.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import { mnistTable } from '../../stages/data/mnist-table.ts';
import { encodeTopK } from '../../stages/teacher-logits/encode-topk.ts';
import { runTeacherLogits } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { tinyTeacherForward } from '../fixtures/tiny-teacher.ts';
import { jsonLines, runCli } from '../helpers/run-cli.ts';
import { PIXEL_SCALE, teacherWorkspace, writeExperiment, writeTeacher } from '../helpers/teacher-workspace.ts';
import type { TeacherWorkspace } from '../helpers/teacher-workspace.ts';

const wsReady: Promise<TeacherWorkspace> = teacherWorkspace(1000, 300, 400);

async function duck<T>(fn: (con: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    return await fn(con);
  } finally {
    con.closeSync();
  }
}

/** Pixels of a split read by DuckDB (not by distill), as model input (x / 255, float32). */
async function duckPixels(ws: TeacherWorkspace, split: string): Promise<{ x: Float32Array; raw: Uint8Array[]; rows: number }> {
  return duck(async (con) => {
    const r = await con.runAndReadAll(`select pixels from read_parquet('${join(ws.dir, ws.dataset, split)}/*.parquet') order by row`);
    const raw = r.getRows().map(([p]) => Uint8Array.from((p as DuckDBListValue).items as number[]));
    const x = new Float32Array(raw.length * 784);
    raw.forEach((px, i) => px.forEach((v, j) => (x[i * 784 + j] = v * PIXEL_SCALE + 0)));
    return { x, raw, rows: raw.length };
  });
}

/** The teacher's outputs computed by onnxruntime-node directly, `batch` rows per call. */
async function ortOutputs(bytes: Uint8Array, x: Float32Array, rows: number, batch: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out: number[] = [];
  for (let s = 0; s < rows; s += batch) {
    const n = Math.min(batch, rows - s);
    const res = await session.run({ pixels: new ort.Tensor('float32', x.slice(s * 784, (s + n) * 784), [n, 784]) });
    out.push(...(res.logits!.data as Float32Array));
  }
  await session.release();
  return Float32Array.from(out);
}

async function shaList(storeDir: string): Promise<string[]> {
  const m = JSON.parse(await readFile(join(storeDir, 'manifest.json'), 'utf8')) as StoreManifest;
  return Object.values(m.splits).flatMap((s) => s.shards.map((r) => `${r.path} ${r.sha256}`));
}

test('dense float32 Parquet store: values equal ONNX Runtime outputs, read back by openStore and by DuckDB; manifest and inspect', async () => {
  const ws = await wsReady;
  const teacher = await writeTeacher(ws, 'dense', { seed: 11 });
  await writeExperiment(ws, 'dense', 'dense');
  // --device cpu: the values below are compared bit for bit with ONNX Runtime on the CPU (device auto
  // would take CUDA on a host with the provider; auto is tested below, in the device test).
  const res = await runCli(['teacher-logits', '-c', 'dense.json', '--device', 'cpu'], { cwd: ws.dir });
  assert.equal(res.code, 0, res.stderr);
  const logs = jsonLines(res.stdout);
  assert.ok(logs.some((l) => l.msg === 'store ready: stores/dense/manifest.json' && l.rows === 1300 && l.executionProvider === 'cpu'), res.stdout);

  const store = await openStore(join(ws.dir, 'stores/dense'));
  await verifyStore(store);
  const m = store.manifest;
  assert.deepEqual(m.encoding, { mode: 'dense', precision: 'float32', classes: 10 });
  assert.deepEqual([m.runtime.executionProvider, m.runtime.requestedDevice, m.runtime.batchSize, m.runtime.onnxruntime], ['cpu', 'cpu', 64, '1.30.0']);
  assert.equal(m.teacher.sha256, createHash('sha256').update(teacher.bytes).digest('hex'));
  assert.deepEqual(store.shards('train').map((s) => [s.rowStart, s.rowEnd]), [[0, 256], [256, 512], [512, 768], [768, 1000]]);
  assert.deepEqual(store.shards('test').map((s) => [s.rowStart, s.rowEnd]), [[0, 256], [256, 300]]);
  const datasetManifest = JSON.parse(await readFile(join(ws.dir, ws.dataset, 'manifest.json'), 'utf8')) as { splits: Record<string, { fingerprint: string }> };
  assert.equal(m.dataset.splits.train!.fingerprint, datasetManifest.splits.train!.fingerprint);
  assert.equal(JSON.parse(await readFile(join(ws.dir, 'stores/dense/config.resolved.json'), 'utf8')).config.teacherLogits.batchSize, 64);

  for (const split of ['train', 'test']) {
    const { x, raw, rows } = await duckPixels(ws, split);
    const expected = await ortOutputs(teacher.bytes, x, rows, 64);
    const reference = tinyTeacherForward(teacher.weights, x, rows);
    const got = new Float32Array(rows * 10);
    for (const s of store.shards(split)) got.set((await store.readShard(split, s.index)).logits!, s.rowStart * 10);
    assert.deepEqual(got, expected, `${split}: stored logits = ORT outputs for the same rows and batches`);
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - reference[i]!) < 1e-4, `${split} value ${i} vs the JS reference forward`);
    // DuckDB reads the Parquet shards: same values, rows 0..n-1 once each.
    const viaDuck = await duck(async (con) => (await con.runAndReadAll(`select row, logits from read_parquet('${join(ws.dir, 'stores/dense', split)}/*.parquet') order by row`)).getRows());
    assert.equal(viaDuck.length, rows);
    viaDuck.forEach(([row, logits], i) => {
      assert.equal(row, BigInt(i));
      assert.deepEqual(Float32Array.from((logits as DuckDBListValue).items as number[]), expected.subarray(i * 10, (i + 1) * 10), `${split} row ${i} via DuckDB`);
    });
    // Per-shard dataset fingerprint, recomputed from DuckDB's pixels and labels for the first shard.
    const labels = await duck(async (con) => (await con.runAndReadAll(`select label from read_parquet('${join(ws.dir, ws.dataset, split)}/*.parquet') order by row limit 256`)).getRows().map(([l]) => l as number));
    const h = createHash('sha256');
    const rowBuf = Buffer.alloc(8);
    for (let r = 0; r < 256; r++) {
      rowBuf.writeBigInt64LE(BigInt(r));
      h.update(rowBuf).update(raw[r]!).update(Uint8Array.of(labels[r]!));
    }
    assert.equal(store.shards(split)[0]!.datasetFingerprint, h.digest('hex'));
  }

  const inspect = await runCli(['inspect', 'stores/dense', '--rows', '2'], { cwd: ws.dir });
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /^rows {8}train 1000, test 300 \(1300 total, 6 shards of <= 256 rows, parquet\)$/m);
  assert.match(inspect.stdout, /^encoding {4}dense float32 \(10 logits per row\)$/m);
  assert.match(inspect.stdout, /bytes per example/);
  assert.equal(inspect.stdout.split('\n').filter((l) => /^ {2}(train|test) +\d+ {2}digit \d 0\.\d{4}/.test(l)).length, 4, inspect.stdout);
});

test('top-k float16 Arrow store (batch 100): indices exact, logits to half precision, tail logsumexp at the capture T', async () => {
  const ws = await wsReady;
  const teacher = await writeTeacher(ws, 'topk', { seed: 12 });
  await writeExperiment(ws, 'topk', 'topk', { format: 'arrow', batchSize: 100, encoding: { mode: 'topk', k: 4, precision: 'float16', temperature: 2 } });
  const res = await runCli(['teacher-logits', '-c', 'topk.json'], { cwd: ws.dir });
  assert.equal(res.code, 0, res.stderr);
  const store = await openStore(join(ws.dir, 'stores/topk'));
  assert.deepEqual(store.encoding, { mode: 'topk', precision: 'float16', classes: 10, k: 4, temperature: 2 });
  assert.match(store.shards('train')[0]!.path, /train\/part-00000\.arrow$/);
  const { x, rows } = await duckPixels(ws, 'train');
  const logits = await ortOutputs(teacher.bytes, x, rows, 100);
  const expected = encodeTopK(logits, rows, 10, 4, 2);
  for (const s of store.shards('train')) {
    const got = await store.readShard('train', s.index);
    const n = s.rowEnd - s.rowStart;
    assert.deepEqual(got.topkIndex, Int32Array.from(expected.index.subarray(s.rowStart * 4, s.rowEnd * 4)));
    assert.deepEqual(got.topkLogit, Float32Array.from(expected.logit.subarray(s.rowStart * 4, s.rowEnd * 4), (v) => fromFloat16Bits(toFloat16Bits(v))));
    assert.deepEqual(got.tailLogSumExp, expected.tailLogSumExp.subarray(s.rowStart, s.rowEnd));
    assert.equal(got.topkLogit!.length, n * 4);
  }
});

test('a probs head is stored as log(p): equal to the log-softmax of the logits', async () => {
  const ws = await wsReady;
  const teacher = await writeTeacher(ws, 'probs', { seed: 13, outputKind: 'probs' });
  const exp = await loadExperiment(await writeExperiment(ws, 'probs', 'probs', { splits: ['test'] }), [], ws.dir);
  await runTeacherLogits(exp, { sessionFactory: inProcessSessionFactory }, silentReporter);
  const s = await (await openStore(join(ws.dir, 'stores/probs'))).readShard('test', 1);
  const { x } = await duckPixels(ws, 'test');
  const logProbs = tinyTeacherForward(teacher.weights, x.subarray(256 * 784), 44, { outputKind: 'log_probs' });
  for (let i = 0; i < logProbs.length; i++) assert.ok(Math.abs(s.logits![i]! - logProbs[i]!) < 2e-5, `value ${i}: ${s.logits![i]} vs ${logProbs[i]}`);
});

test('resume after a crash (deleted shard, truncated shard, no manifest, temp file left) gives the shards of an uninterrupted run, whatever the batch size', async () => {
  const ws = await wsReady;
  await writeTeacher(ws, 'resume', { seed: 14 });
  await writeExperiment(ws, 'ref', 'resume');
  await writeExperiment(ws, 'crash', 'resume', { batchSize: 100 });
  const reference = (exp: string): Promise<unknown> => loadExperiment(join(ws.dir, `${exp}.json`), [], ws.dir).then((e) => runTeacherLogits(e, {}, silentReporter));
  await reference('ref');
  await reference('crash');
  const refShas = await shaList(join(ws.dir, 'stores/ref'));
  assert.deepEqual((await shaList(join(ws.dir, 'stores/crash'))).map((l) => l.replace('stores/crash', '')), refShas, 'batch size 100 vs 64: identical shards');

  const dir = join(ws.dir, 'stores/crash');
  const keptMtime = (await stat(join(dir, 'train/part-00000.parquet'))).mtimeMs;
  await rm(join(dir, 'manifest.json'));
  await rm(join(dir, 'train/part-00001.parquet'));
  await truncate(join(dir, 'train/part-00002.parquet'), 100);
  await writeFile(join(dir, 'train/.part-00003.parquet.tmp-99999-abcd'), 'half');
  assert.equal((await runCli(['inspect', 'stores/crash'], { cwd: ws.dir })).code, 1, 'no manifest: not a complete store');
  const res = await runCli(['teacher-logits', '-c', 'crash.json'], { cwd: ws.dir });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(jsonLines(res.stdout).some((l) => l.msg === 'resuming: 4 of 6 shards are complete and verified; computing the other 2'), res.stdout);
  assert.deepEqual(await shaList(dir), refShas);
  assert.equal((await stat(join(dir, 'train/part-00000.parquet'))).mtimeMs, keptMtime, 'a verified shard is not rewritten');
  await assert.rejects(stat(join(dir, 'train/.part-00003.parquet.tmp-99999-abcd')), { code: 'ENOENT' });
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as StoreManifest;
  assert.equal(m.timing.rowsComputed, 256 + 256);

  const again = await runCli(['teacher-logits', '-c', 'crash.json'], { cwd: ws.dir });
  assert.ok(jsonLines(again.stdout).some((l) => /is up to date .* all 6 shards match their sha256\); nothing recomputed/.test(String(l.msg))), again.stdout);
  const forced = await loadExperiment(join(ws.dir, 'crash.json'), [], ws.dir).then((e) => runTeacherLogits(e, { force: true }, silentReporter));
  assert.equal(forced.timing.rowsComputed, 1300);
  assert.deepEqual(await shaList(dir), refShas);
});

test('BAD CALL a store of another teacher is refused without --force; a second writer is stopped by the lock', async () => {
  const ws = await wsReady;
  await writeTeacher(ws, 'first', { seed: 15 });
  await writeTeacher(ws, 'second', { seed: 16 });
  await writeExperiment(ws, 'owner', 'first', { splits: ['test'] });
  await writeExperiment(ws, 'intruder', 'second', { splits: ['test'], store: 'stores/owner' });
  assert.equal((await runCli(['teacher-logits', '-c', 'owner.json'], { cwd: ws.dir })).code, 0);
  const before = await shaList(join(ws.dir, 'stores/owner'));
  const refused = await runCli(['teacher-logits', '-c', 'intruder.json'], { cwd: ws.dir });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /stores\/owner already holds soft targets of another capture \(other teacher, dataset or encoding\):\n {2}- split test: teacherSha256: stored "[0-9a-f]{64}", now "[0-9a-f]{64}"/);
  assert.match(refused.stderr, /it was left untouched; re-run with --force/);
  assert.deepEqual(await shaList(join(ws.dir, 'stores/owner')), before);

  await writeFile(join(ws.dir, 'stores/owner/.lock'), JSON.stringify({ pid: process.pid, host: hostname(), purpose: 'distill teacher-logits', since: 'now' }));
  const locked = await runCli(['teacher-logits', '-c', 'intruder.json', '--force'], { cwd: ws.dir });
  assert.equal(locked.code, 1);
  assert.match(locked.stderr, new RegExp(`stores/owner is locked by another writer \\(pid ${process.pid} on ${hostname()}, distill teacher-logits since now\\)`));
  await rm(join(ws.dir, 'stores/owner/.lock'));
  const forced = await runCli(['teacher-logits', '-c', 'intruder.json', '--force'], { cwd: ws.dir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.notDeepEqual(await shaList(join(ws.dir, 'stores/owner')), before);
});

test('BAD CALL teacher problems: wrong input dtype and size (expected vs actual), non-ONNX file, missing file, card sha256 mismatch', async () => {
  const ws = await wsReady;
  await writeTeacher(ws, 'int32', { inputDtype: 'int32' });
  await writeExperiment(ws, 'int32', 'int32');
  const res = await runCli(['teacher-logits', '-c', 'int32.json'], { cwd: ws.dir });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /teachers\/int32\/model\.onnx: the model does not match its teacher card:\n {2}- input: expected "pixels" float32 \["batch", 784\] \(teacher card\), actual "pixels" int32 \["batch", 784\] \(model\)/);

  const run = async (name: string): Promise<unknown> => runTeacherLogits(await loadExperiment(await writeExperiment(ws, name, name), [], ws.dir), { sessionFactory: inProcessSessionFactory }, silentReporter);
  await writeTeacher(ws, 'size', { inputSize: 100 });
  await assert.rejects(run('size'), { name: 'DataError', message: /input: expected "pixels" float32 \["batch", 784\] \(teacher card\), actual "pixels" float32 \["batch", 100\] \(model\)/ });
  const junk = Buffer.from('not an onnx model');
  await writeTeacher(ws, 'junk', {}, { sha256: createHash('sha256').update(junk).digest('hex') });
  await writeFile(join(ws.dir, 'teachers/junk/model.onnx'), junk);
  await assert.rejects(run('junk'), { name: 'DataError', message: /teachers\/junk\/model\.onnx: ONNX Runtime cannot load it as an ONNX model/ });
  await writeTeacher(ws, 'missing', {}, { model: 'absent.onnx' });
  await assert.rejects(run('missing'), { name: 'DataError', message: /teachers\/missing\/absent\.onnx: the ONNX model file named by .*card\.json does not exist/ });
  await writeTeacher(ws, 'badsha', {}, { sha256: '0'.repeat(64) });
  await assert.rejects(run('badsha'), { name: 'IntegrityError', message: /teachers\/badsha\/model\.onnx: sha256 is [0-9a-f]{64}, but .*card\.json says 0{64}/ });
});

test('NaN/Inf rows: the error policy names them; the zero policy stores 0 and records them in the manifest', async () => {
  const ws = await wsReady;
  // A 40-row dataset whose rows 7 and 31 have pixel 0 = 255: the NaN-injecting teacher makes them NaN.
  const images = new Uint8Array(40 * 784);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7) % 251;
  for (let r = 0; r < 40; r++) images[r * 784] = r === 7 || r === 31 ? 255 : 0;
  const labels = Uint8Array.from({ length: 40 }, (_, i) => i % 10);
  await atomicWrite(join(ws.dir, 'data/nan/train/part-00000.parquet'), encodeTable(mnistTable(images, labels, 0, 40), 'parquet'));
  await indexDataset(join(ws.dir, 'data/nan'), { name: 'nan', label: 'label', classes: 10 }, silentReporter);
  await writeTeacher(ws, 'nan', { injectNaN: true, nanThreshold: 0.5 });
  const cfg = async (name: string, policy: string): Promise<string> => {
    const file = await writeExperiment(ws, name, 'nan', { splits: ['train'], shardRows: 16, batchSize: 8, nonFinite: policy });
    const json = JSON.parse(await readFile(file, 'utf8')) as { dataset: { path: string } };
    json.dataset.path = 'data/nan';
    await writeFile(file, JSON.stringify(json));
    return file;
  };
  await cfg('nan-error', 'error');
  const res = await runCli(['teacher-logits', '-c', 'nan-error.json'], { cwd: ws.dir });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /the teacher produced NaN\/Inf for 1 row of split "train": rows 7; teacherLogits\.nonFinite is "error"/);

  const manifest = await runTeacherLogits(await loadExperiment(await cfg('nan-zero', 'zero'), [], ws.dir), {}, silentReporter);
  assert.deepEqual(manifest.splits.train!.shards.map((s) => [s.nonFinite, s.nonFiniteRows]), [[10, [7]], [10, [31]], [0, []]]);
  assert.equal(manifest.splits.train!.nonFinite, 20);
  assert.equal(manifest.nonFinitePolicy, 'zero');
  const s0 = await (await openStore(join(ws.dir, 'stores/nan-zero'))).readShard('train', 0);
  assert.deepEqual(s0.logits!.subarray(70, 80), new Float32Array(10));
  assert.ok(s0.logits!.subarray(60, 70).every((v) => v !== 0 && Number.isFinite(v)));
  // A store captured under "zero" is not silently accepted under "error".
  await assert.rejects(runTeacherLogits(await loadExperiment(join(ws.dir, 'nan-zero.json'), ['teacherLogits.nonFinite=error'], ws.dir), {}, silentReporter), { name: 'DataError', message: /NaN\/Inf for 1 row of split "train": rows 7;/ });
});

test('device selection in the stage with a fake session factory: the manifest records the provider that ran', async () => {
  const ws = await wsReady;
  await writeTeacher(ws, 'device', { seed: 17 });
  const fake = (cuda: boolean): SessionFactory => (r) => {
    if (r.executionProvider.name === 'cuda' && !cuda) return Promise.reject(new ProviderUnavailableError('fake: no CUDA here'));
    return inProcessSessionFactory({ ...r, executionProvider: { name: 'cpu' } }); // "CUDA present": computed on CPU
  };
  const reporter = new CollectingReporter();
  const absent = await runTeacherLogits(await loadExperiment(await writeExperiment(ws, 'dev-auto', 'device', { splits: ['test'], device: 'auto' }), [], ws.dir), { sessionFactory: fake(false) }, reporter);
  assert.deepEqual([absent.runtime.executionProvider, absent.runtime.requestedDevice], ['cpu', 'auto']);
  assert.ok(reporter.messages('info').includes('device auto: no CUDA execution provider (fake: no CUDA here); running on CPU'));
  const present = await runTeacherLogits(await loadExperiment(await writeExperiment(ws, 'dev-cuda', 'device', { splits: ['test'], device: 'cuda:0' }), [], ws.dir), { sessionFactory: fake(true) }, silentReporter);
  assert.deepEqual([present.runtime.executionProvider, present.runtime.requestedDevice], ['cuda:0', 'cuda:0']);
  await assert.rejects(runTeacherLogits(await loadExperiment(join(ws.dir, 'dev-cuda.json'), [], ws.dir), { sessionFactory: fake(false), force: true }, silentReporter), { name: 'ProviderUnavailableError', message: /device cuda:0: fake: no CUDA here; .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci/ });
  // The real CLI and session factory, on whatever this host has: the notice, the error and the
  // manifest must agree with the provider that ran (CPU here; CUDA where the provider is installed).
  const auto = await runCli(['teacher-logits', '-c', 'dev-auto.json', '--device', 'auto', '--force'], { cwd: ws.dir });
  assert.equal(auto.code, 0, auto.stderr);
  const ran = (await openStore(join(ws.dir, 'stores/dev-auto'))).manifest.runtime;
  const fellBack = jsonLines(auto.stdout).some((l) => /^device auto: no CUDA execution provider \(.+\); running on CPU$/.test(String(l.msg)));
  assert.ok(ran.executionProvider === 'cpu' ? fellBack : ran.executionProvider === 'cuda:0' && !fellBack, `${ran.executionProvider}, fallback notice ${fellBack}`);
  const cli = await runCli(['teacher-logits', '-c', 'dev-cuda.json', '--device', 'cuda:0', '--force'], { cwd: ws.dir });
  if (cli.code === 0) assert.deepEqual((({ executionProvider, requestedDevice }) => [executionProvider, requestedDevice])((await openStore(join(ws.dir, 'stores/dev-cuda'))).manifest.runtime), ['cuda:0', 'cuda:0']);
  else {
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /error: device cuda:0: (the CUDA provider is not installed: .*libonnxruntime_providers_cuda\.so is missing|the CUDA execution provider failed to start .*); .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci/);
  }
});
