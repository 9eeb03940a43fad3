import { DataError } from '../errors.ts';
import type { OnnxGraphBuilder } from './onnx-graph-builder.ts';

/** Emits one activation after layer `layer`: `name` is its node name, `out()` a fresh output name. */
type ActivationConverter = (g: OnnxGraphBuilder, layer: string, name: string, out: () => string[]) => void;

/** One unary ONNX op without attributes. */
const unary =
  (opType: string): ActivationConverter =>
  (g, _layer, name, out) => {
    g.cur = g.emit({ opType, name, inputs: [g.cur], outputs: out() });
  };

/** The activations the export handles, one entry each (a new activation is one more entry). */
export const ACTIVATION_CONVERTERS: Readonly<Record<string, ActivationConverter>> = {
  linear: () => {},
  relu: unary('Relu'),
  relu6: (g, layer, name, out) => {
    const lo = g.constant({ name: g.fresh(`${layer}_clip_min`), dtype: 'float32', dims: [], data: new Float32Array([0]) });
    const hi = g.constant({ name: g.fresh(`${layer}_clip_max`), dtype: 'float32', dims: [], data: new Float32Array([6]) });
    g.cur = g.emit({ opType: 'Clip', name, inputs: [g.cur, lo, hi], outputs: out() });
  },
  tanh: unary('Tanh'),
  sigmoid: unary('Sigmoid'),
  elu: (g, _layer, name, out) => {
    g.cur = g.emit({ opType: 'Elu', name, inputs: [g.cur], outputs: out(), attributes: { alpha: { f: 1 } } });
  },
  selu: (g, _layer, name, out) => {
    // tfjs's constants (tfjs-layers activations.ts), written explicitly.
    g.cur = g.emit({ opType: 'Selu', name, inputs: [g.cur], outputs: out(), attributes: { alpha: { f: 1.6732632423543772 }, gamma: { f: 1.0507009873554805 } } });
  },
  softplus: unary('Softplus'),
  softmax: (g, layer, name, out) => {
    if (g.shape.length !== 1) throw new DataError(`layer ${layer}: softmax is supported on rank-2 outputs only`);
    g.cur = g.emit({ opType: 'Softmax', name, inputs: [g.cur], outputs: out(), attributes: { axis: -1 } });
    g.outputKind = 'probs';
  },
};

/** Activations the converter supports, for messages. */
export const SUPPORTED_ACTIVATIONS = Object.keys(ACTIVATION_CONVERTERS);

/** Emits the activation `act` (a tfjs activation name; absent = linear) after layer `layer`. */
export function applyActivation(g: OnnxGraphBuilder, act: unknown, layer: string): void {
  const a = typeof act === 'string' ? act : 'linear';
  g.outputKind = 'logits';
  const convert = Object.hasOwn(ACTIVATION_CONVERTERS, a) ? ACTIVATION_CONVERTERS[a] : undefined;
  if (!convert) throw new DataError(`layer ${layer}: activation "${a}" is not supported by the ONNX export; supported: ${SUPPORTED_ACTIVATIONS.join(', ')}`);
  convert(g, layer, `${layer}/${a}`, () => [g.fresh(`${layer}_${a}`)]);
}
