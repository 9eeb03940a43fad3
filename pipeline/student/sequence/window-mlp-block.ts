import { tf } from '../../engines/tfjs.ts';
import { denseSeq, embed } from './embedding-block.ts';
import type { SeededVariables } from './seeded-variables.ts';
import type { SequenceShape } from './sequence-student.ts';
import { outputClasses } from './sequence-student.ts';

/** Window-MLP sizes (student.dModel, window, hidden, activation). */
export interface WindowMlpSpec {
  dModel: number;
  window: number;
  hidden: number[];
  activation: 'relu' | 'tanh' | 'elu' | 'sigmoid';
}

/** Offsets (relative positions) a position sees: causal t-w+1..t, else t-w..t+w. */
export function windowOffsets(window: number, causal: boolean): number[] {
  const lo = causal ? -(window - 1) : -window;
  const hi = causal ? 0 : window;
  const out: number[] = [];
  for (let o = lo; o <= hi; o++) out.push(o);
  return out;
}

/**
 * The cheapest sequence student: each position concatenates the embeddings of a fixed window of
 * neighbours (causal LM: the token and the window-1 before it; token classification: `window` on
 * each side), zero outside the row and at padding, then dense hidden layers and a linear V-logit head.
 */
export function windowMlpBlock(spec: WindowMlpSpec, shape: SequenceShape, vars: SeededVariables): { apply: (ids: tf.Tensor2D, mask: tf.Tensor2D) => tf.Tensor3D; macsPerToken: number } {
  const d = spec.dModel;
  const offsets = windowOffsets(spec.window, shape.causal);
  const table = vars.normal('embed/tokens', [shape.vocab, d]);
  const layers: Array<{ w: tf.Variable; b: tf.Variable }> = [];
  let fanIn = offsets.length * d;
  let macsPerToken = 0;
  spec.hidden.forEach((units, i) => {
    layers.push({ w: vars.glorot(`hidden_${i + 1}/kernel`, [fanIn, units]), b: vars.constant(`hidden_${i + 1}/bias`, units, 0) });
    macsPerToken += fanIn * units;
    fanIn = units;
  });
  const out = { w: vars.glorot('logits/kernel', [fanIn, outputClasses(shape)]), b: vars.constant('logits/bias', outputClasses(shape), 0) };
  macsPerToken += fanIn * outputClasses(shape);
  const before = -offsets[0]!;
  const after = offsets[offsets.length - 1]!;
  const act = spec.activation;
  const apply = (ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D => {
    const [b, l] = ids.shape;
    const e = tf.mul(embed(table as tf.Tensor2D, ids, shape.embedding), tf.expandDims(mask, 2)) as tf.Tensor3D;
    const padded = tf.pad(e, [[0, 0], [before, after], [0, 0]]);
    const views = offsets.map((o) => tf.slice(padded, [0, before + o, 0], [b, l, d]));
    let h = tf.concat(views, 2) as tf.Tensor3D;
    for (const layer of layers) {
      const z = denseSeq(h, layer.w as tf.Tensor2D, layer.b as tf.Tensor1D);
      h = act === 'relu' ? tf.relu(z) : act === 'tanh' ? tf.tanh(z) : act === 'elu' ? tf.elu(z) : tf.sigmoid(z);
    }
    return denseSeq(h, out.w as tf.Tensor2D, out.b as tf.Tensor1D);
  };
  return { apply, macsPerToken };
}
