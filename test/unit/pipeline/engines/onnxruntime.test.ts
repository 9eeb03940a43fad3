/**
 * Device selection through a fake session factory (there is no GPU here: "CUDA present" and "CUDA
 * absent" are simulated at the session-creation boundary), and the real factory on CPU.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { inProcessSessionFactory, openSession, parseDevice, ProviderUnavailableError } from '../../../../pipeline/engines/onnxruntime.ts';
import type { EngineSession, SessionFactory, SessionRequest } from '../../../../pipeline/engines/onnxruntime.ts';
import { workerSessionFactory } from '../../../../pipeline/engines/onnxruntime-worker-client.ts';
import { projectRoot } from '../../../../pipeline/provenance.ts';
import { CollectingReporter } from '../../../../pipeline/reporter.ts';
import { makeTinyTeacher, tinyTeacherForward } from '../../../fixtures/tiny-teacher.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

const fakeSession: EngineSession = { inputMetadata: [], outputMetadata: [], run: () => Promise.resolve({}), release: () => Promise.resolve() };

/** A factory that records requests; `cuda` says whether the CUDA provider "exists". */
function fakeFactory(cuda: boolean): { factory: SessionFactory; requests: SessionRequest[] } {
  const requests: SessionRequest[] = [];
  return {
    requests,
    factory: (r) => {
      requests.push(r);
      if (r.executionProvider.name === 'cuda' && !cuda) return Promise.reject(new ProviderUnavailableError('fake: libonnxruntime_providers_cuda.so is missing'));
      return Promise.resolve(fakeSession);
    },
  };
}

test('device auto without CUDA falls back to CPU with a one-line notice', async () => {
  const { factory, requests } = fakeFactory(false);
  const reporter = new CollectingReporter();
  const opened = await openSession('m.onnx', { device: 'auto', factory, intraOpThreads: 2, graphOptimization: 'basic' }, reporter);
  assert.equal(opened.executionProvider, 'cpu');
  assert.equal(opened.requestedDevice, 'auto');
  assert.deepEqual(requests.map((r) => r.executionProvider), [{ name: 'cuda', deviceId: 0 }, { name: 'cpu' }]);
  assert.deepEqual(requests.map((r) => [r.intraOpThreads, r.graphOptimization]), [[2, 'basic'], [2, 'basic']]);
  assert.deepEqual(reporter.messages(), ['device auto: no CUDA execution provider (fake: libonnxruntime_providers_cuda.so is missing); running on CPU']);
});

test('device auto and cuda:1 with CUDA present record the CUDA provider that ran', async () => {
  const reporter = new CollectingReporter();
  const auto = await openSession('m.onnx', { device: 'auto', factory: fakeFactory(true).factory }, reporter);
  assert.equal(auto.executionProvider, 'cuda:0');
  const { factory, requests } = fakeFactory(true);
  const one = await openSession('m.onnx', { device: 'cuda:1', factory }, reporter);
  assert.equal(one.executionProvider, 'cuda:1');
  assert.deepEqual(requests[0]!.executionProvider, { name: 'cuda', deviceId: 1 });
  assert.deepEqual(reporter.messages(), []);
  const cpu = await openSession('m.onnx', { device: 'cpu', factory }, reporter);
  assert.equal(cpu.executionProvider, 'cpu');
});

test('BAD CALL device cuda without the provider is an error with the install hint; bad device strings are refused', async () => {
  await assert.rejects(openSession('m.onnx', { device: 'cuda', factory: fakeFactory(false).factory }, new CollectingReporter()), {
    name: 'ProviderUnavailableError',
    message: /^device cuda: fake: .* is missing; .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` \(or `make <target> CUDA=1`\), or use --device cpu$/,
  });
  // The real factory says the same where the CUDA provider is not installed or cannot start, and
  // opens a CUDA session where it can: either way what it reports is what it did.
  const real = await openSession(makeTinyTeacher().bytes, { device: 'cuda:0' }, new CollectingReporter()).then(
    async (opened) => (await opened.session.release(), opened.executionProvider),
    (err: Error) => err,
  );
  if (typeof real === 'string') assert.equal(real, 'cuda:0');
  else assert.match(`${real.name}: ${real.message}`, /^ProviderUnavailableError: device cuda:0: (the CUDA provider is not installed: .*libonnxruntime_providers_cuda\.so is missing|the CUDA execution provider failed to start .*); .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
  for (const bad of ['gpu', 'cuda:', 'cpu:0', 'auto:1', 'CUDA']) {
    assert.throws(() => parseDevice(bad), { name: 'ConfigError', message: `device must be one of auto, cpu, cuda, cuda:<id>, but got ${JSON.stringify(bad)}` });
  }
  assert.deepEqual(parseDevice('cuda:3'), { kind: 'cuda', id: 3 });
});

test('BAD CALL a missing or non-ONNX model file is a DataError naming it (in-process and worker factories)', async () => {
  const dir = await tmpDir();
  const junk = join(dir, 'junk.onnx');
  await writeFile(junk, 'this is not a protobuf');
  for (const factory of [inProcessSessionFactory, workerSessionFactory]) {
    await assert.rejects(openSession(join(dir, 'missing.onnx'), { device: 'cpu', factory }, new CollectingReporter()), { name: 'DataError', message: `${join(dir, 'missing.onnx')}: the ONNX model file does not exist` });
    await assert.rejects(openSession(junk, { device: 'cpu', factory }, new CollectingReporter()), { name: 'DataError', message: new RegExp(`^${junk}: ONNX Runtime cannot load it as an ONNX model \\(.*protobuf parsing failed`, 'i') });
  }
});

test('the worker-thread session computes what the model computes and exposes ORT metadata', async () => {
  const teacher = makeTinyTeacher({ seed: 4, inputSize: 6, hidden: 5, classes: 3 });
  const { session } = await openSession(teacher.bytes, { device: 'cpu', factory: workerSessionFactory }, new CollectingReporter());
  try {
    assert.deepEqual(session.inputMetadata, [{ name: 'pixels', isTensor: true, type: 'float32', shape: ['batch', 6] }]);
    assert.deepEqual(session.outputMetadata, [{ name: 'logits', isTensor: true, type: 'float32', shape: ['batch', 3] }]);
    const x = Float32Array.from({ length: 12 }, (_, i) => i / 12);
    const expected = tinyTeacherForward(teacher.weights, x, 2);
    const out = await session.run({ pixels: { type: 'float32', data: Float32Array.from(x), dims: [2, 6] } });
    assert.deepEqual(out.logits!.dims, [2, 3]);
    for (let i = 0; i < 6; i++) assert.ok(Math.abs(out.logits!.data[i] as number - expected[i]!) < 1e-5, `logit ${i}`);
  } finally {
    await session.release();
  }
  await assert.rejects(session.run({}), /released/);
});

test('releasing a worker-thread session with runs still queued: every run completes, then the process ends normally (not exit 13)', () => {
  // Before the fix, 4 of 5 such children exited 13 (the last run's reply unref'd the terminating
  // worker) and the queued runs were rejected ("Session already disposed" or the worker's exit).
  // Two children: the exit code was a race; the rejected runs were not.
  for (let i = 0; i < 2; i++) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/release-with-runs-in-flight.ts'], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, `child ${i} exited ${child.status} (13 = unsettled top-level await)\n${child.stderr}`);
    assert.equal(child.stdout, 'released; runs: fulfilled [2,3], fulfilled [2,3], fulfilled [2,3]\n');
  }
});
