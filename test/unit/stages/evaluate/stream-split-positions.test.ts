/**
 * The streamed sequence evaluation equals the in-memory one. Three real tiny causal LMs (the tiny
 * sequence teacher's float64 forward pass with three seeds: teacher, student, baseline) score a small
 * split with padded rows and a genre column. Streamed: batches of 2 (test) and 3 (validation) rows
 * reduced to per-position numbers (streamSplitPositions), then buildSequenceReport and the baseline.
 * In memory: the full logits of each split and the metric code as it was before streaming
 * (test/helpers/in-memory-sequence-metrics.ts). Every figure must agree to 1e-12 (relative); the
 * streamed figures must not depend on the batch size at all.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TokenSplit } from '../../../../pipeline/eval/read-token-split.ts';
import { silentReporter } from '../../../../pipeline/reporter.ts';
import { mulberry32 } from '../../../../pipeline/seeded-random.ts';
import { sequenceBaselineMetrics } from '../../../../stages/evaluate/sequence-baseline.ts';
import { buildSequenceReport } from '../../../../stages/evaluate/sequence-report.ts';
import { gatherTargetPositions } from '../../../../stages/evaluate/sequence-scores.ts';
import { sequenceTargets, targetLogits } from '../../../../stages/evaluate/sequence-targets.ts';
import { streamBatchRows, streamSplitPositions } from '../../../../stages/evaluate/stream-split-positions.ts';
import type { SplitModels } from '../../../../stages/evaluate/stream-split-positions.ts';
import { rowSliceToPositions } from '../../../../stages/evaluate/token-slice-metrics.ts';
import { makeTinySequenceTeacher, tinySequenceForward } from '../../../fixtures/tiny-sequence-teacher.ts';
import { denseLmCascade, denseNllByBucket, denseSliceMetrics, denseTokenMetrics } from '../../../helpers/in-memory-sequence-metrics.ts';

const V = 13;
const L = 8;
const GENRES = ['news', 'lore', 'humor'];

/** `n` rows of random ids 1..V-1, some right-padded (id 0, mask 0), one genre per row. */
function tokenSplit(name: string, n: number, seed: number): TokenSplit {
  const rand = mulberry32(seed);
  const inputIds = new Int32Array(n * L);
  const attentionMask = new Uint8Array(n * L);
  for (let r = 0; r < n; r++) {
    const len = r % 3 === 1 ? 2 + Math.floor(rand() * (L - 2)) : L;
    for (let t = 0; t < len; t++) {
      inputIds[r * L + t] = 1 + Math.floor(rand() * (V - 1));
      attentionMask[r * L + t] = 1;
    }
  }
  return { split: name, rows: n, L, inputIds, attentionMask, labels: null, positionSlices: {}, rowSlices: { genre: Array.from({ length: n }, (_, r) => GENRES[r % 3]!) } };
}

const models = [3, 4, 5].map((seed) => makeTinySequenceTeacher({ vocab: V, dim: 6, seed, scale: 2 }).weights);
const predictor = (k: number) => (ids: Int32Array, mask: Uint8Array, n: number) => Promise.resolve(tinySequenceForward(models[k]!, ids, mask, n, L));
const MODELS: SplitModels = { teacher: predictor(0), student: predictor(1), baseline: predictor(2) };
const BUCKETS = new Map(Array.from({ length: V }, (_, id) => [id, id < 4 ? 'frequent' : id < 8 ? 'middle' : 'rare']));

async function streamed(testRows: TokenSplit, valRows: TokenSplit, testBatch: number, valBatch: number) {
  const base = { target: 'next-token' as const, classes: V, name: 'split' };
  const t = await streamSplitPositions({ ...base, rows: testRows, models: MODELS, batchRows: testBatch, slices: { position: [], row: ['genre'] } }, silentReporter);
  const v = await streamSplitPositions({ ...base, rows: valRows, models: { teacher: MODELS.teacher, student: MODELS.student }, batchRows: valBatch, slices: { position: [], row: [] } }, silentReporter);
  return { report: buildSequenceReport(v, t, { tokenBuckets: BUCKETS }), baseline: sequenceBaselineMetrics(t) };
}

/** Gathered target positions of a model on a split, from its full logits. */
function dense(rows: TokenSplit, k: number) {
  const tg = sequenceTargets(rows, 'next-token');
  const logits = targetLogits(tinySequenceForward(models[k]!, rows.inputIds, rows.attentionMask, rows.rows, L), rows.rows, L, V, 'next-token');
  return gatherTargetPositions({ rows: rows.rows, positions: L - 1, classes: V, logits }, tg.weight, tg.labels);
}

