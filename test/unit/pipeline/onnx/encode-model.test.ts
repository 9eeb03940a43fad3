/**
 * encodeModel tests. The independent reader is ONNX Runtime: every model written here is loaded by
 * `ort.InferenceSession.create(bytes)` and its outputs are compared with plain-JS references (float64
 * accumulation) written in this file or in test/fixtures/tiny-teacher.ts. The fields are also read back
 * with the onnx-proto decoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../../../pipeline/onnx/encode-model.ts';
import type { OnnxAttributeValue, OnnxModelSpec } from '../../../../pipeline/onnx/encode-model.ts';
import { attributesOf, decodedTensor, graphOf, tensorTypeOf } from '../../../../pipeline/onnx/decode-model.ts';
import { int64ToNumber, onnx } from '../../../../pipeline/onnx/onnx-proto.ts';
import { makeTinyTeacher, mulberry32, tinyTeacherForward } from '../../../fixtures/tiny-teacher.ts';

const TOL = 1e-5;

function randomArray(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

/** Element-wise |a - b| <= tol; NaN must sit exactly where the expectation has NaN. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k] as number;
    const e = expected[k] as number;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${label}[${k}]: expected NaN, got ${a}`);
    } else {
      assert.ok(Math.abs(a - e) <= tol, `${label}[${k}]: got ${a}, expected ${e} (tol ${tol})`);
    }
  }
}

function tensorMeta(meta: ort.InferenceSession.ValueMetadata): { type: string; shape: readonly (number | string)[] } {
  assert.equal(meta.isTensor, true, `${meta.name} is a tensor`);
  if (!meta.isTensor) throw new Error('unreachable');
  return { type: meta.type, shape: meta.shape };
}

async function runOne(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, name: string): Promise<ort.Tensor> {
  const result = await session.run(feeds);
  const out = result[name];
  assert.ok(out !== undefined, `output ${name} present`);
  return out;
}

function rowSlices(data: ArrayLike<number>, cols: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r * cols < data.length; r++) rows.push(Array.from({ length: cols }, (_, c) => data[r * cols + c] as number));
  return rows;
}

void test('encodeModel bytes decode with onnx-proto into the spec: names, types, dims, raw_data, attributes, opsets', () => {
  const spec: OnnxModelSpec = {
    producerName: 'distill-test',
    opsetVersion: 17,
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'g',
      docString: 'doc',
      nodes: [
        { opType: 'Gemm', name: 'fc', inputs: ['x', 'W'], outputs: ['y'], attributes: { alpha: { f: 0.5 }, transB: 1, big: { i: 2n ** 60n + 3n }, pads: [1, -2], mode: 'constant' } },
      ],
      initializers: [{ name: 'W', dtype: 'float32', dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
    },
  };
  const m = onnx.ModelProto.decode(encodeModel(spec));
  assert.equal(int64ToNumber(m.irVersion, 'irVersion'), 8);
  assert.equal(m.producerName, 'distill-test');
  assert.deepEqual(m.opsetImport.map((o) => [o.domain, int64ToNumber(o.version, 'version')]), [['', 17], ['com.microsoft', 1]]);
  const g = graphOf(m, 'model');
  assert.deepEqual([g.name, g.docString], ['g', 'doc']);
  const node = g.node[0]!;
  assert.deepEqual([node.opType, node.name, node.input, node.output], ['Gemm', 'fc', ['x', 'W'], ['y']]);
  const attr = Object.fromEntries(attributesOf(node).map((a) => [a.name, a]));
  assert.equal(attr.alpha!.type, onnx.AttributeProto.AttributeType.FLOAT);
  assert.equal(attr.alpha!.f, 0.5);
  assert.equal(attr.transB!.type, onnx.AttributeProto.AttributeType.INT);
  assert.equal(int64ToNumber(attr.transB!.i, 'transB'), 1);
  assert.equal(String(attr.big!.i), String(2n ** 60n + 3n));
  assert.deepEqual(attr.pads!.ints.map((v) => int64ToNumber(v, 'pads')), [1, -2]);
  assert.equal(new TextDecoder().decode(attr.mode!.s), 'constant');
  const w = decodedTensor(g.initializer[0]!);
  assert.deepEqual([w.name, w.dataType, w.dims.map((d) => int64ToNumber(d, 'dims'))], ['W', onnx.TensorProto.DataType.FLOAT, [2, 3]]);
  assert.deepEqual(new Float32Array(new Uint8Array(w.rawData).buffer), new Float32Array([1, 2, 3, 4, 5, 6]));
  const dims = tensorTypeOf(g.input[0]!)!.dims!;
  assert.deepEqual([dims[0]!.dimParam, int64ToNumber(dims[1]!.dimValue, 'dim')], ['batch', 3]);
});

void test('tiny teacher loads from a buffer with the declared names, dtypes and symbolic batch dim', async () => {
  const { bytes } = makeTinyTeacher();
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['pixels']);
  assert.deepEqual(session.outputNames, ['logits']);
  assert.equal(session.inputMetadata.length, 1);
  assert.equal(session.inputMetadata[0]?.name, 'pixels');
  assert.deepEqual(tensorMeta(session.inputMetadata[0] as ort.InferenceSession.ValueMetadata), {
    type: 'float32',
    shape: ['batch', 784],
  });
  assert.deepEqual(tensorMeta(session.outputMetadata[0] as ort.InferenceSession.ValueMetadata), {
    type: 'float32',
    shape: ['batch', 10],
  });
  await session.release();
});

void test('tiny teacher logits for a batch of 5 equal tinyTeacherForward within 1e-5', async () => {
  const teacher = makeTinyTeacher({ seed: 7 });
  const session = await ort.InferenceSession.create(teacher.bytes);
  const x = randomArray(5 * 784, 11);
  const out = await runOne(session, { pixels: new ort.Tensor('float32', x, [5, 784]) }, 'logits');
  assert.equal(out.type, 'float32');
  assert.deepEqual(out.dims, [5, 10]);
  const expected = tinyTeacherForward(teacher.weights, x, 5);
  assertClose(out.data as Float32Array, expected, TOL, 'logits');
  // Real, non-degenerate logits: every row has a spread of at least 0.5 and values stay O(1..5).
  for (const row of rowSlices(expected, 10)) {
    assert.ok(Math.max(...row) - Math.min(...row) > 0.5, `row spread ${row.join(',')}`);
    assert.ok(row.every((v) => Math.abs(v) < 10), `row magnitude ${row.join(',')}`);
  }
  await session.release();
});

void test('tiny teacher batch axis is dynamic: batch 1 and batch 7 both run', async () => {
  const teacher = makeTinyTeacher({ seed: 3 });
  const session = await ort.InferenceSession.create(teacher.bytes);
  for (const n of [1, 7]) {
    const x = randomArray(n * 784, 100 + n);
    const out = await runOne(session, { pixels: new ort.Tensor('float32', x, [n, 784]) }, 'logits');
    assert.deepEqual(out.dims, [n, 10]);
    assertClose(out.data as Float32Array, tinyTeacherForward(teacher.weights, x, n), TOL, `batch ${n}`);
  }
  await session.release();
});

void test('tiny teacher probs variant: rows sum to 1 and match the reference softmax', async () => {
  const teacher = makeTinyTeacher({ seed: 5, outputKind: 'probs' });
  const session = await ort.InferenceSession.create(teacher.bytes);
  const x = randomArray(6 * 784, 21);
  const out = await runOne(session, { pixels: new ort.Tensor('float32', x, [6, 784]) }, 'logits');
  const probs = out.data as Float32Array;
  assertClose(probs, tinyTeacherForward(teacher.weights, x, 6, teacher.config), TOL, 'probs');
  for (const row of rowSlices(probs, 10)) {
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5, `row sum ${row.join(',')}`);
    assert.ok(row.every((v) => v > 0 && v < 1));
  }
  // The head really is a softmax of the plain teacher's logits (same seed, same weights).
  const logits = tinyTeacherForward(makeTinyTeacher({ seed: 5 }).weights, x, 6);
  const row0 = Array.from(logits.subarray(0, 10));
  const z = row0.reduce((s, v) => s + Math.exp(v), 0);
  assertClose(probs.subarray(0, 10), row0.map((v) => Math.exp(v) / z), TOL, 'softmax(row 0)');
  await session.release();
});

void test('tiny teacher log_probs variant: exp of each row sums to 1 and matches the reference', async () => {
  const teacher = makeTinyTeacher({ seed: 5, outputKind: 'log_probs' });
  const session = await ort.InferenceSession.create(teacher.bytes);
  const x = randomArray(4 * 784, 22);
  const out = await runOne(session, { pixels: new ort.Tensor('float32', x, [4, 784]) }, 'logits');
  const logProbs = out.data as Float32Array;
  assertClose(logProbs, tinyTeacherForward(teacher.weights, x, 4, teacher.config), TOL, 'log_probs');
  for (const row of rowSlices(logProbs, 10)) {
    assert.ok(Math.abs(row.reduce((s, v) => s + Math.exp(v), 0) - 1) < 1e-5, `exp-sum ${row.join(',')}`);
    assert.ok(row.every((v) => v < 0));
  }
  await session.release();
});

void test('tiny teacher is deterministic per seed and honours names and sizes', async () => {
  assert.deepEqual(makeTinyTeacher({ seed: 9 }).bytes, makeTinyTeacher({ seed: 9 }).bytes);
  assert.notDeepEqual(makeTinyTeacher({ seed: 9 }).weights.w1, makeTinyTeacher({ seed: 10 }).weights.w1);
  const teacher = makeTinyTeacher({ inputName: 'x', outputName: 'y', inputSize: 12, hidden: 4, classes: 3 });
  assert.equal(teacher.weights.w1.length, 4 * 12);
  assert.equal(teacher.weights.w2.length, 3 * 4);
  const session = await ort.InferenceSession.create(teacher.bytes);
  assert.deepEqual([session.inputNames, session.outputNames], [['x'], ['y']]);
  assert.deepEqual(tensorMeta(session.inputMetadata[0] as ort.InferenceSession.ValueMetadata).shape, ['batch', 12]);
  assert.deepEqual(tensorMeta(session.outputMetadata[0] as ort.InferenceSession.ValueMetadata).shape, ['batch', 3]);
  const x = randomArray(2 * 12, 4);
  const out = await runOne(session, { x: new ort.Tensor('float32', x, [2, 12]) }, 'y');
  assert.deepEqual(out.dims, [2, 3]);
  assertClose(out.data as Float32Array, tinyTeacherForward(teacher.weights, x, 2), TOL, 'y');
  await session.release();
});

void test('injectNaN variant: outputs are NaN exactly on rows whose pixel 0 exceeds the threshold', async () => {
  const pixel0 = [0.1, 0.9, 0.5, 0.75, 0, 1];
  const nanRows = [1, 3, 5]; // pixel 0 > 0.5; row 2 sits exactly on the threshold and stays finite
  const x = randomArray(pixel0.length * 784, 31, 0, 0.5);
  pixel0.forEach((v, r) => (x[r * 784] = v));
  for (const outputKind of ['logits', 'probs'] as const) {
    const teacher = makeTinyTeacher({ seed: 2, injectNaN: true, outputKind });
    assert.equal(teacher.config.nanThreshold, 0.5);
    const session = await ort.InferenceSession.create(teacher.bytes);
    const out = await runOne(session, { pixels: new ort.Tensor('float32', x, [6, 784]) }, 'logits');
    const rows = rowSlices(out.data as Float32Array, 10);
    rows.forEach((row, r) => {
      if (nanRows.includes(r)) assert.ok(row.every((v) => Number.isNaN(v)), `${outputKind} row ${r} all NaN`);
      else assert.ok(row.every((v) => Number.isFinite(v)), `${outputKind} row ${r} finite`);
    });
    // Finite rows are untouched: identical to the same teacher without injection.
    const clean = tinyTeacherForward(teacher.weights, x, 6, { outputKind });
    const expected = tinyTeacherForward(teacher.weights, x, 6, teacher.config);
    nanRows.forEach((r) => clean.fill(NaN, r * 10, r * 10 + 10));
    assertClose(expected, clean, 0, `${outputKind} reference`);
    assertClose(out.data as Float32Array, expected, TOL, `${outputKind} output`);
    await session.release();
  }
});

void test('wrong-dtype teacher declares int32 input: metadata shows it, float32 feeds are rejected', async () => {
  const teacher = makeTinyTeacher({ seed: 4, inputDtype: 'int32' });
  const session = await ort.InferenceSession.create(teacher.bytes);
  assert.deepEqual(tensorMeta(session.inputMetadata[0] as ort.InferenceSession.ValueMetadata), {
    type: 'int32',
    shape: ['batch', 784],
  });
  await assert.rejects(
    session.run({ pixels: new ort.Tensor('float32', new Float32Array(784), [1, 784]) }),
    /expected: \(tensor\(int32\)\)/,
  );
  const rand = mulberry32(8);
  const ints = Int32Array.from({ length: 2 * 784 }, () => Math.floor(rand() * 3));
  const out = await runOne(session, { pixels: new ort.Tensor('int32', ints, [2, 784]) }, 'logits');
  assertClose(out.data as Float32Array, tinyTeacherForward(teacher.weights, ints, 2), 1e-4, 'int32-fed logits');
  await session.release();
});

void test('wrong-size teacher declares 100 features: metadata shows it, 784-wide feeds are rejected', async () => {
  const session = await ort.InferenceSession.create(makeTinyTeacher({ inputSize: 100 }).bytes);
  assert.deepEqual(tensorMeta(session.inputMetadata[0] as ort.InferenceSession.ValueMetadata).shape, ['batch', 100]);
  await assert.rejects(
    session.run({ pixels: new ort.Tensor('float32', new Float32Array(784), [1, 784]) }),
    /index: 1 Got: 784 Expected: 100/,
  );
  await session.release();
});

void test('float16, int64, int32 and uint8 initializers round-trip through raw_data', async () => {
  // float16 bits: 0.5 = 0x3800, -1.25 = 0xbd00, 3 = 0x4200, 65504 = 0x7bff (max), 2^-24 = 0x0001 (subnormal).
  const halfBits = new Uint16Array([0x3800, 0xbd00, 0x4200, 0x7bff, 0x0001, 0x0000]);
  const halfValues = [0.5, -1.25, 3, 65504, 2 ** -24, 0];
  const int64Values = new BigInt64Array([-7n, 0n, 2n ** 53n + 1n, -(2n ** 63n)]);
  const spec: OnnxModelSpec = {
    graph: {
      name: 'dtypes',
      nodes: [
        { opType: 'Cast', inputs: ['H'], outputs: ['h32'], attributes: { to: 1 } },
        { opType: 'Add', inputs: ['x', 'h32'], outputs: ['y'] },
        { opType: 'Identity', inputs: ['I64'], outputs: ['i64_out'] },
        { opType: 'Add', inputs: ['k', 'I64'], outputs: ['k_plus'] },
        { opType: 'Identity', inputs: ['I32'], outputs: ['i32_out'] },
        { opType: 'Cast', inputs: ['U8'], outputs: ['u8_out'], attributes: { to: 1 } },
      ],
      initializers: [
        { name: 'H', dtype: 'float16', dims: [2, 3], data: halfBits },
        { name: 'I64', dtype: 'int64', dims: [4], data: int64Values },
        { name: 'I32', dtype: 'int32', dims: [2], data: new Int32Array([-2147483648, 123]) },
        { name: 'U8', dtype: 'uint8', dims: [3], data: new Uint8Array([0, 128, 255]) },
      ],
      inputs: [
        { name: 'x', dtype: 'float32', shape: ['batch', 2, 3] },
        { name: 'k', dtype: 'int64', shape: [4] },
      ],
      outputs: [
        { name: 'y', dtype: 'float32', shape: ['batch', 2, 3] },
        { name: 'i64_out', dtype: 'int64', shape: [4] },
        { name: 'k_plus', dtype: 'int64', shape: [4] },
        { name: 'i32_out', dtype: 'int32', shape: [2] },
        { name: 'u8_out', dtype: 'float32', shape: [3] },
      ],
    },
  };
  const session = await ort.InferenceSession.create(encodeModel(spec));
  assert.deepEqual(tensorMeta(session.inputMetadata[1] as ort.InferenceSession.ValueMetadata), { type: 'int64', shape: [4] });
  const x = new Float32Array([1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6]);
  const result = await session.run({
    x: new ort.Tensor('float32', x, [2, 2, 3]),
    k: new ort.Tensor('int64', new BigInt64Array([1n, 2n, 3n, 0n]), [4]),
  });
  assert.deepEqual(result.y?.dims, [2, 2, 3]);
  assert.deepEqual(Array.from(result.y?.data as Float32Array), Array.from(x, (v, k) => Math.fround(v + (halfValues[k % 6] as number))));
  assert.deepEqual(result.i64_out?.data, int64Values);
  assert.deepEqual(result.k_plus?.data, new BigInt64Array([-6n, 2n, 2n ** 53n + 4n, -(2n ** 63n)]));
  assert.deepEqual(result.i32_out?.data, new Int32Array([-2147483648, 123]));
  assert.deepEqual(result.u8_out?.data, new Float32Array([0, 128, 255]));
  await session.release();
});

/** Reference for the conv graph below, straight from the ONNX operator definitions. */
function convGraphReference(
  x: Float32Array,
  n: number,
  p: { w: Float32Array; b: Float32Array; wf: Float32Array; bf: Float32Array; offsets: number[]; scale: number },
): number[] {
  const S = 5;
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    // Conv 3x3, pads 1, stride 1, 2 output channels, then LeakyRelu(alpha=0.1).
    const conv = new Float64Array(2 * S * S);
    for (let oc = 0; oc < 2; oc++) {
      for (let i = 0; i < S; i++) {
        for (let j = 0; j < S; j++) {
          let acc = p.b[oc] as number;
          for (let di = 0; di < 3; di++) {
            for (let dj = 0; dj < 3; dj++) {
              const ii = i + di - 1;
              const jj = j + dj - 1;
              if (ii < 0 || jj < 0 || ii >= S || jj >= S) continue;
              acc += (p.w[oc * 9 + di * 3 + dj] as number) * (x[r * S * S + ii * S + jj] as number);
            }
          }
          conv[oc * S * S + i * S + j] = acc >= 0 ? acc : 0.1 * acc;
        }
      }
    }
    // MaxPool 2x2 stride 2 (no padding) -> 2x2 per channel; Flatten -> 8 features in (c, i, j) order.
    const flat: number[] = [];
    for (let oc = 0; oc < 2; oc++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          const cells = [0, 1].flatMap((a) => [0, 1].map((c) => conv[oc * S * S + (2 * i + a) * S + (2 * j + c)] as number));
          flat.push(Math.max(...cells));
        }
      }
    }
    // Gemm transB=1, alpha=0.5, beta=2; then + offsets (Constant value_floats), * scale (Constant value).
    for (let o = 0; o < 3; o++) {
      let acc = 0;
      for (let f = 0; f < 8; f++) acc += (p.wf[o * 8 + f] as number) * (flat[f] as number);
      out.push((0.5 * acc + 2 * (p.bf[o] as number) + (p.offsets[o] as number)) * p.scale);
    }
  }
  return out;
}

