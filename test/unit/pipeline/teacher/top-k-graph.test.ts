/**
 * appendTopKGraph: the top-k reduction appended to a teacher's graph gives, through ONNX Runtime, what
 * the host encoder gives on the full output (stages/teacher-logits/encode-topk.ts after the `zero`
 * non-finite policy and toStoredLogits): ids exact, logits and tail log-sum-exps within float
 * tolerance, NaN/Inf counts exact. Checked on crafted logits (ties, large values, NaN/Inf, probs) at
 * opsets 11, 13 and 18 (the three forms of the appended reductions), and on the committed PyTorch
 * export artifacts/teachers/lm-brown (opset 17, vocab 2,000).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeModel, graphOf } from '../../../../pipeline/onnx/decode-model.ts';
import { encodeModel } from '../../../../pipeline/onnx/encode-model.ts';
import { sha256Bytes } from '../../../../pipeline/io/sha256.ts';
import { mulberry32 } from '../../../../pipeline/seeded-random.ts';
import { appendTopKGraph } from '../../../../pipeline/teacher/top-k-graph.ts';
import type { TopKGraph, TopKGraphSpec } from '../../../../pipeline/teacher/top-k-graph.ts';
import type { OutputKind } from '../../../../pipeline/teacher/teacher-card.ts';
import { toStoredLogits } from '../../../../pipeline/teacher/teacher-tensors.ts';
import { encodeTopK } from '../../../../stages/teacher-logits/encode-topk.ts';
import { applyNonFinitePolicy } from '../../../../stages/teacher-logits/non-finite.ts';

/** logits = Identity(x): the graph reduction then sees exactly the values fed. */
function identity(classes: number, opsetVersion: number): Uint8Array {
  return encodeModel({
    opsetVersion,
    graph: {
      name: 'identity',
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['logits'] }],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', classes] }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', classes] }],
    },
  });
}

interface Reduced { index: Int32Array; logit: Float32Array; tail: Float32Array | null; nonFinite: Int32Array }

async function runReduced(g: TopKGraph, feeds: Record<string, ort.Tensor>): Promise<Reduced> {
  const session = await ort.InferenceSession.create(g.bytes);
  try {
    const o = g.outputs;
    const out = await session.run(feeds, [o.index, o.logit, ...(o.tail ? [o.tail] : []), o.nonFinite]);
    return { index: out[o.index]!.data as Int32Array, logit: out[o.logit]!.data as Float32Array, tail: o.tail ? (out[o.tail]!.data as Float32Array) : null, nonFinite: out[o.nonFinite]!.data as Int32Array };
  } finally {
    await session.release();
  }
}

/** The host's reduction of `raw` (rows x classes) as the stage does it: toStoredLogits, zero policy, encodeTopK. */
function hostReduction(raw: Float32Array, rows: number, classes: number, k: number, t: number, kind: OutputKind): { enc: ReturnType<typeof encodeTopK>; nonFinite: number[] } {
  const z = toStoredLogits(raw.slice(), kind);
  const nonFinite = Array.from({ length: rows }, (_, r) => z.subarray(r * classes, (r + 1) * classes).reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0));
  applyNonFinitePolicy(z, classes, 0, 'zero', 'test');
  return { enc: encodeTopK(z, rows, classes, k, t), nonFinite };
}

function assertSame(got: Reduced, want: ReturnType<typeof hostReduction>, tol: number, label: string): void {
  assert.deepEqual([...got.index], [...want.enc.index], `${label}: ids`);
  assert.deepEqual([...got.nonFinite], want.nonFinite, `${label}: NaN/Inf counts`);
  got.logit.forEach((v, i) => assert.ok(Math.abs(v - want.enc.logit[i]!) <= tol * Math.max(1, Math.abs(v)), `${label}: logit[${i}] ${v} vs ${want.enc.logit[i]}`));
  if (got.tail === null) assert.ok(want.enc.tailLogSumExp.every((v) => v === -Infinity), `${label}: k = V has an empty tail`);
  else got.tail.forEach((v, i) => assert.ok(Math.abs(v - want.enc.tailLogSumExp[i]!) <= tol * Math.max(1, Math.abs(v)), `${label}: tail[${i}] ${v} vs ${want.enc.tailLogSumExp[i]}`));
}

