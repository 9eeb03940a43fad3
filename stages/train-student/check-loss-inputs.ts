/** Argument checks of the distillation loss: options, shapes, dtypes and the temperature rule (no device sync). */
import type { tf } from '../../pipeline/engines/tfjs.ts';
import type { Targets } from './distillation-targets.ts';

/** Loss hyper-parameters. */
export interface DistillationLossOptions {
  /** Softmax temperature T of the KL term; positive and finite (1 = no softening). */
  temperature: number;
  /** Weight of the hard-label CE term in [0, 1]; 1 = hard-label baseline (no teacher needed). */
  alpha: number;
}

/** Validates `opts`, throwing a RangeError naming the field, value and allowed range. */
export function checkOptions(opts: DistillationLossOptions): void {
  const { temperature, alpha } = opts;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
    throw new RangeError(`train.temperature must be a positive finite number, got ${temperature}`);
  }
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new RangeError(`train.alpha must be a number in [0, 1], got ${alpha}`);
  }
}

function shapeError(what: string, got: number[], want: string): RangeError {
  return new RangeError(`distillationLoss: ${what} must have shape ${want}, got [${got.join(', ')}]`);
}

function checkTemperature(temperature: number, captureTemperature: number, mode: string): void {
  if (temperature !== captureTemperature) {
    throw new RangeError(
      `temperature T=${temperature} does not match the store's capture temperature ${captureTemperature}; ` +
        `a ${mode} store fixes T at capture (dense stores leave T free)`,
    );
  }
}

function checkSlots(what: string, index: tf.Tensor2D, b: number, c: number): number {
  const k = index.shape[1];
  if (index.rank !== 2 || index.shape[0] !== b || !(k >= 1 && k <= c)) {
    throw shapeError(`targets.${what}`, index.shape, `[B, k] with B = ${b}, 1 <= k <= C = ${c}`);
  }
  if (index.dtype !== 'int32') throw new TypeError(`distillationLoss: targets.${what} must be int32, got ${index.dtype}`);
  return k;
}

function checkTargets(targets: Targets, b: number, c: number, temperature: number): void {
  if (targets.kind === 'dense') {
    const s = targets.logits.shape;
    if (targets.logits.rank !== 2 || s[0] !== b || s[1] !== c) throw shapeError('targets.logits', s, `[B, C] = [${b}, ${c}]`);
    return;
  }
  if (targets.kind === 'sampled') {
    checkTemperature(temperature, targets.captureTemperature, 'sampled');
    const m = checkSlots('index', targets.index, b, Number.MAX_SAFE_INTEGER);
    const s = targets.count.shape;
    if (targets.count.rank !== 2 || s[0] !== b || s[1] !== m) throw shapeError('targets.count', s, `[B, m] = [${b}, ${m}]`);
    if (!(Number.isInteger(targets.samples) && targets.samples >= 1)) throw new RangeError(`targets.samples must be a positive integer, got ${targets.samples}`);
    return;
  }
  const { logit, tailLogSumExp, captureTemperature, tail } = targets;
  checkTemperature(temperature, captureTemperature, 'top-k');
  if (tail !== 'bucket' && tail !== 'uniform') {
    throw new RangeError(`targets.tail must be one of 'bucket', 'uniform', got ${String(tail)}`);
  }
  const k = checkSlots('index', targets.index, b, c);
  if (logit.rank !== 2 || logit.shape[0] !== b || logit.shape[1] !== k) throw shapeError('targets.logit', logit.shape, `[B, k] = [${b}, ${k}]`);
  if (tailLogSumExp.rank !== 1 || tailLogSumExp.shape[0] !== b) throw shapeError('targets.tailLogSumExp', tailLogSumExp.shape, `[B] = [${b}]`);
}

/** Checks shapes, dtypes, the per-row weights and the temperature rule; returns [B, C]. */
export function checkInputs(
  student: tf.Tensor2D,
  labels: tf.Tensor1D | null,
  targets: Targets | null,
  temperature: number,
  weights: tf.Tensor1D | null = null,
): [number, number] {
  if (student.rank !== 2) throw shapeError('studentLogits', student.shape, '[B, C]');
  const [b, c] = student.shape;
  if (labels !== null) {
    if (labels.rank !== 1 || labels.shape[0] !== b) throw shapeError('labels', labels.shape, `[B] = [${b}]`);
    if (labels.dtype !== 'int32') throw new TypeError(`distillationLoss: labels must be int32, got ${labels.dtype}`);
  }
  if (weights !== null) {
    if (weights.rank !== 1 || weights.shape[0] !== b) throw shapeError('weights', weights.shape, `[B] = [${b}]`);
    if (weights.dtype !== 'float32') throw new TypeError(`distillationLoss: weights must be float32, got ${weights.dtype}`);
  }
  if (targets !== null) checkTargets(targets, b, c, temperature);
  return [b, c];
}
