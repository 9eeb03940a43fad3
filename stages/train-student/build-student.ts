import type { StudentSection } from '../../pipeline/config/experiment-config.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { tf } from '../../pipeline/engines/tfjs.ts';
import { deriveSeed } from '../../pipeline/seeded-random.ts';

/** What the student is built for. */
export interface StudentShape {
  /** Logical shape of one example's features, e.g. [784] or [28, 28] (manifest `shape`), or [n]. */
  featureShape: number[];
  /** Classes C: the size of the logits output. */
  classes: number;
  /** Master seed; each layer's kernel initializer gets a seed derived from it. */
  seed: number;
}

/** A student model and its training-time forward pass. */
export interface StudentModel {
  /** The tfjs LayersModel (saved as model.json + weights; dropout is not part of it, it is identity at inference). */
  model: tf.Sequential;
  /** Shape of one input example as the model takes it: [F] for an MLP, [H, W, C] for a CNN. */
  inputShape: number[];
  /** Values per example (the flat feature size). */
  featureSize: number;
  /** Trainable variables in a fixed order (checkpoints and the optimizer rely on it). */
  variables: tf.Variable[];
  /** Their layer-scoped names, e.g. `hidden_1/kernel`, in the same order. */
  variableNames: string[];
  /** Trainable parameter count. */
  params: number;
  /** Multiply-accumulates of one forward pass per example (dense and conv layers). */
  forwardMacs: number;
  /**
   * Logits [B, C] for flat features [B, F]. With `dropoutSeed` (training), dropout at the configured
   * rate follows every hidden dense layer, with masks drawn from that seed (inverted dropout).
   */
  apply(x: tf.Tensor2D, dropoutSeed?: number): tf.Tensor2D;
}

function cnnInputShape(featureShape: number[]): number[] {
  if (featureShape.length === 3) return featureShape;
  if (featureShape.length === 2) return [...featureShape, 1];
  const n = featureShape[0]!;
  const side = Math.round(Math.sqrt(n));
  if (featureShape.length === 1 && side * side === n) return [side, side, 1];
  throw new ConfigError(`student.arch "cnn" needs an image feature ([H, W], [H, W, C] or a square size), but the feature has shape ${JSON.stringify(featureShape)}`);
}

/**
 * Builds the student from the config: `mlp` = dense hidden layers with the activation, then a
 * linear C-logit layer; `cnn` = conv blocks (conv 'same' + activation, optional 2x2 max-pool), flatten,
 * dense hidden layers, linear C logits. Kernels use Glorot-uniform initialisation seeded per layer
 * from the master seed (same seed, same initial weights, on any backend); biases start at 0.
 */
export function buildStudent(spec: StudentSection, shape: StudentShape): StudentModel {
  if (spec.arch !== 'mlp' && spec.arch !== 'cnn') {
    throw new ConfigError(`student.arch "${spec.arch}" is a sequence student (token ids in, logits per position out); this stage trains mlp and cnn students on fixed features, and sequence students are built by buildSequenceStudent (not yet wired into distill train-student)`);
  }
  const featureSize = shape.featureShape.reduce((a, b) => a * b, 1);
  const layers: tf.layers.Layer[] = [];
  const act = spec.activation;
  let macs = 0;
  let li = 0;
  const init = (): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed: deriveSeed(shape.seed, 'init', li++) });
  let inputShape: number[];
  let flat: number;
  if (spec.arch === 'cnn') {
    inputShape = cnnInputShape(shape.featureShape);
    let [h, w, c] = inputShape as [number, number, number];
    spec.conv.forEach((block, i) => {
      layers.push(tf.layers.conv2d({ name: `conv_${i + 1}`, filters: block.filters, kernelSize: block.kernel, padding: 'same', activation: act, kernelInitializer: init(), biasInitializer: 'zeros', ...(i === 0 ? { inputShape } : {}) }));
      macs += h * w * block.kernel * block.kernel * c * block.filters;
      c = block.filters;
      if (block.pool) {
        layers.push(tf.layers.maxPooling2d({ name: `pool_${i + 1}`, poolSize: 2 }));
        h = Math.floor(h / 2);
        w = Math.floor(w / 2);
      }
    });
    layers.push(tf.layers.flatten({ name: 'flatten', ...(spec.conv.length === 0 ? { inputShape } : {}) }));
    flat = h * w * c;
  } else {
    inputShape = [featureSize];
    flat = featureSize;
  }
  const hiddenLayers = new Set<tf.layers.Layer>();
  let fanIn = flat;
  spec.hidden.forEach((units, i) => {
    const layer = tf.layers.dense({ name: `hidden_${i + 1}`, units, activation: act, kernelInitializer: init(), biasInitializer: 'zeros', ...(layers.length === 0 ? { inputShape } : {}) });
    layers.push(layer);
    hiddenLayers.add(layer);
    macs += fanIn * units;
    fanIn = units;
  });
  layers.push(tf.layers.dense({ name: 'logits', units: shape.classes, kernelInitializer: init(), biasInitializer: 'zeros', ...(layers.length === 0 ? { inputShape } : {}) }));
  macs += fanIn * shape.classes;
  const model = tf.sequential({ layers });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const variableNames = model.trainableWeights.map((w) => w.originalName);
  const rate = spec.dropout;
  return {
    model,
    inputShape,
    featureSize,
    variables,
    variableNames,
    params: model.countParams(),
    forwardMacs: macs,
    apply(x: tf.Tensor2D, dropoutSeed?: number): tf.Tensor2D {
      return tf.tidy(() => {
        let h: tf.Tensor = spec.arch === 'cnn' ? tf.reshape(x, [x.shape[0], ...inputShape]) : x;
        layers.forEach((layer, i) => {
          h = layer.apply(h) as tf.Tensor;
          if (dropoutSeed !== undefined && rate > 0 && hiddenLayers.has(layer)) {
            const keep = tf.greaterEqual(tf.randomUniform(h.shape, 0, 1, 'float32', deriveSeed(dropoutSeed, i)), rate);
            h = tf.mul(h, tf.mul(tf.cast(keep, 'float32'), 1 / (1 - rate)));
          }
        });
        return h as tf.Tensor2D;
      });
    },
  };
}
