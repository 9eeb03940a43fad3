/** Names of the token-frequency buckets, by bucket index. */
export const TOKEN_FREQUENCY_BUCKETS = ['frequent', 'middle', 'rare'] as const;

/**
 * Frequency bucket of every id (0 frequent, 1 middle, 2 rare): ids ranked by count descending (ties: lower
 * id first); an id is frequent if the occurrences of all ids ranked before it are < massEdges[0] of the
 * total, middle if < massEdges[1], else rare (an id never seen is rare). The rule of the lm-brown data
 * record (data_spec.md, "Token-frequency buckets") and of evaluate's NLL by token frequency.
 */
export function frequencyBuckets(counts: readonly number[], massEdges: readonly [number, number] = [0.5, 0.9]): number[] {
  const order = counts.map((_, i) => i).sort((a, b) => counts[b]! - counts[a]! || a - b);
  const total = counts.reduce((a, b) => a + b, 0);
  const bucket = new Array<number>(counts.length).fill(2);
  let cum = 0;
  for (const i of order) {
    bucket[i] = cum < massEdges[0] * total ? 0 : cum < massEdges[1] * total ? 1 : 2;
    cum += counts[i]!;
  }
  return bucket;
}
