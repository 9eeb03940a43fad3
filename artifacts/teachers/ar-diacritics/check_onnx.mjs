// Verify the committed Arabic diacritisation teacher with ONNX Runtime (no PyTorch needed).
//
//   node artifacts/teachers/ar-diacritics/check_onnx.mjs [extra-reference.json ...]   (from the repository root)
//
// Checks, in order:
//   1. sha256 of model.onnx equals card.json's sha256 and training-record.json's onnxSha256;
//      vocab.json's sha256 equals the card's tokenizer sha256;
//   2. input/output names, types and dynamic axes match the card (input_ids, attention_mask int64
//      [batch, seq]; logits float32 [batch, seq, 15]);
//   3. reference-logits.json (seeded random ids, no corpus text) and any extra reference files given on
//      the command line (e.g. validation windows written by train_teacher.py --val-reference, kept out of
//      the repository): ORT logits equal torch's within 1e-4;
//   4. the same rows cut to their own length (batch 1, seq = length) give the same logits at the real
//      positions as the padded batch (padding does not leak), within 1e-4.
// Exits non-zero on any failure. ORT_THREADS=n sets ORT's intra-op threads.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

const HERE = dirname(fileURLToPath(import.meta.url));
const TOL = 1e-4;
const failures = [];
const fail = (msg) => {
  failures.push(msg);
  console.error(`FAIL: ${msg}`);
};
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const sha256 = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');

// ---------------------------------------------------------------- 1. files and hashes
const card = readJson(join(HERE, 'card.json'));
const record = readJson(join(HERE, 'training-record.json'));
const modelPath = join(HERE, card.model);
const sha = sha256(modelPath);
console.log(`model      ${modelPath}\nsha256     ${sha}`);
if (sha !== card.sha256) fail(`sha256 ${sha} != card.json ${card.sha256}`);
if (sha !== record.onnxSha256) fail(`sha256 ${sha} != training-record.json ${record.onnxSha256}`);
const vocabSha = sha256(join(HERE, card.tokenizer.file));
if (vocabSha !== card.tokenizer.sha256) fail(`vocab sha256 ${vocabSha} != card ${card.tokenizer.sha256}`);
const nClasses = card.classes.count;

// ---------------------------------------------------------------- 2. session and bindings
const options = { executionProviders: ['cpu'] };
if (process.env.ORT_THREADS) options.intraOpNumThreads = Number(process.env.ORT_THREADS);
const session = await ort.InferenceSession.create(modelPath, options);
console.log(`onnxruntime-node ${ort.env.versions?.common ?? '?'}; inputs ${session.inputNames}; outputs ${session.outputNames}`);
const wantInputs = card.inputs.map((i) => i.name);
if (JSON.stringify(session.inputNames) !== JSON.stringify(wantInputs)) {
  fail(`model inputs ${JSON.stringify(session.inputNames)}, card expects ${JSON.stringify(wantInputs)}`);
}
for (const input of card.inputs) {
  const meta = session.inputMetadata?.find?.((m) => m.name === input.name);
  if (!meta) continue;
  console.log(`input  ${input.name} ${JSON.stringify({ type: meta.type, shape: meta.shape })}`);
  if (meta.type !== input.dtype) fail(`${input.name}: type ${meta.type} != card ${input.dtype}`);
  if (!(meta.shape?.length === 2 && meta.shape.every((d) => typeof d === 'string'))) {
    fail(`${input.name}: shape ${JSON.stringify(meta.shape)} is not [dynamic batch, dynamic seq]`);
  }
}
const outMeta = session.outputMetadata?.find?.((m) => m.name === card.output.name);
if (!session.outputNames.includes(card.output.name)) fail(`no output "${card.output.name}"`);
if (outMeta) console.log(`output ${card.output.name} ${JSON.stringify({ type: outMeta.type, shape: outMeta.shape })}`);

async function run(rows) {
  const b = rows.length;
  const s = rows[0].length;
  const ids = new BigInt64Array(b * s);
  const mask = new BigInt64Array(b * s);
  rows.forEach((row, r) => row.forEach((id, t) => {
    ids[r * s + t] = BigInt(id);
    mask[r * s + t] = id !== 0 ? 1n : 0n;
  }));
  const out = await session.run({
    input_ids: new ort.Tensor('int64', ids, [b, s]),
    attention_mask: new ort.Tensor('int64', mask, [b, s]),
  });
  const logits = out[card.output.name];
  if (JSON.stringify(logits.dims) !== JSON.stringify([b, s, nClasses])) {
    fail(`logits dims ${JSON.stringify(logits.dims)}, expected ${JSON.stringify([b, s, nClasses])}`);
  }
  return logits.data;
}

// ---------------------------------------------------------------- 3. and 4. torch vs ORT, padding
async function checkReference(path) {
  const ref = readJson(path);
  const [b, s, v] = ref.shape;
  const got = await run(ref.input_ids);
  let maxDiff = 0;
  for (let r = 0; r < b; r++) {
    for (let t = 0; t < s; t++) {
      if (ref.input_ids[r][t] === 0) continue; // padding positions are never used
      for (let c = 0; c < v; c++) {
        const k = (r * s + t) * v + c;
        maxDiff = Math.max(maxDiff, Math.abs(got[k] - ref.logits[k]));
      }
    }
  }
  console.log(`${path}: ${b} rows (${ref.note}): torch vs ORT max |diff| = ${maxDiff.toExponential(2)}`);
  if (!(maxDiff <= TOL)) fail(`${path}: logits differ from torch by ${maxDiff} (> ${TOL})`);
  let padDiff = 0;
  for (let r = 0; r < b; r++) {
    const len = ref.input_ids[r].findIndex((id) => id === 0);
    const n = len === -1 ? s : len;
    const alone = await run([ref.input_ids[r].slice(0, n)]);
    for (let k = 0; k < n * v; k++) padDiff = Math.max(padDiff, Math.abs(alone[k] - got[r * s * v + k]));
  }
  console.log(`${path}: each row alone at seq = its length vs padded batch: max |diff| = ${padDiff.toExponential(2)}`);
  if (!(padDiff <= TOL)) fail(`${path}: padding changes real positions by ${padDiff} (> ${TOL})`);
}

for (const p of [join(HERE, 'reference-logits.json'), ...process.argv.slice(2)]) await checkReference(p);

if (failures.length) {
  console.error(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('\nOK: model.onnx matches its card and torch');
