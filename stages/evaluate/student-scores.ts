import type { tf } from '../../pipeline/engines/tfjs.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import { predictLayersModel } from '../../pipeline/student/predict-layers-model.ts';
import type { ClassScores } from './class-scores.ts';

/** The model's outputs as logits: a softmax head's probabilities become log p (floored like the store). */
export function toLogits(outputs: Float32Array, model: { layers: { getConfig(): Record<string, unknown> }[] }): Float32Array {
  const last = model.layers[model.layers.length - 1];
  if (last?.getConfig().activation !== 'softmax') return outputs;
  return outputs.map((p) => (p > 0 ? Math.log(p) : Math.log(2 ** -149)));
}

/** A tfjs student's class scores (as logits) on `rows` rows of `features`, scaled by `inputScale`. */
export function studentScores(model: tf.LayersModel, features: NumericArray, rows: number, classes: number, inputScale: number, batchSize: number): ClassScores {
  return { rows, classes, logits: toLogits(predictLayersModel(model, features, rows, inputScale, batchSize), model) };
}
