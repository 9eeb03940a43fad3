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
import type { OnnxModelSpec } from '../onnx/encode-model.ts';
import type { tf } from '../engines/tfjs.ts';
import { LAYER_CONVERTERS, SUPPORTED_LAYERS } from './layer-converters.ts';
import { OnnxGraphBuilder } from './onnx-graph-builder.ts';

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
  const g = new OnnxGraphBuilder(opts.inputName, inputShape);
  const layers: LayersToOnnxResult['layers'] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    const name = layer.name;
    g.ops = [];
    const convert = Object.hasOwn(LAYER_CONVERTERS, className) ? LAYER_CONVERTERS[className] : undefined;
    if (!convert) throw new DataError(`layer ${name} (${className}) is not supported by the ONNX export; supported: ${SUPPORTED_LAYERS.join(', ')}`);
    const config = layer.getConfig() as Record<string, unknown>;
    convert(g, { name, className, config, weights: () => layer.getWeights().map((t) => ({ dims: t.shape, data: t.dataSync() as Float32Array })) });
    layers.push({ name, className, ops: g.ops });
  }
  const { nodes, initializers, shape } = g;
  if (shape.length !== 1) throw new DataError(`the student's output has shape [batch, ${shape.join(', ')}]; export expects [batch, classes]`);
  const outputName = opts.outputName ?? 'logits';
  if (g.cur === opts.inputName) {
    g.cur = g.emit({ opType: 'Identity', name: 'output', inputs: [g.cur], outputs: [outputName] });
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
    outputKind: g.outputKind,
    parameters: g.parameters,
    layers,
  };
}
