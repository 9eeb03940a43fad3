import { DataError } from '../errors.ts';
import { applyActivation } from './activation-converters.ts';
import type { OnnxGraphBuilder } from './onnx-graph-builder.ts';

/** One tfjs layer as a converter sees it. */
export interface LayerView {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** The layer's weights in tfjs order (e.g. kernel, bias). */
  weights(): { dims: number[]; data: Float32Array }[];
}

/** Converts one layer: reads `g.shape`, emits its nodes, sets `g.cur` and `g.shape` to its output. */
export type LayerConverter = (g: OnnxGraphBuilder, layer: LayerView) => void;

function pair(v: unknown, field: string, layer: string): [number, number] {
  const arr = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : null;
  if (!arr || arr.length !== 2 || !arr.every((x) => Number.isInteger(x))) throw new DataError(`layer ${layer}: ${field} must be an integer or a pair of integers, but got ${JSON.stringify(v)}`);
  return [arr[0] as number, arr[1] as number];
}

/** Pads of TF `same` padding along one axis: [before, after] (the extra pixel goes after, like TF). */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function outSize(size: number, kernel: number, stride: number, dilation: number, padding: string): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

/** Nothing to emit: the layer is an identity at inference. */
const identity: LayerConverter = () => {};

const dense: LayerConverter = (g, { name, config: cfg, weights }) => {
  if (g.shape.length !== 1) throw new DataError(`layer ${name} (Dense) gets a rank-${g.shape.length + 1} input; export handles Dense on [batch, features] (add a Flatten)`);
  const [kernel, bias] = weights();
  const units = kernel!.dims[1]!;
  const inputs = [g.cur, g.weight(`${name}/kernel`, [g.shape[0]!, units], new Float32Array(kernel!.data))];
  if (cfg.useBias !== false && bias) inputs.push(g.weight(`${name}/bias`, [units], new Float32Array(bias.data)));
  g.cur = g.emit({ opType: 'Gemm', name, inputs, outputs: [g.fresh(name)], attributes: { alpha: { f: 1 }, beta: { f: 1 } } });
  g.shape = [units];
  applyActivation(g, cfg.activation, name);
};

const conv2d: LayerConverter = (g, { name, config: cfg, weights }) => {
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') throw new DataError(`layer ${name} (Conv2D): dataFormat ${JSON.stringify(cfg.dataFormat)} is not supported; use channelsLast`);
  if (g.shape.length !== 3) throw new DataError(`layer ${name} (Conv2D) gets a rank-${g.shape.length + 1} input; expected [batch, H, W, C]`);
  const [kh, kw] = pair(cfg.kernelSize, 'kernelSize', name);
  const [sh, sw] = pair(cfg.strides ?? 1, 'strides', name);
  const [dh, dw] = pair(cfg.dilationRate ?? 1, 'dilationRate', name);
  const padding = String(cfg.padding ?? 'valid');
  if (padding !== 'same' && padding !== 'valid') throw new DataError(`layer ${name} (Conv2D): padding "${padding}" is not supported; use same or valid`);
  const [H, W, C] = g.shape as [number, number, number];
  const [kernel, bias] = weights();
  const filters = kernel!.dims[3]!;
  // tfjs [kh, kw, in, out] -> ONNX [out, in, kh, kw].
  const oihw = new Float32Array(filters * C * kh * kw);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < C; c++) for (let o = 0; o < filters; o++) oihw[((o * C + c) * kh + i) * kw + j] = kernel!.data[((i * kw + j) * C + c) * filters + o]!;
  const [pt, pb] = padding === 'same' ? samePads(H, kh, sh, dh) : [0, 0];
  const [pl, pr] = padding === 'same' ? samePads(W, kw, sw, dw) : [0, 0];
  g.toLayout('nchw', name);
  const inputs = [g.cur, g.weight(`${name}/kernel`, [filters, C, kh, kw], oihw)];
  if (cfg.useBias !== false && bias) inputs.push(g.weight(`${name}/bias`, [filters], new Float32Array(bias.data)));
  g.cur = g.emit({ opType: 'Conv', name, inputs, outputs: [g.fresh(name)], attributes: { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], pads: [pt, pl, pb, pr], group: 1 } });
  g.shape = [outSize(H, kh, sh, dh, padding), outSize(W, kw, sw, dw, padding), filters];
  applyActivation(g, cfg.activation, name);
};

