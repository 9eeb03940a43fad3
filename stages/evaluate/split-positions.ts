/**
 * What the sequence report keeps of a split's model outputs: a few numbers per position instead of
 * the `[rows, P, V]` logits. Each position of each model gets its argmax, its top probability, the NLL
 * of its label and its entropy; each position gets KL(teacher || student) at T = 1. Every metric of
 * the report (token metrics, slices, NLL by token frequency, calibration, cascades, words) is computed
 * from these, so outputs can be scored batch by batch and dropped (stream-split-positions.ts): a full
 * lm-brown test split is 1,598 x 127 x 2,000 logits (1.6 GB per model in float32), its positions
 * about 30 bytes per model and position (6 MB).
 *
 * Each position is scored exactly as the in-memory computation did it (float64 log-softmax, max
 * subtracted), so the metrics do not depend on how the split was cut into batches.
 */
import { DataError } from '../../pipeline/errors.ts';
import type { SequenceSplit } from './sequence-report.ts';
import type { SequenceScores } from './sequence-scores.ts';
import { checkSequenceShape, isTarget } from './sequence-scores.ts';

/** One model's numbers per flat position (row * P + position). */
export interface ModelPositions {
  /** Argmax class (the first on ties, like tf.argMax). */
  readonly pred: Int32Array;
  /** Top softmax probability (the model's confidence). */
  readonly confidence: Float64Array;
  /** -log p(label), nats; NaN where the position is not a target. */
  readonly nll: Float64Array;
  /** Entropy of the predicted distribution, nats. */
  readonly entropy: Float64Array;
}

/** A split's positions: targets and slices, and the numbers of the teacher, the student and the optional baseline. */
export interface SplitPositions {
  readonly rows: number;
  /** P positions per row. */
  readonly positions: number;
  readonly classes: number;
  /** Label per flat position ([rows * P], -100 = none). */
  readonly labels: ArrayLike<number>;
  readonly weight: ArrayLike<number>;
  /** Flat indices of the target positions (weight > 0 and a label), in order. */
  readonly targets: Int32Array;
  readonly teacher: ModelPositions;
  readonly student: ModelPositions;
  /** KL(p_teacher || p_student) per flat position at T = 1, nats. */
  readonly kl: Float64Array;
  /** The hard-label baseline on the same positions, or null. */
  readonly baseline: ModelPositions | null;
  /** Per-position slice columns ([rows * P]). */
  readonly positionSlices?: Readonly<Record<string, ArrayLike<number | string>>>;
  /** Per-row slice columns ([rows]). */
  readonly rowSlices?: Readonly<Record<string, ArrayLike<number | string>>>;
  /** Token classification: ids and mask [rows * L] (L = P), for words. */
  readonly inputIds?: ArrayLike<number>;
  readonly attentionMask?: ArrayLike<number>;
}

/** The columns of a split, without model outputs. */
export type SplitColumns = Pick<SplitPositions, 'rows' | 'positions' | 'classes' | 'labels' | 'weight' | 'positionSlices' | 'rowSlices' | 'inputIds' | 'attentionMask'>;

function modelPositions(n: number): ModelPositions {
  return { pred: new Int32Array(n), confidence: new Float64Array(n), nll: new Float64Array(n).fill(NaN), entropy: new Float64Array(n) };
}

/**
 * Empty positions for `columns` (filled by {@link addPositions}); the targets are found and checked here.
 * @throws DataError when labels or weight do not have rows * P values, or a target label is outside [0, classes).
 */
export function emptySplitPositions(columns: SplitColumns, withBaseline: boolean, what = 'sequence scores'): SplitPositions {
  const n = columns.rows * columns.positions;
  if (columns.weight.length !== n) throw new DataError(`${what}: weight has ${columns.weight.length} values, expected rows * positions = ${n}`);
  if (columns.labels.length !== n) throw new DataError(`${what}: labels has ${columns.labels.length} values, expected rows * positions = ${n}`);
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (isTarget(columns.weight, columns.labels, i, columns.classes, what)) keep.push(i);
  return { ...columns, targets: Int32Array.from(keep), teacher: modelPositions(n), student: modelPositions(n), kl: new Float64Array(n), baseline: withBaseline ? modelPositions(n) : null };
}

/** Log-softmax of `z[o .. o + C)` into `out` (float64, max subtracted), as logSoftmaxRows computes it. */
function logSoftmaxInto(z: ArrayLike<number>, o: number, C: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, z[o + c]!);
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp(z[o + c]! - max);
  const lse = max + Math.log(sum);
  for (let c = 0; c < C; c++) out[c] = z[o + c]! - lse;
}

