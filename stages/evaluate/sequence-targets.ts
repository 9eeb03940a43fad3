/**
 * From token rows and per-position model outputs to the target positions the sequence report scores.
 * Token classification: P = L, position t's target is its label (weight = its mask). Causal LM: P =
 * L - 1, position t predicts token t + 1 (a target only when tokens t and t + 1 are both real), and a
 * per-position slice is read at the predicted token t + 1.
 */
import { DataError } from '../../pipeline/errors.ts';
import type { TokenSplit } from '../../pipeline/eval/read-token-split.ts';
import { IGNORE_INDEX } from './sequence-scores.ts';
import type { SplitColumns } from './split-positions.ts';

/** token: position t is labelled; next-token: position t predicts token t + 1. */
export type SequenceTarget = 'token' | 'next-token';

/** Labels and weights of a split's P target positions per row ([rows * P]). */
export interface SequenceTargets {
  positions: number;
  labels: Int32Array;
  weight: Uint8Array;
}

/**
 * The targets of `rows`.
 * @throws DataError for token classification rows without labels.
 */
export function sequenceTargets(rows: Pick<TokenSplit, 'rows' | 'L' | 'inputIds' | 'attentionMask' | 'labels' | 'split'>, target: SequenceTarget): SequenceTargets {
  const { L } = rows;
  if (target === 'token') {
    if (!rows.labels) throw new DataError(`split "${rows.split}": token classification needs per-position labels`);
    return { positions: L, labels: rows.labels, weight: rows.attentionMask };
  }
  const P = L - 1;
  const labels = new Int32Array(rows.rows * P).fill(IGNORE_INDEX);
  const weight = new Uint8Array(rows.rows * P);
  for (let r = 0; r < rows.rows; r++) {
    for (let t = 0; t < P; t++) {
      if (rows.attentionMask[r * L + t] === 1 && rows.attentionMask[r * L + t + 1] === 1) {
        labels[r * P + t] = rows.inputIds[r * L + t + 1]!;
        weight[r * P + t] = 1;
      }
    }
  }
  return { positions: P, labels, weight };
}

/** Model outputs `[rows * L * C]` narrowed to the P target positions `[rows * P * C]` (next-token: the last position dropped). */
export function targetLogits(logits: Float32Array, rows: number, L: number, C: number, target: SequenceTarget): Float32Array {
  if (logits.length !== rows * L * C) throw new DataError(`model outputs: ${logits.length} values, expected rows * L * classes = ${rows} * ${L} * ${C}`);
  if (target === 'token') return logits;
  const P = L - 1;
  const out = new Float32Array(rows * P * C);
  for (let r = 0; r < rows; r++) out.set(logits.subarray(r * L * C, (r * L + P) * C), r * P * C);
  return out;
}

/** A per-position slice `[rows * L]` read at each target position's token (`[rows * P]`). */
export function targetSlice(values: Int32Array, rows: number, L: number, target: SequenceTarget): Int32Array {
  if (target === 'token') return values;
  const P = L - 1;
  const out = new Int32Array(rows * P);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * L + 1, r * L + L), r * P);
  return out;
}

/**
 * The columns of a split as the report scores them (split-positions.ts): labels and weights of the P
 * target positions, the slices named in `slices` (per-position ones read at the predicted token), and
 * the ids and mask for words (token classification).
 */
export function splitColumns(rows: TokenSplit, target: SequenceTarget, C: number, slices: { position: readonly string[]; row: readonly string[] }): SplitColumns {
  const t = sequenceTargets(rows, target);
  return {
    rows: rows.rows,
    positions: t.positions,
    classes: C,
    labels: t.labels,
    weight: t.weight,
    positionSlices: Object.fromEntries(slices.position.map((s) => [s, targetSlice(rows.positionSlices[s]!, rows.rows, rows.L, target)])),
    rowSlices: Object.fromEntries(slices.row.map((s) => [s, rows.rowSlices[s]!])),
    ...(target === 'token' ? { inputIds: rows.inputIds, attentionMask: rows.attentionMask } : {}),
  };
}
