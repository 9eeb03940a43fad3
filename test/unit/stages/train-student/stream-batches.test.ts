import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChunkedSplit, LoadedChunk, RowRange } from '../../../../stages/train-student/chunked-split.ts';
import { epochPlan } from '../../../../stages/train-student/epoch-plan.ts';
import { readAhead } from '../../../../stages/train-student/read-ahead.ts';
import { newStreamStats, streamBatches } from '../../../../stages/train-student/stream-batches.ts';

const F = 3;
const C = 4;

/** In-memory split: row r has features [r, r+0.5, 2r], label r % C, teacher logits [r, -r, r/2, 1]. */
function memorySplit(rows: number, chunkRows: number): ChunkedSplit & { live: () => number; loads: number[] } {
  const chunks: RowRange[] = [];
  for (let a = 0; a < rows; a += chunkRows) chunks.push({ rowStart: a, rowEnd: Math.min(rows, a + chunkRows) });
  const loads: number[] = [];
  const split = {
    split: 'train',
    featureSize: F,
    encoding: { mode: 'dense' as const, precision: 'float32' as const, classes: C },
    chunks,
    loads,
    live: () => 0,
    async load(i: number): Promise<LoadedChunk> {
      loads.push(i);
      const { rowStart, rowEnd } = chunks[i]!;
      const n = rowEnd - rowStart;
      const features = new Float32Array(n * F);
      const labels = new Int32Array(n);
      const logits = new Float32Array(n * C);
      for (let j = 0; j < n; j++) {
        const r = rowStart + j;
        features.set([r, r + 0.5, 2 * r], j * F);
        labels[j] = r % C;
        logits.set([r, -r, r / 2, 1], j * C);
      }
      await new Promise((res) => setImmediate(res));
      return { rowStart, rowEnd, features, labels, targets: { split: 'train', index: i, rowStart, rowEnd, logits } };
    },
  };
  return split;
}

test('streamed batches cover every row exactly once per epoch, aligned with labels and targets, with at most 2 windows loaded', async () => {
  const rows = 1037;
  const split = memorySplit(rows, 100);
  const window = 2;
  for (const epoch of [1, 2]) {
    split.loads.length = 0;
    const stats = newStreamStats();
    const seen = new Int32Array(rows);
    const sizes: number[] = [];
    const order: number[] = [];
    for await (const b of readAhead(streamBatches(split, epochPlan(split.chunks.map((c) => c.rowEnd - c.rowStart), 5, epoch, window), { batchSize: 64, scale: 0.5 }, stats), 3)) {
      sizes.push(b.size);
      for (let i = 0; i < b.size; i++) {
        const r = b.rows[i]!;
        seen[r]!++;
        order.push(r);
        assert.deepEqual([...b.x.subarray(i * F, (i + 1) * F)], [r * 0.5, (r + 0.5) * 0.5, r]);
        assert.equal(b.labels[i], r % C);
        assert.deepEqual([...b.logits!.subarray(i * C, (i + 1) * C)], [r, -r, r / 2, 1]);
      }
    }
    assert.ok(seen.every((s) => s === 1), 'every row exactly once');
    assert.deepEqual(sizes, [...new Array<number>(16).fill(64), 1037 - 16 * 64]);
    assert.deepEqual([...split.loads].sort((a, b) => a - b), Array.from({ length: 11 }, (_, i) => i), 'each chunk loaded once');
    assert.equal(stats.chunksLoaded, 11);
    assert.ok(stats.maxResidentChunks <= 2 * window, `resident ${stats.maxResidentChunks}`);
    assert.notDeepEqual(order.slice(0, 20), Array.from({ length: 20 }, (_, i) => i), 'shuffled');
  }
});

test('the same seed and epoch stream the same row order', async () => {
  const split = memorySplit(300, 64);
  const sizes = split.chunks.map((c) => c.rowEnd - c.rowStart);
  const orderOf = async (seed: number, epoch: number): Promise<number[]> => {
    const out: number[] = [];
    for await (const b of streamBatches(split, epochPlan(sizes, seed, epoch, 2), { batchSize: 50, scale: 1 })) out.push(...b.rows);
    return out;
  };
  const a = await orderOf(9, 1);
  assert.deepEqual(await orderOf(9, 1), a);
  assert.notDeepEqual(await orderOf(9, 2), a);
  assert.notDeepEqual(await orderOf(10, 1), a);
});

test('BAD CALL a load error surfaces from the stream', async () => {
  const split = memorySplit(300, 100);
  const broken = { ...split, load: async (i: number) => (i === 2 ? Promise.reject(new Error('shard 2 unreadable')) : split.load(i)) };
  await assert.rejects(async () => {
    for await (const _ of readAhead(streamBatches(broken, epochPlan([100, 100, 100], 1, 1, 1), { batchSize: 32, scale: 1 }), 2)) void _;
  }, /shard 2 unreadable/);
});
