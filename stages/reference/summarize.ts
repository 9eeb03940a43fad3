/** Mean, sample standard deviation and range of a list of numbers. */
export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); 0 for a single value. */
  std: number;
  min: number;
  max: number;
}

/** Summarizes `values` (at least one). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summarize needs at least one value');
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Whether `better` beats `worse` (fewer errors) by more than the seed spread: the gap between the
 * means must exceed the larger of the two standard deviations and the two ranges must not overlap.
 */
export function beatsBySpread(better: Summary, worse: Summary): { gap: number; spread: number; beats: boolean } {
  const gap = worse.mean - better.mean;
  const spread = Math.max(better.std, worse.std);
  return { gap, spread, beats: gap > spread && better.max < worse.min };
}
