/**
 * Worker-thread side of {@link openBatchWorker}: rebuilds the dataset split source, runs
 * {@link streamBatches} for each requested epoch plan and posts the batches to the parent, their
 * buffers transferred. It runs at most `credits` batches ahead of the parent (one credit comes back
 * per batch the parent takes), so memory stays bounded as with readAhead.
 */
import { parentPort } from 'node:worker_threads';
import { openedStore } from '../../pipeline/store/open-store.ts';
import type { FromBatchWorker, ToBatchWorker } from './batch-worker-protocol.ts';
import type { ChunkedSplit } from './chunked-split.ts';
import { datasetSplitSource } from './dataset-split-source.ts';
import type { HostBatch } from './host-batch.ts';
import { streamBatches } from './stream-batches.ts';

const port = parentPort!;
let split: ChunkedSplit | null = null;

interface EpochState {
  id: number;
  credits: number;
  stopped: boolean;
  wake: (() => void) | null;
}
let current: EpochState | null = null;

function post(msg: FromBatchWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function wake(state: EpochState): void {
  const w = state.wake;
  state.wake = null;
  w?.();
}

function buffersOf(b: HostBatch): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const a of [b.x, b.labels, b.rows, b.views, b.logits, b.topkIndex, b.topkLogit, b.tailLogSumExp]) {
    if (a && a.buffer instanceof ArrayBuffer) seen.add(a.buffer);
  }
  return [...seen];
}

async function runEpoch(msg: Extract<ToBatchWorker, { type: 'epoch' }>): Promise<void> {
  if (current) {
    current.stopped = true;
    wake(current);
  }
  const state: EpochState = { id: msg.id, credits: msg.credits, stopped: false, wake: null };
  current = state;
  try {
    if (!split) throw new Error('batch worker: an epoch was requested before the split was opened');
    for await (const hb of streamBatches(split, msg.plan, msg.opts)) {
      while (state.credits === 0 && !state.stopped) await new Promise<void>((resolve) => (state.wake = resolve));
      if (state.stopped) return;
      state.credits--;
      post({ type: 'batch', id: state.id, batch: hb }, buffersOf(hb));
    }
    if (!state.stopped) post({ type: 'end', id: state.id });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    if (!state.stopped) post({ type: 'error', id: state.id, name: e.name, message: e.message });
  }
}

port.on('message', (msg: ToBatchWorker) => {
  if (msg.type === 'open') {
    const { store, ...rest } = msg.source;
    split = datasetSplitSource({ ...rest, store: store ? openedStore(store.dir, store.manifest) : null });
  } else if (msg.type === 'epoch') {
    void runEpoch(msg);
  } else if (current && current.id === msg.id) {
    if (msg.type === 'credit') current.credits++;
    else current.stopped = true;
    wake(current);
  }
});
