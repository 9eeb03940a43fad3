/**
 * Sampled soft targets (Sparse Logit Sampling, Anshumann et al. 2025): N draws per position from the
 * teacher's tempered distribution p = softmax(z / T_c), stored as the distinct classes drawn and their
 * counts, so that p_hat = count / N is an unbiased estimate of p.
 *
 * ## The generator
 * Draw i of position t of row r of split s uses the uniform u = U(seed, s, r, t, i), a pure function
 * of those five integers (a counter-based generator: murmur3's 32-bit finaliser chained over the key,
 * two 32-bit words per uniform, 53 bits used). No state is carried between draws, rows or batches,
 * so the draws do not depend on batch size, shard layout, worker count or the order rows are run in.
 *
 * ## Inverse-CDF sampling
 * The N uniforms of a position are sorted and swept once along the cumulative distribution (float64,
 * classes in index order): class j is drawn for every u in [F_{j-1}, F_j). Each draw then falls in
 * class j with probability F_j - F_{j-1} = p_j exactly (up to float64 rounding of F), so count_j is
 * Binomial(N, p_j) and E[count_j / N] = p_j.
 */
import { fmix32, fnv1a32 } from '../../pipeline/seeded-random.ts';

/** 32-bit FNV-1a of a split name (the split's key in the generator). */
export function splitKey(split: string): number {
  return fnv1a32(split);
}

/** The key of one position: the chained hash of (seed, split, row, position). */
export function positionKey(seed: number, split: number, row: number, position: number): number {
  let h = fmix32(seed ^ 0x9e3779b9);
  h = fmix32(h ^ split);
  h = fmix32(h ^ (row >>> 0));
  h = fmix32(h ^ Math.floor(row / 2 ** 32));
  return fmix32(h ^ position);
}

/** Uniform i in [0, 1) of a position key, 53 random bits. */
export function uniformAt(key: number, i: number): number {
  const a = fmix32(key ^ fmix32(2 * i + 1));
  const b = fmix32(key ^ fmix32(2 * i + 2) ^ 0x5bd1e995);
  return (a * 2 ** 21 + (b >>> 11)) / 2 ** 53;
}

/** Where one position's draws go. */
export interface SampleSlots {
  index: Int32Array;
  count: Uint16Array;
  /** First slot of this position. */
  at: number;
  /** Slots m of a position. */
  slots: number;
}

/**
 * Draws N classes for one position from softmax(z / T) (`z` = the position's `classes` logits) with
 * the uniforms of `key`, and writes the distinct classes with their counts into `out` (slots by
 * descending count, ties to the lower class index; the rest stay empty: index -1, count 0).
 * `scratch` holds N float64 uniforms and `classes` float64 probabilities (reused across positions).
 */
export function samplePosition(z: Float32Array, from: number, classes: number, temperature: number, samples: number, key: number, out: SampleSlots, scratch: { u: Float64Array; p: Float64Array }): void {
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, z[from + j]! / temperature);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += scratch.p[j] = Math.exp(z[from + j]! / temperature - max);
  const u = scratch.u.subarray(0, samples);
  for (let i = 0; i < samples; i++) u[i] = uniformAt(key, i) * sum; // compare against unnormalised F
  u.sort();
  const drawn: [number, number][] = [];
  let cum = 0;
  let i = 0;
  for (let j = 0; j < classes && i < samples; j++) {
    cum += scratch.p[j]!;
    let c = 0;
    while (i < samples && u[i]! < cum) {
      c++;
      i++;
    }
    if (c > 0) drawn.push([j, c]);
  }
  if (i < samples) {
    // u * sum rounded up to sum: the draw belongs to the last class with positive probability.
    let j = classes - 1;
    while (j > 0 && scratch.p[j] === 0) j--;
    const last = drawn.at(-1);
    if (last && last[0] === j) last[1] += samples - i;
    else drawn.push([j, samples - i]);
  }
  drawn.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (let s = 0; s < out.slots; s++) {
    out.index[out.at + s] = s < drawn.length ? drawn[s]![0] : -1;
    out.count[out.at + s] = s < drawn.length ? drawn[s]![1] : 0;
  }
}
