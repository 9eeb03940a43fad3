import { tf } from '../../engines/tfjs.ts';
import { denseSeq, embed, layerNorm } from './embedding-block.ts';
import type { SeededVariables } from './seeded-variables.ts';
import type { SequenceShape } from './sequence-student.ts';
import { outputClasses } from './sequence-student.ts';

/** Transformer sizes (student.dModel, layers, heads, mlpRatio, context). */
export interface TransformerSpec {
  dModel: number;
  layers: number;
  heads: number;
  mlpRatio: number;
  /** Rows of the learned position table (>= the dataset's context). */
  positions: number;
  activation: 'relu' | 'tanh' | 'elu' | 'sigmoid';
}

interface BlockWeights {
  ln1g: tf.Variable; ln1b: tf.Variable; wq: tf.Variable; wk: tf.Variable; wv: tf.Variable; wo: tf.Variable; bo: tf.Variable;
  ln2g: tf.Variable; ln2b: tf.Variable; w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable;
}

/** Additive attention bias [B, 1, L, L]: 0 where query i may attend key j, -1e9 where j is padding (or j > i when causal). */
export function attentionBias(mask: tf.Tensor2D, causal: boolean): tf.Tensor4D {
  const [b, l] = mask.shape;
  const keys = tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [b, 1, 1, l]);
  if (!causal) return tf.broadcastTo(keys, [b, 1, l, l]) as tf.Tensor4D;
  const tri = new Float32Array(l * l);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) tri[i * l + j] = -1e9;
  return tf.add(keys, tf.tensor4d(tri, [1, 1, l, l]));
}

function activate(x: tf.Tensor3D, a: TransformerSpec['activation']): tf.Tensor3D {
  return a === 'relu' ? tf.relu(x) : a === 'tanh' ? tf.tanh(x) : a === 'elu' ? tf.elu(x) : tf.sigmoid(x);
}

/** Multi-head self-attention of h [B, L, d] with bias [B, 1, L, L]: [B, L, d] (before the output projection). */
function selfAttention(h: tf.Tensor3D, w: BlockWeights, bias: tf.Tensor4D, heads: number): tf.Tensor3D {
  const [b, l, d] = h.shape;
  const dh = d / heads;
  const split = (x: tf.Tensor3D, perm: number[]): tf.Tensor4D => tf.transpose(tf.reshape(x, [b, l, heads, dh]), perm);
  const q = split(denseSeq(h, w.wq as tf.Tensor2D, null), [0, 2, 1, 3]);
  // K^T [B, H, dh, L] straight from one transpose: matMul(q, k, false, true) would run wasm's naive
  // loop (BatchMatMul with a transpose flag skips XNNPACK; see tfjs-gradient-patch.ts), ~10x slower.
  const kT = split(denseSeq(h, w.wk as tf.Tensor2D, null), [0, 2, 3, 1]);
  const v = split(denseSeq(h, w.wv as tf.Tensor2D, null), [0, 2, 1, 3]);
  const scores = tf.add(tf.mul(tf.matMul(q, kT), 1 / Math.sqrt(dh)), bias);
  const att = tf.matMul(tf.softmax(scores), v); // [B, H, L, dh]
  return tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [b, l, d]);
}

/**
 * A pre-LN transformer: token embedding + learned positions, `layers` blocks of
 * x += Wo·MHA(LN(x)); x += W2·act(W1·LN(x) + b1) + b2, a final LN and a linear V-logit head.
 * Attention is written with tfjs ops (tfjs-layers 4.22 does not export its attention layers); its
 * mask comes from the attention mask (padding keys) plus causality for a causal LM.
 */
export function transformerBlock(spec: TransformerSpec, shape: SequenceShape, vars: SeededVariables): { apply: (ids: tf.Tensor2D, mask: tf.Tensor2D) => tf.Tensor3D; macsPerToken: number } {
  const d = spec.dModel;
  const hidden = Math.max(1, Math.round(spec.mlpRatio * d));
  const tokens = vars.normal('embed/tokens', [shape.vocab, d]);
  const positions = vars.normal('embed/positions', [spec.positions, d]);
  const blocks: BlockWeights[] = [];
  for (let i = 1; i <= spec.layers; i++) {
    const p = `block_${i}`;
    blocks.push({
      ln1g: vars.constant(`${p}/ln1/gain`, d, 1), ln1b: vars.constant(`${p}/ln1/shift`, d, 0),
      wq: vars.glorot(`${p}/attn/wq`, [d, d]), wk: vars.glorot(`${p}/attn/wk`, [d, d]), wv: vars.glorot(`${p}/attn/wv`, [d, d]),
      wo: vars.glorot(`${p}/attn/wo`, [d, d]), bo: vars.constant(`${p}/attn/bo`, d, 0),
      ln2g: vars.constant(`${p}/ln2/gain`, d, 1), ln2b: vars.constant(`${p}/ln2/shift`, d, 0),
      w1: vars.glorot(`${p}/mlp/w1`, [d, hidden]), b1: vars.constant(`${p}/mlp/b1`, hidden, 0),
      w2: vars.glorot(`${p}/mlp/w2`, [hidden, d]), b2: vars.constant(`${p}/mlp/b2`, d, 0),
    });
  }
  const lnfg = vars.constant('final_ln/gain', d, 1);
  const lnfb = vars.constant('final_ln/shift', d, 0);
  const wOut = vars.glorot('logits/kernel', [d, outputClasses(shape)]);
  const bOut = vars.constant('logits/bias', outputClasses(shape), 0);
  const l = shape.context;
  const macsPerToken = spec.layers * (4 * d * d + 2 * d * hidden + 2 * l * d) + d * outputClasses(shape);
  const apply = (ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D => {
    const len = ids.shape[1];
    let x = tf.add(embed(tokens as tf.Tensor2D, ids, shape.embedding), tf.slice(positions, [0, 0], [len, d])) as tf.Tensor3D;
    const bias = attentionBias(mask, shape.causal);
    for (const w of blocks) {
      const a = selfAttention(layerNorm(x, w.ln1g as tf.Tensor1D, w.ln1b as tf.Tensor1D), w, bias, spec.heads);
      x = tf.add(x, denseSeq(a, w.wo as tf.Tensor2D, w.bo as tf.Tensor1D));
      const h = activate(denseSeq(layerNorm(x, w.ln2g as tf.Tensor1D, w.ln2b as tf.Tensor1D), w.w1 as tf.Tensor2D, w.b1 as tf.Tensor1D), spec.activation);
      x = tf.add(x, denseSeq(h, w.w2 as tf.Tensor2D, w.b2 as tf.Tensor1D));
    }
    return denseSeq(layerNorm(x, lnfg as tf.Tensor1D, lnfb as tf.Tensor1D), wOut as tf.Tensor2D, bOut as tf.Tensor1D);
  };
  return { apply, macsPerToken };
}