/** MaxPooling2D -> MaxPool, AveragePooling2D -> AveragePool. */
const pooling =
  (opType: 'MaxPool' | 'AveragePool'): LayerConverter =>
  (g, { name, className: cls, config: cfg }) => {
    if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') throw new DataError(`layer ${name} (${cls}): dataFormat ${JSON.stringify(cfg.dataFormat)} is not supported`);
    if (g.shape.length !== 3) throw new DataError(`layer ${name} (${cls}) gets a rank-${g.shape.length + 1} input; expected [batch, H, W, C]`);
    const [kh, kw] = pair(cfg.poolSize ?? 2, 'poolSize', name);
    const [sh, sw] = pair(cfg.strides ?? cfg.poolSize ?? 2, 'strides', name);
    const padding = String(cfg.padding ?? 'valid');
    if (padding !== 'same' && padding !== 'valid') throw new DataError(`layer ${name} (${cls}): padding "${padding}" is not supported`);
    const [H, W, C] = g.shape as [number, number, number];
    const [pt, pb] = padding === 'same' ? samePads(H, kh, sh, 1) : [0, 0];
    const [pl, pr] = padding === 'same' ? samePads(W, kw, sw, 1) : [0, 0];
    g.toLayout('nchw', name);
    // AveragePool: tfjs averages over the in-image cells only = ONNX count_include_pad 0 (default).
    g.cur = g.emit({ opType, name, inputs: [g.cur], outputs: [g.fresh(name)], attributes: { kernel_shape: [kh, kw], strides: [sh, sw], pads: [pt, pl, pb, pr] } });
    g.shape = [outSize(H, kh, sh, 1, padding), outSize(W, kw, sw, 1, padding), C];
  };

const flatten: LayerConverter = (g, { name }) => {
  if (g.shape.length <= 1) return;
  g.toLayout('nhwc', name);
  g.cur = g.emit({ opType: 'Flatten', name, inputs: [g.cur], outputs: [g.fresh(name)], attributes: { axis: 1 } });
  g.shape = [g.shape.reduce((a, b) => a * b, 1)];
};

const reshape: LayerConverter = (g, { name, config: cfg }) => {
  const target = cfg.targetShape;
  if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d))) throw new DataError(`layer ${name} (Reshape): targetShape ${JSON.stringify(target)} is not a list of integers`);
  g.toLayout('nhwc', name);
  const total = g.shape.reduce((a, b) => a * b, 1);
  const known = (target as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const next = (target as number[]).map((d) => (d === -1 ? total / known : d));
  g.constant({ name: `${name}/shape`, dtype: 'int64', dims: [next.length + 1], data: BigInt64Array.from([-1n, ...next.map(BigInt)]) });
  g.cur = g.emit({ opType: 'Reshape', name, inputs: [g.cur, `${name}/shape`], outputs: [g.fresh(name)] });
  g.shape = next;
};

const relu: LayerConverter = (g, { name, config: cfg }) => {
  if (cfg.maxValue !== undefined && cfg.maxValue !== null) throw new DataError(`layer ${name} (ReLU): maxValue is not supported`);
  applyActivation(g, 'relu', name);
};

/**
 * The layer classes the export handles, one entry each: a new layer kind (e.g. for sequence
 * students) is one more entry. Dropout and the other train-time-only noise layers are identities at
 * inference.
 */
export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  InputLayer: identity,
  Dense: dense,
  Conv2D: conv2d,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  Flatten: flatten,
  Reshape: reshape,
  Activation: (g, { name, config }) => applyActivation(g, config.activation, name),
  ReLU: relu,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};

/** Layer classes the converter supports, for messages. */
export const SUPPORTED_LAYERS = Object.keys(LAYER_CONVERTERS);