void test('attributes of every type (INT, INTS, FLOAT, FLOATS, STRING, TENSOR) drive a conv graph correctly', async () => {
  const p = {
    w: randomArray(2 * 9, 41, -1, 1),
    b: new Float32Array([0.1, -0.2]),
    wf: randomArray(3 * 8, 42, -1, 1),
    bf: new Float32Array([0.25, -0.5, 0.125]),
    offsets: [0.25, -0.5, 1],
    scale: 3,
  };
  const spec: OnnxModelSpec = {
    producerName: 'distill-test',
    graph: {
      name: 'conv',
      nodes: [
        {
          opType: 'Conv',
          name: 'conv1',
          inputs: ['x', 'W', 'B'],
          outputs: ['c'],
          attributes: {
            kernel_shape: [3, 3],
            pads: [1, 1, 1, 1],
            strides: { ints: [1, 1] },
            dilations: [1, 1],
            group: { i: 1 },
            auto_pad: 'NOTSET',
          },
        },
        { opType: 'LeakyRelu', inputs: ['c'], outputs: ['a'], attributes: { alpha: { f: 0.1 } } },
        {
          opType: 'MaxPool',
          inputs: ['a'],
          outputs: ['m'],
          attributes: { kernel_shape: [2, 2], strides: [2, 2], auto_pad: { s: 'NOTSET' } },
        },
        { opType: 'Flatten', inputs: ['m'], outputs: ['f'], attributes: { axis: 1 } },
        {
          opType: 'Gemm',
          inputs: ['f', 'Wf', 'Bf'],
          outputs: ['g'],
          attributes: { transB: 1, alpha: { f: 0.5 }, beta: { f: 2 } },
        },
        { opType: 'Constant', inputs: [], outputs: ['offsets'], attributes: { value_floats: { floats: p.offsets } } },
        {
          opType: 'Constant',
          inputs: [],
          outputs: ['scale'],
          attributes: { value: { t: { name: 'scale_value', dtype: 'float32', dims: [], data: new Float32Array([p.scale]) } } },
        },
        { opType: 'Add', inputs: ['g', 'offsets'], outputs: ['g_off'] },
        { opType: 'Mul', inputs: ['g_off', 'scale'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'W', dtype: 'float32', dims: [2, 1, 3, 3], data: p.w },
        { name: 'B', dtype: 'float32', dims: [2], data: p.b },
        { name: 'Wf', dtype: 'float32', dims: [3, 8], data: p.wf },
        { name: 'Bf', dtype: 'float32', dims: [3], data: p.bf },
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 1, 5, 5] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 3] }],
    },
  };
  const session = await ort.InferenceSession.create(encodeModel(spec));
  const x = randomArray(3 * 25, 43, -1, 1);
  const out = await runOne(session, { x: new ort.Tensor('float32', x, [3, 1, 5, 5]) }, 'y');
  assert.deepEqual(out.dims, [3, 3]);
  const expected = convGraphReference(x, 3, p);
  assert.ok(expected.some((v) => Math.abs(v) > 1), `reference is not trivially small: ${expected.join(',')}`);
  assertClose(out.data as Float32Array, expected, TOL, 'conv graph');
  await session.release();
});

