/**
 * The tolerances of `distill reproduce` (docs/reliability.md explains each choice).
 *
 * Shards: ONNX Runtime on the same version, execution provider, platform and CPU model writes the
 * same bytes (measured: run to run and across batch sizes on the demo teacher), so the sha256 must
 * match. Elsewhere (another CPU may take other SIMD code paths, a GPU reorders sums) the decoded
 * logits must agree within `|a - b| <= SHARD_ATOL + SHARD_RTOL * |a|`.
 *
 * Student: on the same tfjs backend, version, platform and CPU, a seeded run gives the same
 * weights bit for bit (the weights' sha256 must match). Elsewhere, float differences in the first
 * steps grow through training into a different (equally good) student, so the metrics are compared
 * with tolerances sized to be well inside a real regression but outside such noise.
 */

/** Absolute tolerance on a decoded logit when the capture environment differs. */
export const SHARD_ATOL = 1e-3;
/** Relative tolerance on a decoded logit when the capture environment differs. */
export const SHARD_RTOL = 1e-3;

/** Absolute tolerance on a student's accuracy or teacher agreement (a share, 0..1): 0.5 points. */
export const RATE_ATOL = 0.005;
/** Absolute tolerance on KL and cross-entropy (nats), plus {@link LOSS_RTOL} of the recorded value. */
export const LOSS_ATOL = 0.01;
/** Relative tolerance on KL and cross-entropy. */
export const LOSS_RTOL = 0.1;

/** Whether `b` is within `atol + rtol * |a|` of `a`. */
export function within(a: number, b: number, atol: number, rtol = 0): boolean {
  return Math.abs(a - b) <= atol + rtol * Math.abs(a);
}
