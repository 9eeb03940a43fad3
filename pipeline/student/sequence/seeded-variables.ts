import { tf } from '../../engines/tfjs.ts';
import { deriveSeed } from '../../seeded-random.ts';

/**
 * The trainable variables of a student built from tfjs ops, created in a fixed order with initial
 * values seeded per variable from the master seed (same seed, same weights, on any backend), each
 * with a readable name (`block_1/attn/wq`) for checkpoints and the export.
 */
export class SeededVariables {
  readonly variables: tf.Variable[] = [];
  readonly names: string[] = [];
  private next = 0;

  constructor(private readonly seed: number) {}

  /** Glorot-uniform matrix [fanIn, fanOut]. */
  glorot(name: string, shape: [number, number]): tf.Variable {
    return this.add(name, tf.initializers.glorotUniform({ seed: this.nextSeed() }).apply(shape));
  }

  /** Normal(0, stddev) table, e.g. an embedding [V, d] or a learned position table [L, d]. */
  normal(name: string, shape: number[], stddev = 0.02): tf.Variable {
    return this.add(name, tf.initializers.randomNormal({ mean: 0, stddev, seed: this.nextSeed() }).apply(shape));
  }

  /** Constant vector (biases 0, layer-norm gains 1). */
  constant(name: string, size: number, value: number): tf.Variable {
    this.nextSeed(); // keep later seeds independent of which constants exist
    return this.add(name, tf.fill([size], value));
  }

  /** Registers the trainable weights of a built tfjs layer under `prefix/`. */
  adopt(prefix: string, layer: tf.layers.Layer): void {
    for (const w of layer.trainableWeights) {
      this.variables.push(w.read() as tf.Variable);
      this.names.push(`${prefix}/${w.originalName}`);
    }
  }

  /** A seed for a tfjs initializer of a layer built elsewhere (GRU/LSTM kernels). */
  nextSeed(): number {
    return deriveSeed(this.seed, 'init', this.next++);
  }

  /** Total elements of the variables. */
  count(): number {
    return this.variables.reduce((s, v) => s + v.size, 0);
  }

  private add(name: string, value: tf.Tensor): tf.Variable {
    const v = tf.variable(value, true);
    value.dispose();
    this.variables.push(v);
    this.names.push(name);
    return v;
  }
}
