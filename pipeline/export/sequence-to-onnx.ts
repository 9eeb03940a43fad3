/**
 * Exports a sequence student (../student/sequence/build-sequence-student.ts) to ONNX: inputs
 * `input_ids` int32 [batch, L] and `attention_mask` float32 [batch, L], output `logits` float32
 * [batch, L, V]; opset 17 (LayerNormalization). The context L is fixed at export; the batch is dynamic.
 * Supported: `embedding`, `window-mlp`, `transformer` (Gather, Mul, Pad, Slice, Concat, MatMul, Add,
 * activations, LayerNormalization, Reshape, Transpose, Softmax: the same computation as the tfjs
 * blocks, op for op). `gru`/`lstm` are reported as not exportable (their tfjs-layers gate layout is not
 * converted yet), as a result, not an error, so a run can go on without the ONNX file.
 */
import type { OnnxModelSpec, OnnxTensorSpec } from '../onnx/encode-model.ts';
import { OnnxGraphBuilder } from './onnx-graph-builder.ts';

/** What the exporter needs of a trained sequence student (plain data: the stage supplies it). */
export interface SequenceExportInput {
  arch: 'embedding' | 'window-mlp' | 'gru' | 'lstm' | 'transformer';
  vocab: number;
  /** Output classes per position (token classification); absent = vocab. */
  classes?: number;
  context: number;
  causal: boolean;
  dModel: number;
  heads: number;
  layers: number;
  window: number;
  hidden: number[];
  activation: 'relu' | 'tanh' | 'elu' | 'sigmoid';
  /** Weights by the student's variable names (e.g. `block_1/attn/wq`). */
  weights: ReadonlyMap<string, { shape: number[]; values: Float32Array }>;
}

/** The export, or why there is none. */
export type SequenceExport = { exportable: true; spec: OnnxModelSpec; parameters: number; ops: string[] } | { exportable: false; reason: string };

const ACT = { relu: 'Relu', tanh: 'Tanh', elu: 'Elu', sigmoid: 'Sigmoid' } as const;

class SequenceGraph extends OnnxGraphBuilder {
  constructor(private readonly input: SequenceExportInput) {
    super('input_ids', [input.context]);
  }

  w(name: string): string {
    const t = this.input.weights.get(name);
    if (!t) throw new RangeError(`sequence export: no weight named ${name}`);
    return this.weight(name, t.shape, t.values);
  }

