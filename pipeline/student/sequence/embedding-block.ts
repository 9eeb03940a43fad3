import { tf } from '../../engines/tfjs.ts';

/**
 * How token ids become vectors: `gather` (a table lookup, tf.gather) or `one-hot` (one-hot ids times
 * the table, a matmul). Both give the same numbers; `one-hot` exists because on the wasm backend the
 * gradient of gather needs UnsortedSegmentSum, which tfjs-backend-wasm 4.22 does not register.
 */
export type EmbeddingMethod = 'gather' | 'one-hot';

/** The method for `requested` on `backend`: `auto` = one-hot on wasm, gather elsewhere. */
export function embeddingMethodFor(requested: 'auto' | EmbeddingMethod, backend: string): EmbeddingMethod {
  if (requested !== 'auto') return requested;
  return backend === 'wasm' ? 'one-hot' : 'gather';
}

/**
 * Looks up `ids` [B, L] int32 in `table` [V, d]: [B, L, d]. With `one-hot` the cost is a [B*L, V] x
 * [V, d] matmul (fine for the small vocabularies of character and small BPE students).
 */
export function embed(table: tf.Tensor2D, ids: tf.Tensor2D, method: EmbeddingMethod): tf.Tensor3D {
  const [b, l] = ids.shape;
  const [v, d] = table.shape;
  if (method === 'gather') return tf.reshape(tf.gather(table, tf.reshape(ids, [b * l])), [b, l, d]);
  const oneHot = tf.cast(tf.oneHot(tf.reshape(ids, [b * l]) as tf.Tensor1D, v), 'float32') as tf.Tensor2D;
  return tf.reshape(tf.matMul(oneHot, table), [b, l, d]);
}

/** x [B, L, d] times w [d, n] plus bias [n]: [B, L, n] (one 2-D matmul over all positions). */
export function denseSeq(x: tf.Tensor3D, w: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor3D {
  const [b, l, d] = x.shape;
  const y = tf.matMul(tf.reshape(x, [b * l, d]), w);
  return tf.reshape(bias === null ? y : tf.add(y, bias), [b, l, w.shape[1]]);
}

/** Layer normalisation over the last axis (eps 1e-5), gain g and shift s. */
export function layerNorm(x: tf.Tensor3D, g: tf.Tensor1D, s: tf.Tensor1D): tf.Tensor3D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), s);
}
