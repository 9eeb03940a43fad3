/**
 * Between dataset values and teacher tensors: building an input tensor from a column (with the
 * card's preprocessing) and turning the teacher's output into stored logits.
 */
import type { EngineTensor, EngineTensorData } from '../engines/onnxruntime.ts';
import type { NumericArray } from '../io/column-values.ts';
import type { InputBinding, OutputKind } from './teacher-card.ts';

/** log of the smallest positive float32 (denormal 2^-149): what log(p) stores for p = 0. */
export const LOG_PROB_FLOOR = Math.log(2 ** -149);

/**
 * The input tensor of `binding` for rows [from, from + n) of a column's contiguous values: a fresh
 * buffer (it may be transferred to a worker), `value * scale + offset` for float inputs.
 */
export function inputTensor(binding: InputBinding, values: NumericArray, from: number, n: number): EngineTensor {
  const width = binding.shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
  const src = values.subarray(from * width, (from + n) * width);
  const dims = binding.shape.map((d) => (typeof d === 'number' ? d : n)); // a resolved card: "seq" is a number by now
  const scale = binding.preprocess?.scale ?? 1;
  const offset = binding.preprocess?.offset ?? 0;
  let data: EngineTensorData;
  switch (binding.dtype) {
    case 'float32':
    case 'float64': {
      const out = binding.dtype === 'float32' ? new Float32Array(src.length) : new Float64Array(src.length);
      if (src instanceof Uint8Array) {
        // 8-bit pixels: a 256-entry table (the same float64 expression, rounded once on store).
        const lut = new Float64Array(256);
        for (let v = 0; v < 256; v++) lut[v] = v * scale + offset;
        for (let i = 0; i < src.length; i++) out[i] = lut[src[i]!]!;
      } else if (src instanceof BigInt64Array || src instanceof BigUint64Array) for (let i = 0; i < src.length; i++) out[i] = Number(src[i]) * scale + offset;
      else for (let i = 0; i < src.length; i++) out[i] = src[i]! * scale + offset;
      data = out;
      break;
    }
    case 'int64':
      data = src instanceof BigInt64Array ? BigInt64Array.from(src) : BigInt64Array.from(src as ArrayLike<number | bigint>, (v) => BigInt(v));
      break;
    default: {
      const Ctor = { uint8: Uint8Array, int8: Int8Array, int32: Int32Array }[binding.dtype];
      const out = new Ctor(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]!);
      data = out;
    }
  }
  return { type: binding.dtype, data, dims };
}

/**
 * Converts the teacher's output, in place, to what the store holds: logits and log_probs as they
 * are; probs to log(p), with p = 0 stored as {@link LOG_PROB_FLOOR} (not -Infinity). Log-probabilities
 * are logits up to a per-row constant, so softmax(z / T) is unchanged for every T.
 */
export function toStoredLogits(values: Float32Array, kind: OutputKind): Float32Array {
  if (kind === 'probs') {
    for (let i = 0; i < values.length; i++) {
      const p = values[i]!;
      values[i] = p > 0 ? Math.log(p) : p === 0 ? LOG_PROB_FLOOR : NaN;
    }
  }
  return values;
}
