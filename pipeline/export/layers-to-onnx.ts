/**
 * Converts a TensorFlow.js Layers model (a chain of layers, as the train-student stage builds) into an
 * ONNX model spec for pipeline/onnx/encode-model.ts.
 *
 * Supported layers: InputLayer; Dense (rank-2 input) with its activation; Conv2D (channels-last,
 * any kernel, strides, dilation, `same`/`valid` padding); MaxPooling2D and AveragePooling2D;
 * Flatten; Reshape; Activation and ReLU layers; Dropout (and the other train-time-only noise layers:
 * identities at inference). Activations: linear, relu, relu6, tanh, sigmoid, elu, selu, softplus,
 * softmax.
 *
 * Layout: tfjs images are channels-last (NHWC); ONNX Conv and pooling are channels-first (NCHW). The
 * graph keeps the tfjs input layout (input `[batch, H, W, C]`), inserts a Transpose to NCHW before the
 * first conv or pooling op, and a Transpose back to NHWC before Flatten / Reshape / Dense, so the
 * flatten order is tfjs's (h, w, c) and the following Dense weights are used unchanged. Conv kernels
 * go from tfjs `[kh, kw, in, out]` to ONNX OIHW `[out, in, kh, kw]`.
 *
 * Input: float32 `[batch, ...model input shape]`, named after the dataset feature; it receives what
 * the tfjs model receives (feature values times the student's input scale). The batch dim is dynamic.
 */
import { DataError } from '../errors.ts';
import type { OnnxModelSpec, OnnxNodeSpec, OnnxTensorSpec } from '../onnx/encode-model.ts';
import type { tf } from '../engines/tfjs.ts';

/** Options of {@link layersToOnnx}. */
export interface LayersToOnnxOptions {
  /** Graph input name (the dataset feature the student reads, e.g. `pixels`). */
  inputName: string;
  /** Graph output name. Default `logits`. */
  outputName?: string;
  /** Graph name. Default `student`. */
  graphName?: string;
  /** Model doc string (e.g. the preprocessing convention). */
  docString?: string;
}

/** What {@link layersToOnnx} returns. */
export interface LayersToOnnxResult {
  spec: OnnxModelSpec;
  /** Input dims after the batch dim (the tfjs model's input shape). */
  inputShape: number[];
  /** Output width (classes). */
  outputSize: number;
  /** What the output holds: raw logits, or probabilities when the last activation is softmax. */
  outputKind: 'logits' | 'probs';
  /** Trainable and non-trainable weight elements written as initializers. */
  parameters: number;
  /** One entry per tfjs layer: its class and the ONNX ops it became. */
  layers: { name: string; className: string; ops: string[] }[];
}

/** Layers that are identities at inference. */
const IDENTITY_LAYERS = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'InputLayer']);

/** Layer classes the converter supports, for messages. */
export const SUPPORTED_LAYERS = ['InputLayer', 'Dense', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'Flatten', 'Reshape', 'Activation', 'ReLU', ...[...IDENTITY_LAYERS].filter((l) => l !== 'InputLayer')];

/** Activations the converter supports, for messages. */
export const SUPPORTED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'elu', 'selu', 'softplus', 'softmax'];

type Config = Record<string, unknown>;

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

/**
 * Converts `model` (its layers must form a single chain from one input to one output) to ONNX.
 * @throws DataError naming the layer and what is supported, for a layer, activation or option the
 *   converter does not handle.
 * @example
 * const { spec } = layersToOnnx(model, { inputName: 'pixels' });
 * const bytes = encodeModel(spec);
 */