/** Asserts that two JSON-like values agree: numbers to 1e-12 relative, everything else exactly. */
function assertClose(a: unknown, b: unknown, path = '$'): void {
  if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(a === b || Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a)), `${path}: streamed ${a}, in memory ${b}`);
    return;
  }
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return assert.equal(a, b, path);
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${path}: keys`);
  for (const k of Object.keys(a)) assertClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
}

test('streamed in batches: every figure equals the in-memory computation on the full logits', async () => {
  const testRows = tokenSplit('test', 11, 1);
  const valRows = tokenSplit('validation', 7, 2);
  const s = await streamed(testRows, valRows, 2, 3);

  const [t, st, b] = [0, 1, 2].map((k) => dense(testRows, k)) as [ReturnType<typeof dense>, ReturnType<typeof dense>, ReturnType<typeof dense>];
  const [vt, vs] = [0, 1].map((k) => dense(valRows, k)) as [ReturnType<typeof dense>, ReturnType<typeof dense>];
  const tokens = denseTokenMetrics(t.scores, st.scores, t.labels);
  assert.ok(tokens.positions > 40 && tokens.positions < 11 * (L - 1), `padded rows leave fewer targets: ${tokens.positions}`);
  assertClose(s.report.tokens, tokens, 'tokens');
  assertClose(s.report.slices.genre, denseSliceMetrics(t, st.scores, rowSliceToPositions(testRows.rowSlices.genre!, L - 1)), 'slices.genre');
  assertClose(s.report.lm!.nllByBucket, denseNllByBucket(t, st, BUCKETS), 'nllByBucket');
  const val = { teacher: vt, student: vs, positions: L - 1 };
  const tst = { teacher: t, student: st, positions: L - 1 };
  assertClose(s.report.lm!.cascade.position, denseLmCascade(val, tst, 'position'), 'cascade.position');
  assertClose(s.report.lm!.cascade.window, denseLmCascade(val, tst, 'window'), 'cascade.window');
  const bm = denseTokenMetrics(t.scores, b.scores, t.labels);
  assertClose(s.baseline, { tokens: bm.student, agreement: bm.agreement }, 'baseline');
  // The per-genre perplexities are the slices' (teacher and student) and the baseline's on the same positions.
  for (const g of s.report.lm!.rowSlices.genre!) {
    const m = s.report.slices.genre!.find((x) => x.value === g.value)!.metrics;
    assertClose([g.positions, g.teacherPerplexity, g.studentPerplexity, g.klTeacherStudent], [m.positions, m.teacher.perplexity, m.student.perplexity, m.klTeacherStudent], `genre ${g.value}`);
    const keep = t.index.reduce<number[]>((acc, i, k) => (GENRES[Math.floor(i / (L - 1)) % 3] === g.value ? [...acc, k] : acc), []);
    const nll = keep.reduce((a, k) => a - Math.log(softmaxAt(b.scores.logits, k, t.labels[k]!)), 0);
    assertClose(g.baselinePerplexity, Math.exp(nll / keep.length), `genre ${g.value} baseline`);
  }

  // Batch size changes nothing, bit for bit.
  const whole = await streamed(testRows, valRows, testRows.rows, valRows.rows);
  assert.deepEqual(whole, s);
  const ones = await streamed(testRows, valRows, 1, 1);
  assert.deepEqual(ones, s);
});

function softmaxAt(logits: ArrayLike<number>, k: number, y: number): number {
  let m = -Infinity;
  for (let c = 0; c < V; c++) m = Math.max(m, logits[k * V + c]!);
  let z = 0;
  for (let c = 0; c < V; c++) z += Math.exp(logits[k * V + c]! - m);
  return Math.exp(logits[k * V + y]! - m) / z;
}

test('streamBatchRows: evaluate.batchSize, capped so one batch of float32 logits stays within 64 MiB', () => {
  assert.equal(streamBatchRows(256, 128, 2000), 65);
  assert.equal(streamBatchRows(16, 128, 2000), 16);
  assert.equal(streamBatchRows(256, 128, 15), 256);
  assert.equal(streamBatchRows(8, 4096, 200_000), 1);
});

test('BAD CALL a model that returns the wrong number of logits is a DataError naming the rows', async () => {
  const rows = tokenSplit('test', 4, 1);
  const short = (ids: Int32Array, mask: Uint8Array, n: number) => Promise.resolve(tinySequenceForward(models[1]!, ids, mask, n, L).subarray(V));
  await assert.rejects(
    streamSplitPositions({ rows, target: 'next-token', classes: V, models: { teacher: MODELS.teacher, student: short }, batchRows: 2, slices: { position: [], row: [] }, name: 'test' }, silentReporter),
    { name: 'DataError', message: /model outputs: \d+ values, expected rows \* L \* classes = 2 \* 8 \* 13/ },
  );
});