/** Scores position `i` of one model from its logits at `z[o ..]` (log-probabilities left in `lp`). */
function scoreOne(m: ModelPositions, i: number, z: ArrayLike<number>, o: number, C: number, label: number, target: boolean, lp: Float64Array): void {
  logSoftmaxInto(z, o, C, lp);
  let best = 0;
  for (let c = 1; c < C; c++) if (z[o + c]! > z[o + best]!) best = c;
  let entropy = 0;
  let top = -Infinity;
  for (let c = 0; c < C; c++) {
    const v = lp[c]!;
    top = Math.max(top, v);
    if (v > -Infinity) entropy -= Math.exp(v) * v;
  }
  m.pred[i] = best;
  m.confidence[i] = Math.exp(top);
  m.entropy[i] = entropy;
  m.nll[i] = target ? -lp[label]! : NaN;
}

/** Model outputs of a batch of rows, narrowed to the P target positions: `[rows * P * C]` each. */
export interface BatchLogits {
  teacher: ArrayLike<number>;
  student: ArrayLike<number>;
  baseline?: ArrayLike<number>;
}

/**
 * Scores rows `[firstRow, firstRow + rows)` of the split into `p` from their logits (narrowed to the
 * target positions); the logits can be dropped afterwards.
 * @throws DataError when a batch has the wrong size, or a baseline is missing or unexpected.
 */
export function addPositions(p: SplitPositions, firstRow: number, rows: number, logits: BatchLogits): void {
  const { positions: P, classes: C } = p;
  const values = rows * P * C;
  for (const [name, z] of Object.entries(logits) as [string, ArrayLike<number> | undefined][]) {
    if (z !== undefined && z.length !== values) throw new DataError(`${name} outputs of rows ${firstRow}..${firstRow + rows - 1}: ${z.length} values, expected rows * positions * classes = ${rows} * ${P} * ${C}`);
  }
  if (firstRow < 0 || firstRow + rows > p.rows) throw new DataError(`rows ${firstRow}..${firstRow + rows - 1} are outside the split's ${p.rows} rows`);
  if ((p.baseline === null) !== (logits.baseline === undefined)) throw new DataError(`baseline outputs ${logits.baseline ? 'given for a split without' : 'missing for a split with'} a baseline`);
  const lt = new Float64Array(C);
  const ls = new Float64Array(C);
  for (let k = 0; k < rows * P; k++) {
    const i = firstRow * P + k;
    const label = p.labels[i]!;
    const target = p.weight[i]! > 0 && label >= 0 && label < C;
    scoreOne(p.teacher, i, logits.teacher, k * C, C, label, target, lt);
    scoreOne(p.student, i, logits.student, k * C, C, label, target, ls);
    let kl = 0;
    for (let c = 0; c < C; c++) {
      const a = lt[c]!;
      if (a > -Infinity) kl += Math.exp(a) * (a - ls[c]!);
    }
    p.kl[i] = kl;
    if (p.baseline && logits.baseline) scoreOne(p.baseline, i, logits.baseline, k * C, C, label, target, ls);
  }
}

/** The positions of a split whose logits are all in memory (one batch); `baseline` on the same positions. */
export function splitPositionsOf(split: SequenceSplit, baseline?: SequenceScores): SplitPositions {
  checkSequenceShape(split.teacher, split.weight, split.labels, 'teacher scores');
  checkSequenceShape(split.student, split.weight, split.labels, 'student scores');
  if (baseline) checkSequenceShape(baseline, split.weight, split.labels, 'baseline scores');
  const { rows, positions, classes } = split.student;
  const p = emptySplitPositions(
    {
      rows,
      positions,
      classes,
      labels: split.labels,
      weight: split.weight,
      ...(split.positionSlices ? { positionSlices: split.positionSlices } : {}),
      ...(split.rowSlices ? { rowSlices: split.rowSlices } : {}),
      ...(split.inputIds ? { inputIds: split.inputIds } : {}),
      ...(split.attentionMask ? { attentionMask: split.attentionMask } : {}),
    },
    baseline !== undefined,
  );
  addPositions(p, 0, rows, { teacher: split.teacher.logits, student: split.student.logits, ...(baseline ? { baseline: baseline.logits } : {}) });
  return p;
}