export function layersToOnnx(model: tf.LayersModel, opts: LayersToOnnxOptions): LayersToOnnxResult {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new DataError(`the student has ${model.inputs.length} inputs and ${model.outputs.length} outputs; export handles one of each`);
  }
  const inputShape = model.inputs[0]!.shape.slice(1).map((d, i) => {
    if (d === null || d === undefined || !Number.isInteger(d)) throw new DataError(`the student's input dim ${i + 1} is ${String(d)}; export needs fixed dims after the batch dim`);
    return d;
  });
  const nodes: OnnxNodeSpec[] = [];
  const initializers: OnnxTensorSpec[] = [];
  const layers: LayersToOnnxResult['layers'] = [];
  let parameters = 0;
  // The current value: name, logical (tfjs, channels-last) shape without batch, and its actual layout.
  let cur = opts.inputName;
  let shape = [...inputShape];
  let layout: 'nhwc' | 'nchw' = 'nhwc';
  let outputKind: 'logits' | 'probs' = 'logits';
  let counter = 0;
  const fresh = (base: string): string => `${base}_${counter++}`;
  let ops: string[] = [];
  const emit = (node: OnnxNodeSpec): string => {
    nodes.push(node);
    ops.push(node.opType);
    return node.outputs[0]!;
  };
  const weight = (name: string, dims: number[], data: Float32Array): string => {
    initializers.push({ name, dtype: 'float32', dims, data });
    parameters += data.length;
    return name;
  };
  const toLayout = (want: 'nhwc' | 'nchw', layer: string): void => {
    if (layout === want || shape.length !== 3) return;
    cur = emit({ opType: 'Transpose', name: `${layer}/to_${want}`, inputs: [cur], outputs: [fresh(`${layer}_${want}`)], attributes: { perm: want === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1] } });
    layout = want;
  };
  const activation = (act: unknown, layer: string): void => {
    const a = typeof act === 'string' ? act : 'linear';
    const name = `${layer}/${a}`;
    const out = (): string[] => [fresh(`${layer}_${a}`)];
    outputKind = 'logits';
    switch (a) {
      case 'linear':
        return;
      case 'relu':
        cur = emit({ opType: 'Relu', name, inputs: [cur], outputs: out() });
        return;
      case 'relu6': {
        const lo = fresh(`${layer}_clip_min`);
        const hi = fresh(`${layer}_clip_max`);
        initializers.push({ name: lo, dtype: 'float32', dims: [], data: new Float32Array([0]) }, { name: hi, dtype: 'float32', dims: [], data: new Float32Array([6]) });
        cur = emit({ opType: 'Clip', name, inputs: [cur, lo, hi], outputs: out() });
        return;
      }
      case 'tanh':
        cur = emit({ opType: 'Tanh', name, inputs: [cur], outputs: out() });
        return;
      case 'sigmoid':
        cur = emit({ opType: 'Sigmoid', name, inputs: [cur], outputs: out() });
        return;
      case 'elu':
        cur = emit({ opType: 'Elu', name, inputs: [cur], outputs: out(), attributes: { alpha: { f: 1 } } });
        return;
      case 'selu':
        // tfjs's constants (tfjs-layers activations.ts), written explicitly.
        cur = emit({ opType: 'Selu', name, inputs: [cur], outputs: out(), attributes: { alpha: { f: 1.6732632423543772 }, gamma: { f: 1.0507009873554805 } } });
        return;
      case 'softplus':
        cur = emit({ opType: 'Softplus', name, inputs: [cur], outputs: out() });
        return;
      case 'softmax':
        if (shape.length !== 1) throw new DataError(`layer ${layer}: softmax is supported on rank-2 outputs only`);
        cur = emit({ opType: 'Softmax', name, inputs: [cur], outputs: out(), attributes: { axis: -1 } });
        outputKind = 'probs';
        return;
      default:
        throw new DataError(`layer ${layer}: activation "${a}" is not supported by the ONNX export; supported: ${SUPPORTED_ACTIVATIONS.join(', ')}`);
    }
  };

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Config;
    const name = layer.name;
    ops = [];
    const w = layer.getWeights().map((t) => ({ dims: t.shape, data: t.dataSync() as Float32Array }));
    if (IDENTITY_LAYERS.has(cls)) {
      layers.push({ name, className: cls, ops });
      continue;
    }
    switch (cls) {
      case 'Dense': {
        if (shape.length !== 1) throw new DataError(`layer ${name} (Dense) gets a rank-${shape.length + 1} input; export handles Dense on [batch, features] (add a Flatten)`);
        const [kernel, bias] = w;
        const units = kernel!.dims[1]!;
        const inputs = [cur, weight(`${name}/kernel`, [shape[0]!, units], new Float32Array(kernel!.data))];
        if (cfg.useBias !== false && bias) inputs.push(weight(`${name}/bias`, [units], new Float32Array(bias.data)));
        cur = emit({ opType: 'Gemm', name, inputs, outputs: [fresh(name)], attributes: { alpha: { f: 1 }, beta: { f: 1 } } });
        shape = [units];
        activation(cfg.activation, name);
        break;
      }
      case 'Conv2D': {
        if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') throw new DataError(`layer ${name} (Conv2D): dataFormat ${JSON.stringify(cfg.dataFormat)} is not supported; use channelsLast`);
        if (shape.length !== 3) throw new DataError(`layer ${name} (Conv2D) gets a rank-${shape.length + 1} input; expected [batch, H, W, C]`);
        const [kh, kw] = pair(cfg.kernelSize, 'kernelSize', name);
        const [sh, sw] = pair(cfg.strides ?? 1, 'strides', name);
        const [dh, dw] = pair(cfg.dilationRate ?? 1, 'dilationRate', name);
        const padding = String(cfg.padding ?? 'valid');
        if (padding !== 'same' && padding !== 'valid') throw new DataError(`layer ${name} (Conv2D): padding "${padding}" is not supported; use same or valid`);
        const [H, W, C] = shape as [number, number, number];
        const [kernel, bias] = w;
        const filters = kernel!.dims[3]!;
        // tfjs [kh, kw, in, out] -> ONNX [out, in, kh, kw].
        const oihw = new Float32Array(filters * C * kh * kw);
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < C; c++) for (let o = 0; o < filters; o++) oihw[((o * C + c) * kh + i) * kw + j] = kernel!.data[((i * kw + j) * C + c) * filters + o]!;
        const [pt, pb] = padding === 'same' ? samePads(H, kh, sh, dh) : [0, 0];
        const [pl, pr] = padding === 'same' ? samePads(W, kw, sw, dw) : [0, 0];
        toLayout('nchw', name);
        const inputs = [cur, weight(`${name}/kernel`, [filters, C, kh, kw], oihw)];
        if (cfg.useBias !== false && bias) inputs.push(weight(`${name}/bias`, [filters], new Float32Array(bias.data)));
        cur = emit({ opType: 'Conv', name, inputs, outputs: [fresh(name)], attributes: { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], pads: [pt, pl, pb, pr], group: 1 } });
        shape = [outSize(H, kh, sh, dh, padding), outSize(W, kw, sw, dw, padding), filters];
        activation(cfg.activation, name);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') throw new DataError(`layer ${name} (${cls}): dataFormat ${JSON.stringify(cfg.dataFormat)} is not supported`);
        if (shape.length !== 3) throw new DataError(`layer ${name} (${cls}) gets a rank-${shape.length + 1} input; expected [batch, H, W, C]`);
        const [kh, kw] = pair(cfg.poolSize ?? 2, 'poolSize', name);
        const [sh, sw] = pair(cfg.strides ?? cfg.poolSize ?? 2, 'strides', name);
        const padding = String(cfg.padding ?? 'valid');
        if (padding !== 'same' && padding !== 'valid') throw new DataError(`layer ${name} (${cls}): padding "${padding}" is not supported`);
        const [H, W, C] = shape as [number, number, number];
        const [pt, pb] = padding === 'same' ? samePads(H, kh, sh, 1) : [0, 0];
        const [pl, pr] = padding === 'same' ? samePads(W, kw, sw, 1) : [0, 0];
        toLayout('nchw', name);
        // AveragePool: tfjs averages over the in-image cells only = ONNX count_include_pad 0 (default).
        cur = emit({ opType: cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', name, inputs: [cur], outputs: [fresh(name)], attributes: { kernel_shape: [kh, kw], strides: [sh, sw], pads: [pt, pl, pb, pr] } });
        shape = [outSize(H, kh, sh, 1, padding), outSize(W, kw, sw, 1, padding), C];
        break;
      }
      case 'Flatten': {
        if (shape.length > 1) {
          toLayout('nhwc', name);
          cur = emit({ opType: 'Flatten', name, inputs: [cur], outputs: [fresh(name)], attributes: { axis: 1 } });
          shape = [shape.reduce((a, b) => a * b, 1)];
        }
        break;
      }
      case 'Reshape': {
        const target = cfg.targetShape;
        if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d))) throw new DataError(`layer ${name} (Reshape): targetShape ${JSON.stringify(target)} is not a list of integers`);
        toLayout('nhwc', name);
        const total = shape.reduce((a, b) => a * b, 1);
        const known = (target as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const next = (target as number[]).map((d) => (d === -1 ? total / known : d));
        initializers.push({ name: `${name}/shape`, dtype: 'int64', dims: [next.length + 1], data: BigInt64Array.from([-1n, ...next.map(BigInt)]) });
        cur = emit({ opType: 'Reshape', name, inputs: [cur, `${name}/shape`], outputs: [fresh(name)] });
        shape = next;
        break;
      }
      case 'Activation':
        activation(cfg.activation, name);
        break;
      case 'ReLU': {
        if (cfg.maxValue !== undefined && cfg.maxValue !== null) throw new DataError(`layer ${name} (ReLU): maxValue is not supported`);
        activation('relu', name);
        break;
      }
      default:
        throw new DataError(`layer ${name} (${cls}) is not supported by the ONNX export; supported: ${SUPPORTED_LAYERS.join(', ')}`);
    }
    layers.push({ name, className: cls, ops });
  }
  if (shape.length !== 1) throw new DataError(`the student's output has shape [batch, ${shape.join(', ')}]; export expects [batch, classes]`);
  const outputName = opts.outputName ?? 'logits';
  if (cur === opts.inputName) {
    cur = emit({ opType: 'Identity', name: 'output', inputs: [cur], outputs: [outputName] });
  } else {
    // Rename the last node's output to the graph output name.
    const last = nodes[nodes.length - 1]!;
    nodes[nodes.length - 1] = { ...last, outputs: [outputName] };
  }
  return {
    spec: {
      producerName: 'distill',
      ...(opts.docString !== undefined ? { docString: opts.docString } : {}),
      graph: {
        name: opts.graphName ?? 'student',
        nodes,
        initializers,
        inputs: [{ name: opts.inputName, dtype: 'float32', shape: ['batch', ...inputShape] }],
        outputs: [{ name: outputName, dtype: 'float32', shape: ['batch', shape[0]!] }],
      },
    },
    inputShape,
    outputSize: shape[0]!,
    outputKind,
    parameters,
    layers,
  };
}
