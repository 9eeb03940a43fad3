/**
 * Graph-side top-k reduction (`teacherLogits.reduceInGraph`): the teacher's ONNX model with the top-k
 * encoding of its output appended, so ONNX Runtime returns per target only k ids, k logits, the tail's
 * log-sum-exp and a NaN/Inf count, never the [B, S, V] (or [B, V]) logits.
 *
 * The appended nodes compute exactly what the host encoder computes (stages/teacher-logits/
 * encode-topk.ts after non-finite.ts), on the last axis of the output z:
 *
 *     z         probs teachers: Where(p == 0, log(2^-149), Log(p)) (teacher-tensors.ts toStoredLogits)
 *     bad       IsNaN(z - z)                       true exactly where z is NaN or +-Inf
 *     nonFinite Cast<int32>(ReduceSum(Cast<float>(bad)))              per target
 *     zc        Where(bad, 0, z)                   the `zero` policy; under `error` any count > 0 fails
 *     values, i TopK(zc, k, largest, sorted)        ONNX TopK breaks ties to the lower index, as the host
 *     topk_index Cast<int32>(i), topk_logit = values (raw z, not divided by T)
 *     tail_lse  ReduceLogSumExp(ScatterElements(zc / T_c, i, -inf))  log sum over the other classes
 *
 * The tail masks the kept classes to -inf and reduces the rest, so it is exact (no exp(LSE) -
 * exp(top-k) cancellation); ORT works in float32 with max subtraction where the host sums in float64,
 * so values agree within float tolerance, ids exactly. k = V: no tail nodes (the host stores -Infinity).
 * The nodes are appended to the original graph's bytes (pipeline/onnx/append-to-graph.ts), which keeps
 * every other byte of the model; the original output stays a graph output, but the stage fetches only
 * the four reduced ones.
 */
import { DataError } from '../errors.ts';
import { appendToGraph } from '../onnx/append-to-graph.ts';
import { decodeModel, decodedTensor, graphOf, tensorTypeOf } from '../onnx/decode-model.ts';
import type { OnnxAttributeValue, OnnxNodeSpec, OnnxTensorSpec } from '../onnx/encode-model.ts';
import { int64ToNumber, onnx } from '../onnx/onnx-proto.ts';
import { sha256Bytes } from '../io/sha256.ts';
import type { OutputKind } from './teacher-card.ts';
import { LOG_PROB_FLOOR } from './teacher-tensors.ts';

/** What to append. */
export interface TopKGraphSpec {
  /** The teacher output to reduce (the card's output.name). */
  output: string;
  /** What it holds (the card's output.kind). */
  kind: OutputKind;
  /** Classes (vocabulary) V on its last axis. */
  classes: number;
  /** Kept classes k, 1..V. */
  k: number;
  /** Capture temperature T_c of the tail. */
  temperature: number;
}

/** Names of the appended graph outputs. */
export interface TopKGraphOutputs {
  /** int32 [..., k] */
  index: string;
  /** float32 [..., k] */
  logit: string;
  /** float32 [...]; null when k = V (the tail is empty). */
  tail: string | null;
  /** int32 [...]: NaN/Inf values of the target's V logits. */
  nonFinite: string;
}

/** The rewritten model. */
export interface TopKGraph {
  bytes: Uint8Array;
  sha256: string;
  outputs: TopKGraphOutputs;
  /** ai.onnx opset of the model (decides how ReduceSum / ReduceLogSumExp take their axes). */
  opsetVersion: number;
  /** Operator types of the appended nodes, in order. */
  ops: string[];
}

/** Prefix of every appended value name. */
export const TOPK_PREFIX = 'distill_topk/';
/** Lowest ai.onnx opset with TopK's `largest`/`sorted` and ScatterElements. */
export const MIN_TOPK_OPSET = 11;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT32 = onnx.TensorProto.DataType.INT32;
const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;

/**
 * Appends the top-k reduction of `spec.output` to the model `bytes` (read from `where`) and returns the
 * new bytes with their sha256. Refused with a DataError naming the file: an opset below 11, an output
 * that is not a graph output, not float32 or not V wide, tensors stored as external data, value names
 * that clash with the appended ones.
 *
 * @example
 * const g = appendTopKGraph(await readFile('teacher/model.onnx'), 'teacher/model.onnx', { output: 'logits', kind: 'logits', classes: 32000, k: 8, temperature: 1 });
 * await ort.InferenceSession.create(g.bytes); // outputs logits + the four of g.outputs
 */
