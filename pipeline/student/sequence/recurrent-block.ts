import { tf } from '../../engines/tfjs.ts';
import { denseSeq, embed } from './embedding-block.ts';
import type { SeededVariables } from './seeded-variables.ts';
import type { SequenceShape } from './sequence-student.ts';
import { outputClasses } from './sequence-student.ts';

/** Recurrent sizes (student.arch gru|lstm, dModel, layers, bidirectional). */
export interface RecurrentSpec {
  cell: 'gru' | 'lstm';
  dModel: number;
  layers: number;
  bidirectional: boolean;
}

/**
 * Token embedding, `layers` stacked GRU or LSTM layers of dModel units (tfjs-layers, returning every
 * position; bidirectional = forward and backward outputs concatenated), then a linear V-logit head.
 * The attention mask is passed to the layers, so the backward direction starts at each row's last real
 * token (padding leaves the state unchanged). Kernels Glorot-uniform, recurrent kernels orthogonal,
 * both seeded.
 */
export function recurrentBlock(spec: RecurrentSpec, shape: SequenceShape, vars: SeededVariables): { apply: (ids: tf.Tensor2D, mask: tf.Tensor2D) => tf.Tensor3D; macsPerToken: number; dispose: () => void } {
  const d = spec.dModel;
  const table = vars.normal('embed/tokens', [shape.vocab, d]);
  const dirs = spec.bidirectional ? 2 : 1;
  const gates = spec.cell === 'gru' ? 3 : 4;
  const layers: tf.layers.Layer[] = [];
  let fanIn = d;
  let macsPerToken = 0;
  for (let i = 1; i <= spec.layers; i++) {
    const cfg = { units: d, returnSequences: true, kernelInitializer: tf.initializers.glorotUniform({ seed: vars.nextSeed() }), recurrentInitializer: tf.initializers.orthogonal({ seed: vars.nextSeed() }) };
    const cell = spec.cell === 'gru' ? tf.layers.gru(cfg) : tf.layers.lstm(cfg);
    const layer = spec.bidirectional ? tf.layers.bidirectional({ layer: cell as tf.layers.RNN, mergeMode: 'concat' }) : cell;
    tf.tidy(() => {
      layer.apply(tf.zeros([1, 1, fanIn]));
    });
    vars.adopt(`${spec.cell}_${i}`, layer);
    layers.push(layer);
    macsPerToken += dirs * gates * (fanIn * d + d * d);
    fanIn = dirs * d;
  }
  const out = { w: vars.glorot('logits/kernel', [fanIn, outputClasses(shape)]), b: vars.constant('logits/bias', outputClasses(shape), 0) };
  macsPerToken += fanIn * outputClasses(shape);
  const apply = (ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D => {
    let h: tf.Tensor3D = embed(table as tf.Tensor2D, ids, shape.embedding);
    const m = tf.cast(mask, 'bool');
    for (const layer of layers) h = layer.apply(h, { mask: m }) as tf.Tensor3D;
    return denseSeq(h, out.w as tf.Tensor2D, out.b as tf.Tensor1D);
  };
  return { apply, macsPerToken, dispose: () => layers.forEach((l) => l.dispose()) };
}
