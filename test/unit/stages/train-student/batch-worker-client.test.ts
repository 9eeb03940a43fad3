/**
 * The batch worker against streamBatches on this thread: the same batches, byte for byte, in the
 * same order (dense and top-k stores, several epochs, a short last batch); leaving an epoch early and
 * starting another; a missing shard file surfacing as a DataError naming it.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentReporter } from '../../../../pipeline/reporter.ts';
import { openStore } from '../../../../pipeline/store/open-store.ts';
import { runMnistData } from '../../../../stages/data/run-mnist.ts';
import { openBatchWorker } from '../../../../stages/train-student/batch-worker-client.ts';
import { datasetSplitSource } from '../../../../stages/train-student/dataset-split-source.ts';
import type { DatasetSplitSourceOptions } from '../../../../stages/train-student/dataset-split-source.ts';
import { epochPlan } from '../../../../stages/train-student/epoch-plan.ts';
import type { HostBatch } from '../../../../stages/train-student/host-batch.ts';
import { streamBatches } from '../../../../stages/train-student/stream-batches.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';
import { writeTestStore } from '../../../helpers/write-test-store.ts';

const ws = await tmpDir();
const { manifest: dataset } = await runMnistData({ out: join(ws, 'data'), limitTrain: 500, limitTest: 100, rowsPerFile: 200 }, silentReporter);
await writeTestStore({ datasetDir: join(ws, 'data'), dataset, out: join(ws, 'dense'), splits: ['train'], shardRows: 150 });
await writeTestStore({ datasetDir: join(ws, 'data'), dataset, out: join(ws, 'topk'), splits: ['train'], shardRows: 150, mode: 'topk', k: 3, temperature: 2 });

async function optionsFor(store: string): Promise<DatasetSplitSourceOptions & { store: Awaited<ReturnType<typeof openStore>> }> {
  return {
    dir: join(ws, 'data'),
    manifest: dataset,
    split: 'train',
    feature: dataset.columns.find((c) => c.role === 'feature')!,
    label: dataset.columns.find((c) => c.role === 'label')!,
    store: await openStore(join(ws, store)),
    limitRows: 470,
  };
}

function bytes(batches: HostBatch[]): Buffer[] {
  return batches.flatMap((b) =>
    [b.x, b.labels, b.rows, b.logits, b.topkIndex, b.topkLogit, b.tailLogSumExp].filter((a) => a !== undefined).map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
  );
}

for (const store of ['dense', 'topk']) {
  test(`batch worker (${store}): the same batches as streamBatches on this thread, epoch after epoch`, async () => {
    const opts = await optionsFor(store);
    const split = datasetSplitSource(opts);
    const worker = openBatchWorker(opts);
    try {
      for (const epoch of [1, 2, 3]) {
        const plan = epochPlan(split.chunks.map((c) => c.rowEnd - c.rowStart), 7, epoch, 2);
        const here: HostBatch[] = [];
        for await (const hb of streamBatches(split, plan, { batchSize: 64, scale: 1 / 255 })) here.push(hb);
        const there: HostBatch[] = [];
        for await (const hb of worker.batches(plan, { batchSize: 64, scale: 1 / 255 }, 2)) there.push(hb);
        assert.deepEqual(there.map((b) => b.size), here.map((b) => b.size));
        assert.equal(here.at(-1)!.size, 470 % 64);
        assert.deepEqual(bytes(there), bytes(here));
      }
    } finally {
      await worker.close();
    }
  });
}

test('batch worker: leaving an epoch early cancels it; the next epoch is complete', async () => {
  const opts = await optionsFor('dense');
  const split = datasetSplitSource(opts);
  const worker = openBatchWorker(opts);
  try {
    const plan = epochPlan(split.chunks.map((c) => c.rowEnd - c.rowStart), 1, 1, 2);
    let n = 0;
    for await (const hb of worker.batches(plan, { batchSize: 32, scale: 1 }, 3)) {
      assert.equal(hb.size, 32);
      if (++n === 2) break;
    }
    const rows: number[] = [];
    for await (const hb of worker.batches(plan, { batchSize: 32, scale: 1 }, 3)) rows.push(...hb.rows);
    assert.deepEqual(rows.sort((a, b) => a - b), Array.from({ length: 470 }, (_, i) => i));
  } finally {
    await worker.close();
  }
});

test('BAD CALL batch worker: a missing shard file is a DataError naming it; readAhead 0 is a RangeError', async () => {
  const opts = await optionsFor('dense');
  const split = datasetSplitSource(opts);
  await rm(join(ws, 'dense', 'train', 'part-00001.arrow'));
  const worker = openBatchWorker(opts);
  try {
    const plan = epochPlan(split.chunks.map((c) => c.rowEnd - c.rowStart), 1, 1, 1);
    await assert.rejects(async () => {
      for await (const hb of worker.batches(plan, { batchSize: 32, scale: 1 }, 2)) void hb;
    }, { name: 'DataError', message: /part-00001\.arrow/ });
    await assert.rejects(async () => {
      for await (const hb of worker.batches(plan, { batchSize: 32, scale: 1 }, 0)) void hb;
    }, { name: 'RangeError', message: /train\.readAhead/ });
  } finally {
    await worker.close();
  }
});