// 6 rows of 7 classes: ties (kept and straddling k), logits near float32 exp overflow at T = 0.5, NaN and +-Inf.
const V = 7;
const CRAFTED = new Float32Array([
  1, 3, 3, 2, 0, -1, 3,
  100, 90, 95, 99, 100, 80, 60,
  -3, -3, -3, -3, -3, -3, -3,
  NaN, 1, 2, Infinity, -Infinity, 0, 5,
  0.25, -7.5, 12.125, 12.125, 4, 4, -0.5,
  -40, 45, 44.9, 45, -50, 30, 44,
]);

for (const opset of [11, 13, 18]) {
  for (const [k, t] of [[2, 1], [3, 0.5], [V, 2.5]] as const) {
    void test(`opset ${opset}, k ${k}, T ${t}: graph reduction equals the host encoder on ties, large logits and NaN/Inf`, async () => {
      const g = appendTopKGraph(identity(V, opset), 'identity.onnx', { output: 'logits', kind: 'logits', classes: V, k, temperature: t });
      assert.equal(g.opsetVersion, opset);
      assert.equal(g.outputs.tail === null, k === V);
      assert.equal(g.ops.includes('Div'), t !== 1 && k < V, 'no division at T = 1 or without a tail');
      const got = await runReduced(g, { x: new ort.Tensor('float32', CRAFTED.slice(), [6, V]) });
      assertSame(got, hostReduction(CRAFTED, 6, V, k, t, 'logits'), 1e-6, `opset ${opset}`);
    });
  }
}

void test('probs and log_probs outputs: the graph takes logs as toStoredLogits does (p = 0 -> log 2^-149, p < 0 -> NaN)', async () => {
  const probs = new Float32Array([0.5, 0.25, 0.125, 0.125, 0, 0, 1, 0, 0, 0, 0.3, -0.1, 0.4, 0.2, 0.2, 0]);
  for (const kind of ['probs', 'log_probs'] as const) {
    const x = kind === 'probs' ? probs : Float32Array.from(probs, (p) => (p > 0 ? Math.log(p) : -30));
    const g = appendTopKGraph(identity(4, 13), 'identity.onnx', { output: 'logits', kind, classes: 4, k: 2, temperature: 2 });
    const got = await runReduced(g, { x: new ort.Tensor('float32', x.slice(), [4, 4]) });
    assertSame(got, hostReduction(x, 4, 4, 2, 2, kind), 1e-6, kind);
  }
});

void test('the rewritten model keeps every byte outside the graph, appends the reduction to the graph, and is deterministic', async () => {
  const original = identity(V, 13);
  // A field no ONNX version defines (ModelProto field 997, varint 1): a decode/re-encode would drop it, the append keeps it.
  const unknown = [0xa8, 0x3e, 0x01];
  const withUnknown = new Uint8Array([...original, ...unknown]);
  const spec: TopKGraphSpec = { output: 'logits', kind: 'logits', classes: V, k: 3, temperature: 2 };
  const g = appendTopKGraph(withUnknown, 'm.onnx', spec);
  assert.deepEqual([...g.bytes.subarray(g.bytes.length - 3)], unknown);
  const before = decodeModel(withUnknown, 'm.onnx');
  const after = decodeModel(g.bytes, 'm.onnx');
  assert.equal(String(after.irVersion), String(before.irVersion));
  assert.deepEqual(after.opsetImport, before.opsetImport);
  const session = await ort.InferenceSession.create(g.bytes);
  assert.deepEqual(session.outputNames, ['logits', g.outputs.index, g.outputs.logit, g.outputs.tail, g.outputs.nonFinite]);
  await session.release();
  assert.equal(g.sha256, sha256Bytes(g.bytes));
  assert.equal(appendTopKGraph(withUnknown, 'm.onnx', spec).sha256, g.sha256);
  assert.notEqual(appendTopKGraph(withUnknown, 'm.onnx', { ...spec, k: 4 }).sha256, g.sha256);
  const graph = graphOf(decodeModel(g.bytes, 'm.onnx'), 'm.onnx');
  assert.equal(graph.node[0]!.opType, 'Identity');
  assert.deepEqual(graph.node.slice(1).map((n) => n.opType).filter((op) => op !== 'Constant'), g.ops);
  assert.deepEqual(graph.output.map((o) => o.name), ['logits', g.outputs.index, g.outputs.logit, g.outputs.tail, g.outputs.nonFinite]);
  assert.deepEqual(g.ops, ['Sub', 'IsNaN', 'Cast', 'ReduceSum', 'Cast', 'Where', 'TopK', 'Cast', 'Div', 'Shape', 'ConstantOfShape', 'ScatterElements', 'ReduceLogSumExp']);
});

