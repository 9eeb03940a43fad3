/**
 * Scores a split with the teacher, the student and the optional baseline batch by batch: each batch's
 * outputs `[b * L * C]` are narrowed to the target positions, reduced to per-position numbers
 * (split-positions.ts) and dropped, so a split of any length is evaluated in the memory of one batch
 * per model.
 */
import type { TokenSplit } from '../../pipeline/eval/read-token-split.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { SequenceTarget } from './sequence-targets.ts';
import { splitColumns, targetLogits } from './sequence-targets.ts';
import type { SplitPositions } from './split-positions.ts';
import { addPositions, emptySplitPositions } from './split-positions.ts';
import type { SequencePredictor } from './token-robustness.ts';

/** Float32 logit values one model's batch may hold (64 MiB). */
export const STREAM_BATCH_VALUES = 2 ** 24;

/** Rows per batch: `batchRows` (evaluate.batchSize), fewer when `[rows * L * C]` float32 logits would pass {@link STREAM_BATCH_VALUES}. */
export function streamBatchRows(batchRows: number, L: number, C: number): number {
  return Math.max(1, Math.min(batchRows, Math.floor(STREAM_BATCH_VALUES / (L * C))));
}

/** The models a split is scored with. */
export interface SplitModels {
  teacher: SequencePredictor;
  student: SequencePredictor;
  baseline?: SequencePredictor;
}

/** What {@link streamSplitPositions} reads. */
export interface StreamSplitOptions {
  rows: TokenSplit;
  target: SequenceTarget;
  classes: number;
  models: SplitModels;
  /** Rows per batch (streamBatchRows). */
  batchRows: number;
  /** Slice columns to keep. */
  slices: { position: readonly string[]; row: readonly string[] };
  /** Progress label, e.g. `test`. */
  name: string;
}

/**
 * Runs the models over the split's rows in batches of `batchRows` and keeps the per-position numbers.
 * @throws DataError when a model's outputs do not have `[b * L * C]` values.
 */
export async function streamSplitPositions(o: StreamSplitOptions, reporter: Reporter): Promise<SplitPositions> {
  const { rows, target, classes: C } = o;
  const L = rows.L;
  const p = emptySplitPositions(splitColumns(rows, target, C, o.slices), o.models.baseline !== undefined, `split "${rows.split}"`);
  const progress = reporter.progress(`${o.models.baseline ? 'teacher, student and baseline' : 'teacher and student'} on ${o.name}`, rows.rows, 'rows');
  for (let r0 = 0; r0 < rows.rows; r0 += o.batchRows) {
    const b = Math.min(o.batchRows, rows.rows - r0);
    const ids = rows.inputIds.subarray(r0 * L, (r0 + b) * L);
    const mask = rows.attentionMask.subarray(r0 * L, (r0 + b) * L);
    const narrow = async (predict: SequencePredictor): Promise<Float32Array> => targetLogits(await predict(ids, mask, b), b, L, C, target);
    const teacher = await narrow(o.models.teacher);
    const student = await narrow(o.models.student);
    const baseline = o.models.baseline ? await narrow(o.models.baseline) : undefined;
    addPositions(p, r0, b, { teacher, student, ...(baseline ? { baseline } : {}) });
    progress.tick(b);
  }
  progress.done();
  return p;
}
