import { tf } from '../engines/tfjs.ts';
import type { NumericArray } from '../io/column-values.ts';

/**
 * Runs a Layers model over `rows` rows of features in batches: input = value * `inputScale` as
 * float32, shaped `[batch, ...model input shape]`. Returns the outputs, `rows * outputSize` float32.
 * Tensors are disposed batch by batch.
 * @param batchSize - rows per forward pass; default 1000.
 */
export function predictLayersModel(model: tf.LayersModel, features: NumericArray, rows: number, inputScale: number, batchSize = 1000): Float32Array {
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const width = inShape.reduce((a, b) => a * b, 1);
  if (features.length < rows * width) throw new RangeError(`features hold ${features.length} values, need rows * ${width} = ${rows * width}`);
  const outShape = model.outputs[0]!.shape;
  const outSize = outShape[outShape.length - 1] as number;
  const out = new Float32Array(rows * outSize);
  const x = new Float32Array(Math.min(batchSize, rows) * width);
  for (let r = 0; r < rows; r += batchSize) {
    const n = Math.min(batchSize, rows - r);
    const src = features.subarray(r * width, (r + n) * width);
    for (let i = 0; i < src.length; i++) x[i] = Number(src[i]!) * inputScale;
    const y = tf.tidy(() => model.predict(tf.tensor(x.subarray(0, n * width), [n, ...inShape], 'float32')) as tf.Tensor);
    out.set(y.dataSync() as Float32Array, r * outSize);
    y.dispose();
  }
  return out;
}
