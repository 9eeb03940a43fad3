/** Percentiles and rates of timing samples. */

/** Latency distribution of repeated single calls, in ms. */
export interface LatencyStats {
  runs: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
}

/**
 * The q-quantile of `samples` by linear interpolation between closest ranks (numpy's default,
 * "linear" / R type 7): position (n - 1) * q in the sorted samples.
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new RangeError('quantile of an empty sample');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1], but got ${q}`);
  const s = [...samples].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** p50, p95, mean and min of latency samples (ms). */
export function latencyStats(samplesMs: readonly number[]): LatencyStats {
  return {
    runs: samplesMs.length,
    p50: quantile(samplesMs, 0.5),
    p95: quantile(samplesMs, 0.95),
    mean: samplesMs.reduce((a, b) => a + b, 0) / samplesMs.length,
    min: Math.min(...samplesMs),
  };
}
