import { DataError } from '../errors.ts';
import type { ShardTargets, StoreEncoding } from './soft-target-store.ts';
import { positionsOf, targetPositions, targetsPerRow } from './soft-target-store.ts';

/** Real tokens L of a row of a per-position store: P for token targets, P + 1 for next-token. */
export function contextOf(encoding: StoreEncoding): number {
  return positionsOf(encoding) + (encoding.target === 'next-token' ? 1 : 0);
}

function checkIndices(index: Int32Array, classes: number, width: number, rowStart: number, name: string): void {
  for (let i = 0; i < index.length; i++) {
    if (index[i]! >= classes || index[i]! < -1) {
      throw new DataError(`${name}: row ${rowStart + Math.floor(i / width)} has class index ${index[i]}, outside 0..${classes - 1}`);
    }
  }
}

function allZero(values: ArrayLike<number>, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (values[i] !== 0) return false;
  return true;
}

/** sampled: at a target position the counts sum to N over distinct classes; elsewhere every slot is empty. */
function checkSamples(t: ShardTargets, encoding: StoreEncoding, row: number, targets: number, name: string): void {
  const m = encoding.slots!;
  const p = positionsOf(encoding);
  const n = encoding.samples!;
  for (let pos = 0; pos < p; pos++) {
    const at = ((row - t.rowStart) * p + pos) * m;
    let sum = 0;
    const seen = new Set<number>();
    for (let s = at; s < at + m; s++) {
      const c = t.sampleCount![s]!;
      if (c === 0) continue;
      sum += c;
      if (seen.has(t.sampleIndex![s]!)) throw new DataError(`${name}: row ${row} position ${pos} holds class ${t.sampleIndex![s]} in two slots; slots hold distinct classes`);
      seen.add(t.sampleIndex![s]!);
    }
    const want = pos < targets ? n : 0;
    if (sum !== want) {
      throw new DataError(`${name}: row ${row} position ${pos} has sample counts summing to ${sum}, expected ${want} (${pos < targets ? `N=${n} draws at a target position` : 'a padding position holds no draws'})`);
    }
  }
}

/** dense/topk: a padding position (at or after the row's target positions) is stored as zeros. */
function checkPaddingZero(t: ShardTargets, encoding: StoreEncoding, row: number, targets: number, name: string): void {
  const p = positionsOf(encoding);
  const r = row - t.rowStart;
  const arrays: [string, ArrayLike<number>, number][] = encoding.mode === 'dense'
    ? [['logits', t.logits!, encoding.classes]]
    : [['topk_index', t.topkIndex!, encoding.k!], ['topk_logit', t.topkLogit!, encoding.k!], ['tail_lse', t.tailLogSumExp!, 1]];
  for (const [col, values, width] of arrays) {
    if (!allZero(values, (r * p + targets) * width, (r + 1) * p * width)) {
      throw new DataError(`${name}: row ${row} has non-zero ${col} at a padding position (positions ${targets}..${p - 1} carry no target for length ${t.length![r]})`);
    }
  }
}

/**
 * Checks decoded soft targets against their encoding: class indices within 0..C-1; in a per-position
 * store each row's `length` within 0..L, padding positions stored empty, and (sampled) the counts of
 * every target position summing to N; sampled classification rows likewise. Throws a DataError naming
 * the shard file, row and position.
 */
export function checkTargets(t: ShardTargets, encoding: StoreEncoding, name: string): void {
  const p = targetsPerRow(encoding);
  if (t.topkIndex) checkIndices(t.topkIndex, encoding.classes, p * encoding.k!, t.rowStart, name);
  if (t.sampleIndex) checkIndices(t.sampleIndex, encoding.classes, p * encoding.slots!, t.rowStart, name);
  const context = contextOf(encoding);
  for (let row = t.rowStart; row < t.rowEnd; row++) {
    let targets = 1;
    if (t.length) {
      const len = t.length[row - t.rowStart]!;
      if (!Number.isInteger(len) || len < 0 || len > context) {
        throw new DataError(`${name}: row ${row} has length ${len}, expected 0..${context} (P=${p} ${encoding.target} positions)`);
      }
      targets = targetPositions(encoding.target, len);
      if (encoding.mode !== 'sampled') checkPaddingZero(t, encoding, row, targets, name);
    }
    if (encoding.mode === 'sampled') checkSamples(t, encoding, row, targets, name);
  }
}
