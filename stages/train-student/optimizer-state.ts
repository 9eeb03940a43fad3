import type { TrainSection } from '../../pipeline/config/experiment-config.ts';
import { DataError } from '../../pipeline/errors.ts';
import { tf } from '../../pipeline/engines/tfjs.ts';
import type { SavedArray } from '../../pipeline/student/checkpoint.ts';

/** Momentum of the `momentum` optimizer (SGD with momentum). */
export const MOMENTUM = 0.9;

/** The optimizer named by `train.optimizer` at `train.learningRate`: adam (tfjs defaults beta1 0.9, beta2 0.999, epsilon 1e-7), sgd, or momentum 0.9. */
export function createOptimizer(train: Pick<TrainSection, 'optimizer' | 'learningRate'>): tf.Optimizer {
  switch (train.optimizer) {
    case 'adam':
      return tf.train.adam(train.learningRate);
    case 'sgd':
      return tf.train.sgd(train.learningRate);
    case 'momentum':
      return tf.train.momentum(train.learningRate, MOMENTUM);
  }
}

async function toSaved(name: string, t: tf.Tensor): Promise<SavedArray> {
  const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
  const values = (await t.data()) as Float32Array | Int32Array;
  return { name, shape: [...t.shape], dtype, values: dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values) };
}

/** Adam keeps beta1^t and beta2^t as running products; tfjs's setWeights recomputes them with pow(), which is not bit-identical. */
interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

/**
 * The optimizer's full state: tfjs's `getWeights()` (iterations, then per-variable slots in the
 * variables' order) plus, for Adam, its running beta powers, so that a restored optimizer continues
 * bit-identically.
 */
export async function saveOptimizerState(optimizer: tf.Optimizer): Promise<SavedArray[]> {
  const out: SavedArray[] = [];
  for (const w of await optimizer.getWeights()) out.push(await toSaved(w.name, w.tensor));
  const adam = optimizer as unknown as AdamInternals;
  if (adam.accBeta1 && adam.accBeta2) {
    out.push(await toSaved('__adam/accBeta1', adam.accBeta1), await toSaved('__adam/accBeta2', adam.accBeta2));
  }
  return out;
}

/** Restores {@link saveOptimizerState}'s output into a fresh optimizer of the same kind and variable list. */
export async function restoreOptimizerState(optimizer: tf.Optimizer, state: readonly SavedArray[], where: string): Promise<void> {
  const extra = state.filter((s) => s.name.startsWith('__adam/'));
  const slots = state.filter((s) => !s.name.startsWith('__adam/'));
  const named = slots.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape, s.dtype) }));
  await optimizer.setWeights(named);
  // setWeights keeps iterations as a number and clones the slot tensors into variables.
  tf.dispose(named.map((n) => n.tensor));
  const adam = optimizer as unknown as AdamInternals;
  if (adam.accBeta1 && adam.accBeta2) {
    const b1 = extra.find((s) => s.name === '__adam/accBeta1');
    const b2 = extra.find((s) => s.name === '__adam/accBeta2');
    if (!b1 || !b2) throw new DataError(`${where}: the checkpoint has no Adam beta powers (was it written by another optimizer?)`);
    tf.tidy(() => {
      adam.accBeta1!.assign(tf.scalar(b1.values[0]!));
      adam.accBeta2!.assign(tf.scalar(b2.values[0]!));
    });
  }
}
