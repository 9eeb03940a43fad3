import { deriveSeed, seededPermutation } from '../../pipeline/seeded-random.ts';

/** A group of chunks whose rows are shuffled together, and the order of their rows. */
export interface PlanWindow {
  /** Chunk indices, in the order their rows are concatenated. */
  chunks: number[];
  /** Permutation of the window's rows (indices into the concatenation of its chunks' rows). */
  order: Uint32Array;
}

/** The order in which one epoch visits the rows of a split. */
export interface EpochPlan {
  epoch: number;
  windows: PlanWindow[];
}

/**
 * The seeded order of one training epoch over chunks of the given sizes (rows per chunk): the chunk
 * order is a permutation drawn from (seed, epoch); consecutive chunks of that order are grouped in
 * windows of `window` chunks, and the rows of each window are permuted with a seed drawn from
 * (seed, epoch, window index). The same (sizes, seed, epoch, window) always gives the same plan. Only
 * a window's chunks must be in memory to cut its batches, which bounds memory by the window size.
 *
 * @param chunkRows - rows of each chunk, in split order.
 * @param seed - the experiment's master seed.
 * @param epoch - the epoch number (1-based by convention; any integer works).
 * @param window - chunks per window (>= 1).
 */
export function epochPlan(chunkRows: readonly number[], seed: number, epoch: number, window: number): EpochPlan {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`train.shuffleWindow must be a positive integer, got ${window}`);
  const chunkOrder = seededPermutation(chunkRows.length, deriveSeed(seed, 'chunk-order', epoch));
  const windows: PlanWindow[] = [];
  for (let w = 0; w * window < chunkOrder.length; w++) {
    const chunks = Array.from(chunkOrder.subarray(w * window, (w + 1) * window));
    const rows = chunks.reduce((s, c) => s + chunkRows[c]!, 0);
    windows.push({ chunks, order: seededPermutation(rows, deriveSeed(seed, 'row-order', epoch, w)) });
  }
  return { epoch, windows };
}

/** The in-order plan used for evaluation: every chunk in split order, rows in order, one chunk per window. */
export function sequentialPlan(chunkRows: readonly number[]): EpochPlan {
  return {
    epoch: 0,
    windows: chunkRows.map((rows, c) => ({ chunks: [c], order: Uint32Array.from({ length: rows }, (_, i) => i) })),
  };
}