function gemmModel(alpha: OnnxAttributeValue, extra: Partial<OnnxModelSpec['graph']> = {}): OnnxModelSpec {
  return {
    graph: {
      name: 'gemm',
      nodes: [{ opType: 'Gemm', name: 'fc', inputs: ['x', 'W1'], outputs: ['y'], attributes: { alpha } }],
      initializers: [{ name: 'W1', dtype: 'float32', dims: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
      ...extra,
    },
  };
}

void test('an integer-valued FLOAT attribute is written as FLOAT with { f }, and a bare number is INT', async () => {
  const session = await ort.InferenceSession.create(encodeModel(gemmModel({ f: 2 })));
  const out = await runOne(session, { x: new ort.Tensor('float32', new Float32Array([1, 1]), [1, 2]) }, 'y');
  assert.deepEqual(out.data, new Float32Array([8, 12])); // 2 * [1 1] @ [[1 2] [3 4]]
  await session.release();
  // The bare number 2 is encoded as INT, which ONNX Runtime refuses for Gemm's FLOAT alpha.
  await assert.rejects(ort.InferenceSession.create(encodeModel(gemmModel(2))), /Mismatched attribute type.*alpha/);
});

void test('BAD CALL encodeModel names the field, value and what is allowed', () => {
  assert.throws(() => encodeModel(gemmModel(2.5)), {
    name: 'RangeError',
    message: /node 'fc' \(Gemm\) attribute 'alpha' is 2\.5.*\{ f: 2\.5 \}/,
  });
  assert.throws(() => encodeModel(gemmModel([1, 0.5])), { name: 'RangeError', message: /attribute 'alpha'\[1\] is 0\.5/ });
  const ambiguous = { f: 1, i: 1 } as unknown as OnnxAttributeValue;
  assert.throws(() => encodeModel(gemmModel(ambiguous)), { name: 'TypeError', message: /exactly one of the keys.*\{f, i\}/ });
  const wrongLength = { name: 'W1', dtype: 'float32', dims: [2, 3], data: new Float32Array(4) } as const;
  assert.throws(() => encodeModel(gemmModel({ f: 1 }, { initializers: [wrongLength] })), {
    name: 'RangeError',
    message: /initializer 'W1' has dims \[2, 3\] \(6 elements\), but data has 4 elements/,
  });
  const wrongArray = { name: 'W1', dtype: 'float32', dims: [4], data: new Float64Array(4) } as unknown as typeof wrongLength;
  assert.throws(() => encodeModel(gemmModel({ f: 1 }, { initializers: [wrongArray] })), {
    name: 'TypeError',
    message: /initializer 'W1' has dtype 'float32' and needs a Float32Array, but got Float64Array/,
  });
  const float64Input = [{ name: 'x', dtype: 'float64', shape: [1] }] as unknown as OnnxModelSpec['graph']['inputs'];
  assert.throws(() => encodeModel(gemmModel({ f: 1 }, { inputs: float64Input })), {
    name: 'RangeError',
    message: /graph.inputs 'x' dtype is "float64"; should be one of: float32, uint8, int32, int64, float16/,
  });
  assert.throws(() => encodeModel(gemmModel({ f: 1 }, { outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }] })), {
    name: 'RangeError',
    message: /graph.outputs 'y' shape\[0\] must be a non-negative integer or a string, but got -1/,
  });
});

void test('CLI writes the same bytes as makeTinyTeacher and rejects a bad --outputKind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-teacher-'));
  try {
    const file = join(dir, 'nested', 'teacher.onnx');
    const stdout = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/tiny-teacher.ts', file, '--outputKind', 'probs', '--seed', '5'],
      { encoding: 'utf8' },
    );
    assert.match(stdout, /wrote .*teacher\.onnx \(\d+ bytes\)/);
    assert.deepEqual(new Uint8Array(readFileSync(file)), makeTinyTeacher({ seed: 5, outputKind: 'probs' }).bytes);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/tiny-teacher.ts', file, '--outputKind', 'soft'], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /outputKind is "soft"; should be one of: logits, probs, log_probs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
