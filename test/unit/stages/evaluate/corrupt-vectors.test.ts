/**
 * The vector robustness suite against independent float64 references: per-feature statistics, the
 * exact mean shift, dropout shares and imputed values, noise in each feature's own std units, integer
 * clipping, determinism per row; and the suite chosen by feature kind (tokens: not measured, no failure).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetColumn } from '../../../../pipeline/dataset/dataset-manifest.ts';
import { corruptVectors, featureStats, VECTOR_SEVERITY_PARAMETERS } from '../../../../stages/evaluate/corrupt-vectors.ts';
import { featureKindOf } from '../../../../stages/evaluate/feature-kind.ts';
import { measureRobustness } from '../../../../stages/evaluate/robustness-suite.ts';
import type { RobustnessInputs } from '../../../../stages/evaluate/robustness-suite.ts';
import { resolveEvaluateSection } from '../../../../pipeline/eval/resolve-evaluate-section.ts';
import { silentReporter } from '../../../../pipeline/reporter.ts';

const W = 3;
const N = 4000;
// Feature j ~ (j + 1) * 10 * u + j, u uniform in [0, 1): std (j + 1) * 10 / sqrt(12), mean (j + 1) * 5 + j.
const rows = new Float32Array(N * W);
for (let r = 0; r < N; r++) for (let j = 0; j < W; j++) rows[r * W + j] = (j + 1) * 10 * (((r * 7919 + j * 104729) % 1000) / 1000) + j;

function float64Stats(): { mean: number[]; std: number[] } {
  const mean = Array.from({ length: W }, (_, j) => {
    let s = 0;
    for (let r = 0; r < N; r++) s += rows[r * W + j]!;
    return s / N;
  });
  const std = mean.map((m, j) => {
    let s = 0;
    for (let r = 0; r < N; r++) s += (rows[r * W + j]! - m) ** 2;
    return Math.sqrt(s / N);
  });
  return { mean, std };
}

test('featureStats equals a float64 two-pass reference', () => {
  const s = featureStats(rows, N, W);
  const ref = float64Stats();
  for (let j = 0; j < W; j++) {
    assert.ok(Math.abs(s.mean[j]! - ref.mean[j]!) < 1e-9);
    assert.ok(Math.abs(s.std[j]! - ref.std[j]!) < 1e-9);
  }
});

test('mean-shift adds severity x std_j to every value; noise has std severity x std_j per feature; both are seeded per row', () => {
  const stats = featureStats(rows, N, W);
  const shifted = corruptVectors(rows, N, stats, { kind: 'mean-shift', severity: 3, seed: 1 }) as Float32Array;
  for (let i = 0; i < 30; i++) assert.ok(Math.abs(shifted[i]! - (rows[i]! + VECTOR_SEVERITY_PARAMETERS['mean-shift'][3]! * stats.std[i % W]!)) < 1e-4);
  const noisy = corruptVectors(rows, N, stats, { kind: 'feature-noise', severity: 5, seed: 1 }) as Float32Array;
  for (let j = 0; j < W; j++) {
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < N; r++) {
      const d = noisy[r * W + j]! - rows[r * W + j]!;
      s += d;
      s2 += d * d;
    }
    const sd = Math.sqrt(s2 / N - (s / N) ** 2);
    assert.ok(Math.abs(sd / stats.std[j]! - 1) < 0.05, `feature ${j}: noise sd ${sd} vs std ${stats.std[j]}`);
  }
  const again = corruptVectors(rows.subarray(10 * W), N - 10, stats, { kind: 'feature-noise', severity: 5, seed: 1 }, 10) as Float32Array;
  assert.deepEqual([...again.subarray(0, 6)], [...noisy.subarray(10 * W, 10 * W + 6)], 'a row is corrupted the same way in any subset');
  const other = corruptVectors(rows, N, stats, { kind: 'feature-noise', severity: 5, seed: 2 }) as Float32Array;
  assert.notDeepEqual([...other.subarray(0, 6)], [...noisy.subarray(0, 6)]);
});

test('dropout replaces about p of the values by 0 or by the train mean; integers are rounded and clipped', () => {
  const stats = featureStats(rows, N, W);
  const p = VECTOR_SEVERITY_PARAMETERS['feature-dropout-mean'][4]!;
  const zero = corruptVectors(rows, N, stats, { kind: 'feature-dropout-zero', severity: 4, seed: 3 }) as Float32Array;
  const mean = corruptVectors(rows, N, stats, { kind: 'feature-dropout-mean', severity: 4, seed: 3 }) as Float32Array;
  let dropped = 0;
  for (let i = 0; i < N * W; i++) {
    if (zero[i] !== rows[i]) {
      dropped++;
      assert.equal(zero[i], 0);
      assert.ok(Math.abs(mean[i]! - stats.mean[i % W]!) < 1e-4, 'same rows dropped, imputed with the mean');
    } else assert.equal(mean[i], rows[i]);
  }
  assert.ok(Math.abs(dropped / (N * W) - p) < 0.02, `dropped share ${dropped / (N * W)} vs ${p}`);
  const bytes = Uint8Array.from([250, 3, 128, 0]);
  const st = { width: 2, mean: Float64Array.from([1, 1]), std: Float64Array.from([100, 100]) };
  assert.deepEqual([...corruptVectors(bytes, 2, st, { kind: 'mean-shift', severity: 5, seed: 0 })], [255, 103, 228, 100]);
});

const col = (over: Partial<DatasetColumn> & Record<string, unknown>): DatasetColumn => ({ name: 'f', type: 'fixed_size_list<float32>[4]', role: 'feature', ...over }) as DatasetColumn;

test('the feature kind: recorded kind first, else an image shape is an image, a vocabulary means tokens, anything else a vector', () => {
  assert.equal(featureKindOf(col({ shape: [28, 28] })), 'image');
  assert.equal(featureKindOf(col({ shape: [3, 32, 32] })), 'image');
  assert.equal(featureKindOf(col({})), 'vector');
  assert.equal(featureKindOf(col({ shape: [4] })), 'vector');
  assert.equal(featureKindOf(col({ vocabSize: 100 })), 'tokens');
  assert.equal(featureKindOf(col({ kind: 'tokens' })), 'tokens');
  assert.equal(featureKindOf(col({ kind: 'vector', shape: [2, 2] })), 'vector');
});

test('a kind without a suite (tokens) is reported as not measured, never a failure', async () => {
  const inp = { ev: resolveEvaluateSection(undefined), seed: 1, run: { feature: 'ids' }, featureColumn: col({ name: 'ids', kind: 'tokens' }) } as unknown as RobustnessInputs;
  const r = await measureRobustness(inp, silentReporter);
  assert.deepEqual(r, { skipped: 'robustness was not measured: feature "ids" holds tokens, which has no corruption suite yet', featureKind: 'tokens' });
});