  i64(name: string, values: number[]): string {
    const spec: OnnxTensorSpec = { name, dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
    return this.constant(spec);
  }

  f32(name: string, dims: number[], values: Float32Array): string {
    return this.constant({ name, dtype: 'float32', dims, data: values });
  }

  op(opType: string, inputs: string[], attributes?: Record<string, number | number[] | { f: number }>): string {
    return this.emit({ opType, inputs, outputs: [this.fresh(opType.toLowerCase())], ...(attributes ? { attributes } : {}) });
  }

  dense(x: string, kernel: string, bias: string | null): string {
    const y = this.op('MatMul', [x, this.w(kernel)]);
    return bias === null ? y : this.op('Add', [y, this.w(bias)]);
  }

  layerNorm(x: string, prefix: string): string {
    return this.op('LayerNormalization', [x, this.w(`${prefix}/gain`), this.w(`${prefix}/shift`)], { axis: -1, epsilon: { f: 1e-5 } });
  }
}

function windowMlp(g: SequenceGraph, s: SequenceExportInput, e: string): string {
  const lo = s.causal ? -(s.window - 1) : -s.window;
  const hi = s.causal ? 0 : s.window;
  const masked = g.op('Mul', [e, g.op('Unsqueeze', ['attention_mask', g.i64('axis_2', [2])])]);
  const padded = g.op('Pad', [masked, g.i64('window_pads', [0, -lo, 0, 0, hi, 0])]);
  const views: string[] = [];
  for (let o = lo; o <= hi; o++) views.push(g.op('Slice', [padded, g.i64(`start_${o - lo}`, [o - lo]), g.i64(`end_${o - lo}`, [o - lo + s.context]), g.i64(`axes_${o - lo}`, [1])]));
  let h = g.op('Concat', views, { axis: 2 });
  s.hidden.forEach((_, i) => (h = g.op(ACT[s.activation], [g.dense(h, `hidden_${i + 1}/kernel`, `hidden_${i + 1}/bias`)])));
  return h;
}

function transformer(g: SequenceGraph, s: SequenceExportInput, e: string): string {
  const l = s.context;
  const d = s.dModel;
  const dh = d / s.heads;
  const pos = s.weights.get('embed/positions')!;
  let x = g.op('Add', [e, g.f32('positions_used', [l, d], pos.values.slice(0, l * d))]);
  const tri = new Float32Array(l * l);
  if (s.causal) for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) tri[i * l + j] = -1e9;
  const keys = g.op('Mul', [g.op('Sub', [g.f32('one', [], Float32Array.of(1)), 'attention_mask']), g.f32('minus_big', [], Float32Array.of(-1e9))]);
  const bias = g.op('Add', [g.op('Unsqueeze', [keys, g.i64('axes_1_2', [1, 2])]), g.f32('causal', [1, 1, l, l], tri)]);
  const heads = g.i64('shape_heads', [0, l, s.heads, dh]);
  const merged = g.i64('shape_merged', [0, l, d]);
  for (let b = 1; b <= s.layers; b++) {
    const p = `block_${b}`;
    const h = g.layerNorm(x, `${p}/ln1`);
    const split = (name: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [g.dense(h, `${p}/attn/${name}`, null), heads])], { perm });
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [split('wq', [0, 2, 1, 3]), split('wk', [0, 2, 3, 1])]), g.f32(`${p}_scale`, [], Float32Array.of(1 / Math.sqrt(dh)))]), bias]);
    const att = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), split('wv', [0, 2, 1, 3])]);
    const a = g.op('Reshape', [g.op('Transpose', [att], { perm: [0, 2, 1, 3] }), merged]);
    x = g.op('Add', [x, g.dense(a, `${p}/attn/wo`, `${p}/attn/bo`)]);
    const m = g.op(ACT[s.activation], [g.dense(g.layerNorm(x, `${p}/ln2`), `${p}/mlp/w1`, `${p}/mlp/b1`)]);
    x = g.op('Add', [x, g.dense(m, `${p}/mlp/w2`, `${p}/mlp/b2`)]);
  }
  return g.layerNorm(x, 'final_ln');
}

/**
 * The ONNX model of a sequence student, or `{ exportable: false, reason }` for an architecture the
 * exporter does not handle.
 * @example
 * const r = sequenceToOnnx(input);
 * if (r.exportable) await writeFile('model.onnx', encodeModel(r.spec));
 */
export function sequenceToOnnx(s: SequenceExportInput): SequenceExport {
  if (s.arch === 'gru' || s.arch === 'lstm') {
    return { exportable: false, reason: `student.arch "${s.arch}" is not exported to ONNX yet (the tfjs-layers ${s.arch.toUpperCase()} gate layout is not converted); the tfjs model is the only output` };
  }
  const g = new SequenceGraph(s);
  const e = g.op('Gather', [g.w('embed/tokens'), 'input_ids'], { axis: 0 });
  const h = s.arch === 'window-mlp' ? windowMlp(g, s, e) : s.arch === 'transformer' ? transformer(g, s, e) : e;
  g.emit({ opType: 'Add', inputs: [g.op('MatMul', [h, g.w('logits/kernel')]), g.w('logits/bias')], outputs: ['logits'] });
  const spec: OnnxModelSpec = {
    opsetVersion: 17,
    graph: {
      name: `sequence-student-${s.arch}`,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        { name: 'input_ids', dtype: 'int32', shape: ['batch', s.context] },
        { name: 'attention_mask', dtype: 'float32', shape: ['batch', s.context] },
      ],
      outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', s.context, s.classes ?? s.vocab] }],
    },
  };
  return { exportable: true, spec, parameters: g.parameters, ops: [...new Set(g.ops)] };
}
