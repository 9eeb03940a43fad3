import { tf } from '../../pipeline/engines/tfjs.ts';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import type { ShardTargets, StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { captureTemperatureOf, positionsOf, targetsAllowTemperature } from '../../pipeline/store/soft-target-store.ts';
import type { Targets, TopKTail } from './distillation-targets.ts';
import type { SequenceTarget } from './sequence-batch.ts';
import { targetPositions } from './sequence-batch.ts';

/** What a sequence student trains on, for checking a store against it. */
export interface SequenceTask {
  /** Context L of the token dataset. */
  context: number;
  /** token (token classification) or next-token (causal LM). */
  target: SequenceTarget;
  /** Vocabulary (or label classes) V of the student's output. */
  vocab: number;
  /** train.temperature. */
  temperature: number;
}

/**
 * Checks a per-position store against the task before the first step; each error names the store,
 * the field and both values: a classification store (no positions), another target kind, P != the
 * task's positions (L for token classification, L - 1 for a causal LM), another vocabulary, a top-k or
 * sampled store captured at a T other than train.temperature.
 */
export function checkSequenceStore(encoding: StoreEncoding, task: SequenceTask, where: string): void {
  if (encoding.positions === undefined) {
    throw new DataError(`${where}: is a classification store (one target per row, no encoding.positions); a sequence student needs a per-position store`);
  }
  if (encoding.target !== task.target) {
    throw new DataError(`${where}: encoding.target is "${String(encoding.target)}", but the dataset's task needs "${task.target}" targets`);
  }
  const p = targetPositions(task.context, task.target);
  if (encoding.positions !== p) {
    throw new DataError(`${where}: encoding.positions is ${encoding.positions}, but the dataset's context ${task.context} with ${task.target} targets has ${p} positions per row`);
  }
  if (encoding.classes !== task.vocab) {
    throw new DataError(`${where}: encoding.classes is ${encoding.classes}, but the student's vocabulary has ${task.vocab} entries (the dataset's tokenizer vocabSize)`);
  }
  if (!targetsAllowTemperature(encoding, task.temperature)) {
    const tc = captureTemperatureOf(encoding);
    throw new ConfigError(`train.temperature is ${task.temperature}, but the ${encoding.mode} store ${where} was captured at temperature ${tc}; a ${encoding.mode} store fixes T (set train.temperature=${tc})`);
  }
}

/**
 * Checks that the store's per-row `length` equals the dataset's (the attention mask's real tokens) for
 * the rows of one chunk: a store captured from other rows or another tokenisation fails here.
 */
export function checkStoreLengths(t: ShardTargets, datasetLengths: ArrayLike<number>, rowStart: number, where: string): void {
  for (let i = 0; i < datasetLengths.length; i++) {
    const got = t.length?.[rowStart - t.rowStart + i];
    if (got !== datasetLengths[i]) {
      throw new DataError(`${where}: row ${rowStart + i} has length ${String(got)} in the store, but ${datasetLengths[i]} real tokens in the dataset`);
    }
  }
}

/** Copies the per-position arrays of `rows` (indices into `t`) into batch arrays, P * width values per row. */
function gatherRows<A extends Float32Array | Int32Array | Uint16Array>(src: A, rows: ArrayLike<number>, width: number): A {
  const out = new (src.constructor as new (n: number) => A)(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(src.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
  return out;
}

/**
 * The teacher targets of a batch of rows of a decoded per-position shard, flattened to [B*P] rows for
 * the loss: dense logits [B*P, V]; top-k index/logit [B*P, k] and tail LSE [B*P]; sampled index/count
 * [B*P, m]. Padding positions hold zeros (sampled: empty slots) and get weight 0 from the batch.
 * The caller disposes the tensors.
 */
export function sequenceTargets(t: ShardTargets, rows: ArrayLike<number>, encoding: StoreEncoding, tail: TopKTail): Targets {
  const p = positionsOf(encoding);
  const n = rows.length * p;
  if (encoding.mode === 'dense') return { kind: 'dense', logits: tf.tensor2d(gatherRows(t.logits!, rows, p * encoding.classes), [n, encoding.classes]) };
  const tc = captureTemperatureOf(encoding);
  if (encoding.mode === 'topk') {
    const k = encoding.k!;
    return {
      kind: 'topk',
      index: tf.tensor2d(gatherRows(t.topkIndex!, rows, p * k), [n, k], 'int32'),
      logit: tf.tensor2d(gatherRows(t.topkLogit!, rows, p * k), [n, k]),
      tailLogSumExp: tf.tensor1d(gatherRows(t.tailLogSumExp!, rows, p)),
      captureTemperature: tc,
      tail,
    };
  }
  const m = encoding.slots!;
  return {
    kind: 'sampled',
    index: tf.tensor2d(gatherRows(t.sampleIndex!, rows, p * m), [n, m], 'int32'),
    count: tf.tensor2d(Float32Array.from(gatherRows(t.sampleCount!, rows, p * m)), [n, m]),
    samples: encoding.samples!,
    captureTemperature: tc,
  };
}