void test('BAD CALL appendTopKGraph names the file and what is wrong', () => {
  const spec: TopKGraphSpec = { output: 'logits', kind: 'logits', classes: V, k: 2, temperature: 1 };
  assert.throws(() => appendTopKGraph(identity(V, 10), 'old.onnx', spec), { name: 'DataError', message: /old\.onnx: the model imports ai\.onnx opset 10; reducing its output in the graph needs opset 11 or later/ });
  assert.throws(() => appendTopKGraph(identity(V, 13), 'a.onnx', { ...spec, output: 'probs' }), { name: 'DataError', message: /a\.onnx: "probs" is not a graph output \(outputs: logits\)/ });
  assert.throws(() => appendTopKGraph(identity(V, 13), 'a.onnx', { ...spec, classes: 8 }), { name: 'DataError', message: /output "logits" has 7 values on its last axis, but the card says 8 classes/ });
  assert.throws(() => appendTopKGraph(identity(V, 13), 'a.onnx', { ...spec, k: 8 }), { name: 'RangeError', message: /k must be an integer in 1\.\.7, but got 8/ });
  const half = encodeModel({ graph: { name: 'h', nodes: [{ opType: 'Cast', inputs: ['x'], outputs: ['logits'], attributes: { to: 10 } }], inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', V] }], outputs: [{ name: 'logits', dtype: 'float16', shape: ['batch', V] }] } });
  assert.throws(() => appendTopKGraph(half, 'h.onnx', spec), { name: 'DataError', message: /h\.onnx: output "logits" has element type FLOAT16; the graph reduction reads float32 logits/ });
  const clash = encodeModel({ graph: { name: 'c', nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['distill_topk/z'] }, { opType: 'Identity', inputs: ['distill_topk/z'], outputs: ['logits'] }], inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', V] }], outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', V] }] } });
  assert.throws(() => appendTopKGraph(clash, 'c.onnx', spec), { name: 'DataError', message: /already has a value named "distill_topk\/z"/ });
  assert.throws(() => appendTopKGraph(new Uint8Array([0x3a, 0x05, 0x01]), 'x.onnx', spec), { name: 'DataError', message: /x\.onnx: not an ONNX model/ });
});

void test('the committed PyTorch export lm-brown (opset 17, [batch, seq, 2000]): graph reduction equals host reduction of its full logits', async () => {
  const path = 'artifacts/teachers/lm-brown/model.onnx';
  const bytes = new Uint8Array(await readFile(path));
  const [B, L, VOCAB, k, t] = [2, 12, 2000, 16, 1.5];
  const g = appendTopKGraph(bytes, path, { output: 'logits', kind: 'logits', classes: VOCAB, k, temperature: t });
  assert.equal(g.opsetVersion, 17);
  const rand = mulberry32(5);
  const ids = BigInt64Array.from({ length: B * L }, () => BigInt(1 + Math.floor(rand() * (VOCAB - 1))));
  const got = await runReduced(g, { input_ids: new ort.Tensor('int64', ids, [B, L]) });
  const plain = await ort.InferenceSession.create(bytes);
  const full = (await plain.run({ input_ids: new ort.Tensor('int64', ids.slice(), [B, L]) })).logits!.data as Float32Array;
  await plain.release();
  assertSame(got, hostReduction(full, B * L, VOCAB, k, t, 'logits'), 1e-5, 'lm-brown');
});
