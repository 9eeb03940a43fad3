// Verify the lm-brown teacher with ONNX Runtime (no PyTorch needed).
//
//   node artifacts/teachers/lm-brown/check_onnx.mjs [ids.i32 lengths.i32]   (from the repository root)
//
// Checks, in order:
//   1. sha256 of model.onnx equals card.json's sha256, training-record.json's and reference-logits.json's;
//   2. the session's input/output names, input type and dynamic axes match the card;
//   3. the reference inputs (a full test window, the first padded test window cut to its length, 7 tokens)
//      run one at a time give torch's values (reference-logits.json: per position logsumexp, argmax,
//      the logits of ids 0..7 and of the next token) within 1e-4;
//   4. the same three inputs right-padded with id 0 into one [3, 128] batch give the same values at every
//      real position (dynamic batch; padding does not change real positions: attention is causal);
//   5. optional: with the test windows as raw little-endian int32 files (input_ids [N*128], length [N]),
//      the test perplexity (training-record.json definition) equals torch's within 1e-4 relative, and
//      the throughput in tokens/s is printed (ORT default CPU threads, or ORT_THREADS=n).
// Exits non-zero if any check fails.

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
const readJson = (name) => JSON.parse(readFileSync(join(HERE, name), 'utf8'));

// ---------------------------------------------------------------- 1. files and hashes
const card = readJson('card.json');
const record = readJson('training-record.json');
const reference = readJson('reference-logits.json');
const modelPath = join(HERE, card.model);
const modelBytes = readFileSync(modelPath);
const sha = createHash('sha256').update(modelBytes).digest('hex');
console.log(`model ${modelPath} (${modelBytes.length} bytes) sha256 ${sha}`);
for (const [what, value] of [['card.json sha256', card.sha256], ['training-record onnxSha256', record.onnxSha256],
  ['reference-logits onnxSha256', reference.onnxSha256]]) {
  if (value !== sha) fail(`sha256 ${sha} != ${what} ${value}`);
}

// ---------------------------------------------------------------- 2. session and bindings
const options = { executionProviders: ['cpu'] };
if (process.env.ORT_THREADS) options.intraOpNumThreads = Number(process.env.ORT_THREADS);
const session = await ort.InferenceSession.create(modelPath, options);
const input = card.inputs[0];
if (session.inputNames.length !== 1 || session.inputNames[0] !== input.name) {
  fail(`model inputs ${JSON.stringify(session.inputNames)}, card expects ["${input.name}"]`);
}
if (!session.outputNames.includes(card.output.name)) fail(`model has no output "${card.output.name}"`);
const meta = session.inputMetadata?.find?.((m) => m.name === input.name);
if (meta) {
  console.log(`input ${JSON.stringify({ type: meta.type, shape: meta.shape })}`);
  if (meta.type !== input.dtype) fail(`input type ${meta.type} != card dtype ${input.dtype}`);
  if (!(meta.shape ?? []).every((d) => typeof d === 'string')) fail(`axes not dynamic: ${JSON.stringify(meta.shape)}`);
}
const V = card.tokenizer.vocabSize;
const L = card.context;

async function logits(rows, seq) {
  const ids = new BigInt64Array(rows.length * seq); // right-padded with id 0
  rows.forEach((r, b) => r.forEach((id, t) => { ids[b * seq + t] = BigInt(id); }));
  const out = await session.run({ [input.name]: new ort.Tensor('int64', ids, [rows.length, seq]) });
  const z = out[card.output.name];
  if (z.dims.join() !== [rows.length, seq, V].join()) fail(`logits dims ${z.dims}, expected ${[rows.length, seq, V]}`);
  return z.data;
}

function compare(label, z, base, ref, ids) {
  let maxDiff = 0;
  let argmaxMismatch = 0;
  for (let t = 0; t < ids.length; t++) {
    const row = z.subarray(base + t * V, base + (t + 1) * V);
    let m = -Infinity;
    let arg = 0;
    for (let v = 0; v < V; v++) if (row[v] > m) { m = row[v]; arg = v; }
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(row[v] - m);
    const next = t + 1 < ids.length ? ids[t + 1] : ids[0];
    const diffs = [m + Math.log(s) - ref.lse[t], row[next] - ref.nextTokenLogit[t], ...ref.first8[t].map((x, v) => row[v] - x)];
    for (const d of diffs) maxDiff = Math.max(maxDiff, Math.abs(d));
    if (arg !== ref.argmax[t]) argmaxMismatch += 1;
  }
  console.log(`${label}: ${ids.length} positions, max |ORT - torch| ${maxDiff.toExponential(2)}, argmax mismatches ${argmaxMismatch}`);
  if (!(maxDiff <= TOL)) fail(`${label}: max |diff| ${maxDiff} > ${TOL}`);
  if (argmaxMismatch > 0) fail(`${label}: ${argmaxMismatch} argmax mismatches`);
}

// ---------------------------------------------------------------- 3. and 4. reference inputs
for (const [i, c] of reference.cases.entries()) {
  compare(`case ${i} alone [1, ${c.input_ids.length}]`, await logits([c.input_ids], c.input_ids.length), 0, c, c.input_ids);
}
const batch = await logits(reference.cases.map((c) => c.input_ids), L);
reference.cases.forEach((c, i) => compare(`case ${i} in padded batch [3, ${L}]`, batch, i * L * V, c, c.input_ids));

// ---------------------------------------------------------------- 5. optional: test perplexity
if (process.argv.length >= 4) {
  const buf = (p) => { const b = readFileSync(p); return new Int32Array(b.buffer, b.byteOffset, b.length / 4); };
  const ids = buf(process.argv[2]);
  const lengths = buf(process.argv[3]);
  const B = 64;
  let nll = 0;
  let n = 0;
  let tokens = 0;
  const t0 = performance.now();
  for (let r0 = 0; r0 < lengths.length; r0 += B) {
    const rows = [];
    for (let r = r0; r < Math.min(r0 + B, lengths.length); r++) rows.push(Array.from(ids.subarray(r * L, (r + 1) * L)));
    const z = await logits(rows, L);
    rows.forEach((row, b) => {
      const len = lengths[r0 + b];
      tokens += len;
      for (let t = 0; t < len - 1; t++) {
        const zr = z.subarray((b * L + t) * V, (b * L + t + 1) * V);
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, zr[v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(zr[v] - m);
        nll += m + Math.log(s) - zr[row[t + 1]];
        n += 1;
      }
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  const ppl = Math.exp(nll / n);
  const rel = Math.abs(ppl - record.test.perplexity) / record.test.perplexity;
  console.log(`test: ${lengths.length} windows, ${n} targets, perplexity ${ppl.toFixed(4)} (torch ${record.test.perplexity}), `
    + `relative diff ${rel.toExponential(2)}; ${Math.round(tokens / seconds)} tokens/s incl. the JS softmax`);
  if (n !== record.test.targets) fail(`test targets ${n} != training-record ${record.test.targets}`);
  if (!(rel <= TOL)) fail(`test perplexity ${ppl} vs torch ${record.test.perplexity}`);
}

console.log(failures.length === 0 ? 'OK' : `${failures.length} check(s) failed`);
process.exit(failures.length === 0 ? 0 : 1);