export function appendTopKGraph(bytes: Uint8Array, where: string, spec: TopKGraphSpec): TopKGraph {
  if (!Number.isInteger(spec.k) || spec.k < 1 || spec.k > spec.classes) throw new RangeError(`appendTopKGraph: k must be an integer in 1..${spec.classes}, but got ${spec.k}`);
  if (!(spec.temperature > 0) || !Number.isFinite(spec.temperature)) throw new RangeError(`appendTopKGraph: temperature must be positive and finite, but got ${spec.temperature}`);
  const model = decodeModel(bytes, where);
  const graph = graphOf(model, where);
  const opset = model.opsetImport.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  const opsetVersion = opset ? int64ToNumber(opset.version, `${where}: opset_import version`) : 0;
  if (opsetVersion < MIN_TOPK_OPSET) {
    throw new DataError(`${where}: the model imports ai.onnx opset ${opsetVersion}; reducing its output in the graph needs opset ${MIN_TOPK_OPSET} or later (TopK with largest/sorted, ScatterElements): re-export it, or set teacherLogits.reduceInGraph false (the host reduces then)`);
  }
  const out = graph.output.find((o) => o.name === spec.output);
  if (!out) throw new DataError(`${where}: "${spec.output}" is not a graph output (outputs: ${graph.output.map((o) => o.name).join(', ')}), so its reduction cannot be appended`);
  const type = tensorTypeOf(out);
  if (type && type.elemType !== FLOAT) throw new DataError(`${where}: output "${spec.output}" has element type ${onnx.TensorProto.DataType[type.elemType] ?? type.elemType}; the graph reduction reads float32 logits`);
  const last = type?.dims?.at(-1);
  if (last && last.dimValue !== null && last.dimValue !== undefined && int64ToNumber(last.dimValue, 'dim') > 0 && int64ToNumber(last.dimValue, 'dim') !== spec.classes) {
    throw new DataError(`${where}: output "${spec.output}" has ${int64ToNumber(last.dimValue, 'dim')} values on its last axis, but the card says ${spec.classes} classes`);
  }
  const external = graph.initializer.find((t) => decodedTensor(t).dataLocation === EXTERNAL);
  if (external) throw new DataError(`${where}: initializer "${external.name}" is stored as external data, which a model rewritten in memory cannot reach; set teacherLogits.reduceInGraph false`);
  const names = new Set<string>([...graph.input.map((v) => v.name ?? ''), ...graph.initializer.map((t) => t.name ?? ''), ...graph.node.flatMap((n) => n.output ?? [])]);
  const clash = [...names].find((n) => n.startsWith(TOPK_PREFIX));
  if (clash) throw new DataError(`${where}: the model already has a value named "${clash}"; the appended reduction uses the prefix ${TOPK_PREFIX}`);

  const { nodes, outputs } = reductionNodes(spec, opsetVersion);
  const rewritten = appendToGraph(bytes, where, {
    nodes,
    outputs: [
      { name: outputs.index, dtype: 'int32' },
      { name: outputs.logit, dtype: 'float32' },
      ...(outputs.tail ? [{ name: outputs.tail, dtype: 'float32' as const }] : []),
      { name: outputs.nonFinite, dtype: 'int32' },
    ],
  });
  return { bytes: rewritten, sha256: sha256Bytes(rewritten), outputs, opsetVersion, ops: nodes.filter((n) => n.opType !== 'Constant').map((n) => n.opType) };
}

/** The appended nodes for ai.onnx opset `opset` (axes as an attribute or, from 13 / 18, as an input). */
function reductionNodes(spec: TopKGraphSpec, opset: number): { nodes: OnnxNodeSpec[]; outputs: TopKGraphOutputs } {
  const p = (name: string): string => `${TOPK_PREFIX}${name}`;
  const nodes: OnnxNodeSpec[] = [];
  const add = (opType: string, inputs: string[], output: string | string[], attributes?: Record<string, OnnxAttributeValue>): string => {
    const outs = typeof output === 'string' ? [output] : output;
    nodes.push({ opType, name: outs[0]!, inputs, outputs: outs, ...(attributes ? { attributes } : {}) });
    return outs[0]!;
  };
  const constant = (name: string, t: Omit<OnnxTensorSpec, 'name'>): string => add('Constant', [], p(name), { value: { t: { ...t, name: p(name) } as OnnxTensorSpec } });
  const scalar = (name: string, v: number): string => constant(name, { dtype: 'float32', dims: [], data: new Float32Array([v]) });
  let axes: string | null = null; // made on first use: an unused Constant makes ORT print a warning
  /** A reduction over the last axis, keepdims 0: axes as an input from `inputFrom`, else as an attribute. */
  const reduce = (opType: string, input: string, output: string, inputFrom: number): string => {
    if (opset < inputFrom) return add(opType, [input], output, { axes: [-1], keepdims: 0 });
    axes ??= constant('axes', { dtype: 'int64', dims: [1], data: new BigInt64Array([-1n]) });
    return add(opType, [input, axes], output, { keepdims: 0 });
  };

  const zero = scalar('zero', 0);
  let z = spec.output;
  if (spec.kind === 'probs') {
    const isZero = add('Equal', [z, zero], p('p_is_zero'));
    const log = add('Log', [z], p('log_p'));
    z = add('Where', [isZero, scalar('log_floor', LOG_PROB_FLOOR), log], p('log_probs'));
  }
  const bad = add('IsNaN', [add('Sub', [z, z], p('z_minus_z'))], p('non_finite_mask'));
  const count = reduce('ReduceSum', add('Cast', [bad], p('non_finite_float'), { to: FLOAT }), p('non_finite_sum'), 13);
  const nonFinite = add('Cast', [count], p('non_finite'), { to: INT32 });
  const zc = add('Where', [bad, zero, z], p('z'));
  const k = constant('k', { dtype: 'int64', dims: [1], data: new BigInt64Array([BigInt(spec.k)]) });
  const [logit, indices] = [p('topk_logit'), p('topk_index_int64')];
  add('TopK', [zc, k], [logit, indices], { axis: -1, largest: 1, sorted: 1 });
  const index = add('Cast', [indices], p('topk_index'), { to: INT32 });
  let tail: string | null = null;
  if (spec.k < spec.classes) {
    const scaled = spec.temperature === 1 ? zc : add('Div', [zc, scalar('temperature', spec.temperature)], p('z_over_t'));
    const fill = add('ConstantOfShape', [add('Shape', [indices], p('k_shape'))], p('minus_inf'), { value: { t: { name: p('minus_inf_value'), dtype: 'float32', dims: [1], data: new Float32Array([-Infinity]) } } });
    const masked = add('ScatterElements', [scaled, indices, fill], p('tail_logits'), { axis: -1 });
    tail = reduce('ReduceLogSumExp', masked, p('tail_lse'), 18);
  }
  return { nodes, outputs: { index, logit, tail, nonFinite } };
}
