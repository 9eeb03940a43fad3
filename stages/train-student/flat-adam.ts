/**
 * Adam over all the student's variables at once: the same update as tfjs's `tf.train.adam`, element for
 * element (so bit-identical on every backend: Adam is elementwise), with the moments of every variable
 * kept in two flat variables. tfjs's Adam runs 14 kernels per variable (4 variables per dense layer);
 * this one runs the 13 update kernels once on the concatenated gradients, plus a reshape and a concat to
 * gather them and a split, reshapes and one add per variable to apply the step: 36 kernels instead of 84
 * for a 3-layer MLP, where a small student's step is bound by kernel dispatch (docs/benchmarks.md,
 * "students vs PyTorch"). Checkpoints hold the same per-variable `<name>/m` and `<name>/v` slots as
 * tfjs's Adam, so either optimizer resumes the other's state.
 */
import { tf } from '../../pipeline/engines/tfjs.ts';

/** What tfjs's Optimizer.getWeights/setWeights exchange (not exported by name from tfjs). */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** AdamOptimizer's running beta powers, private in its typings (optimizer-state.ts reads them too). */
interface AdamBetaPowers {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

interface FlatLayout {
  names: string[];
  shapes: number[][];
  sizes: number[];
  m: tf.Variable;
  v: tf.Variable;
}

/** tfjs's AdamOptimizer with flat moments; see the module comment. */
export class FlatAdamOptimizer extends tf.AdamOptimizer {
  private flat: FlatLayout | null = null;

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const grads = names.map((n, i) => (Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[n]));
    const missing = names.filter((_, i) => grads[i] == null);
    if (missing.length > 0) throw new Error(`FlatAdamOptimizer: no gradient for ${missing.join(', ')} (every variable of the student must take part in the loss)`);
    const values = names.map((n) => tf.engine().registeredVariables[n]!);
    const { accBeta1, accBeta2 } = this as unknown as AdamBetaPowers;
    tf.tidy(() => {
      const flat = this.layout(names, values);
      const g = tf.concat(grads.map((t) => tf.reshape(t!, [-1])));
      const oneMinusAccBeta1 = tf.sub(1, accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, accBeta2);
      const newFirstMoment = tf.add(tf.mul(flat.m, this.beta1), tf.mul(g, 1 - this.beta1));
      const newSecondMoment = tf.add(tf.mul(flat.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
      const biasCorrectedFirstMoment = tf.div(newFirstMoment, oneMinusAccBeta1);
      const biasCorrectedSecondMoment = tf.div(newSecondMoment, oneMinusAccBeta2);
      flat.m.assign(newFirstMoment);
      flat.v.assign(newSecondMoment);
      const step = tf.mul(tf.div(biasCorrectedFirstMoment, tf.add(tf.sqrt(biasCorrectedSecondMoment), this.epsilon)), -this.learningRate);
      const parts = values.length === 1 ? [step] : tf.split(step, flat.sizes);
      values.forEach((value, i) => value.assign(tf.add(tf.reshape(parts[i]!, value.shape), value)));
      accBeta1.assign(tf.mul(accBeta1, this.beta1));
      accBeta2.assign(tf.mul(accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  /**
   * The flat moments for these variables: created (zeros) at the first step, then checked to hold the
   * same number of variables of the same sizes, in order. Like tfjs's Adam, slots go by position, not
   * by name: a student rebuilt for a resume has new variable names (`kernel_2` for `kernel_1`).
   */
  private layout(names: string[], values: tf.Variable[]): FlatLayout {
    const sizes = values.map((v) => v.size);
    if (this.flat === null) {
      const total = sizes.reduce((a, b) => a + b, 0);
      this.flat = { names, shapes: values.map((v) => [...v.shape]), sizes, m: tf.keep(tf.zeros([total]).variable(false)), v: tf.keep(tf.zeros([total]).variable(false)) };
    } else if (sizes.length !== this.flat.sizes.length || sizes.some((n, i) => n !== this.flat!.sizes[i])) {
      throw new Error(`FlatAdamOptimizer: the variables changed between steps (sizes ${this.flat.sizes.join(', ')} -> ${sizes.join(', ')}: ${names.join(', ')})`);
    }
    return this.flat;
  }

  /** tfjs Adam's layout: iterations, then `<name>/m` of every variable, then `<name>/v` (new tensors: the caller disposes them). */
  override async getWeights(): Promise<NamedTensor[]> {
    const iterations = await this.saveIterations();
    const flat = this.flat;
    if (flat === null) return [iterations];
    const slots = (all: tf.Variable, suffix: string): NamedTensor[] => {
      const parts = tf.tidy(() => (flat.names.length === 1 ? [all.clone()] : tf.split(all, flat.sizes)).map((t, i) => tf.reshape(t, flat.shapes[i]!)));
      return parts.map((t, i) => ({ name: `${flat.names[i]}/${suffix}`, tensor: t }));
    };
    return [iterations, ...slots(flat.m, 'm'), ...slots(flat.v, 'v')];
  }

  /** Restores tfjs Adam's layout (see {@link getWeights}) into the flat moments. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const { accBeta1, accBeta2 } = this as unknown as AdamBetaPowers;
    tf.tidy(() => {
      accBeta1.assign(tf.pow(this.beta1, this.iterations_ + 1));
      accBeta2.assign(tf.pow(this.beta2, this.iterations_ + 1));
    });
    this.disposeFlat();
    if (rest.length === 0) return;
    const n = rest.length / 2;
    const m = rest.slice(0, n);
    const v = rest.slice(n);
    const names = m.map((w) => w.name.replace(/\/m$/, ''));
    this.flat = {
      names,
      shapes: m.map((w) => [...w.tensor.shape]),
      sizes: m.map((w) => w.tensor.size),
      m: tf.keep(tf.tidy(() => tf.concat(m.map((w) => tf.reshape(w.tensor, [-1]))).variable(false))),
      v: tf.keep(tf.tidy(() => tf.concat(v.map((w) => tf.reshape(w.tensor, [-1]))).variable(false))),
    };
  }

  override dispose(): void {
    super.dispose();
    this.disposeFlat();
  }

  private disposeFlat(): void {
    if (this.flat) tf.dispose([this.flat.m, this.flat.v]);
    this.flat = null;
  }
}
