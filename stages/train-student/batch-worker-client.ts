/**
 * Batches of a dataset split assembled in a worker thread. The wasm and cpu backends train on one
 * thread; reading dataset files and store shards and cutting, scaling and copying rows into batches
 * (streamBatches) then runs on the main thread between steps. With {@link openBatchWorker} that host
 * work runs on another core while the main thread trains: the worker runs the same datasetSplitSource
 * and streamBatches code on the same plan, so the batches and their order are identical.
 */
import { Worker } from 'node:worker_threads';
import { DataError, IntegrityError } from '../../pipeline/errors.ts';
import type { OpenedStore } from '../../pipeline/store/open-store.ts';
import type { FromBatchWorker, ToBatchWorker } from './batch-worker-protocol.ts';
import type { DatasetSplitSourceOptions } from './dataset-split-source.ts';
import type { EpochPlan } from './epoch-plan.ts';
import type { HostBatch } from './host-batch.ts';
import type { StreamOptions } from './stream-batches.ts';

/** The split to stream: datasetSplitSource's options, with an opened store (its dir and manifest go to the worker). */
export interface BatchWorkerOptions extends Omit<DatasetSplitSourceOptions, 'store'> {
  /** The store to join, or null (hard-label baseline). */
  store: Pick<OpenedStore, 'dir' | 'manifest'> | null;
}

/** A worker thread that streams the batches of one dataset split; {@link BatchWorker.close} ends it. */
export interface BatchWorker {
  /**
   * The batches of one epoch plan, exactly as `readAhead(streamBatches(split, plan, opts), depth)`
   * gives them for the same split: the worker runs up to `depth` batches ahead. Only one epoch runs
   * at a time; leaving the loop early cancels the rest of the epoch in the worker. Errors of the
   * worker (a missing file, a bad shard) are thrown here with their name (DataError, RangeError, ...).
   */
  batches(plan: EpochPlan, opts: StreamOptions, depth: number): AsyncGenerator<HostBatch>;
  /** Ends the worker thread. */
  close(): Promise<void>;
}

function rebuildError(name: string, message: string): Error {
  if (name === 'DataError') return new DataError(message);
  if (name === 'IntegrityError') return new IntegrityError(message);
  if (name === 'RangeError') return new RangeError(message);
  const e = new Error(message);
  e.name = name;
  return e;
}

/**
 * Starts a worker thread that streams batches of the split described by `opts`.
 *
 * @example
 * const worker = openBatchWorker({ dir, manifest, split: 'train', feature, label, store });
 * try {
 *   for await (const hb of worker.batches(epochPlan(rows, seed, 1, 2), { batchSize: 128, scale: 1 / 255 }, 2)) train(hb);
 * } finally {
 *   await worker.close();
 * }
 */
export function openBatchWorker(opts: BatchWorkerOptions): BatchWorker {
  const worker = new Worker(new URL('./batch-worker-entry.js', import.meta.url));
  worker.unref();
  let dead: Error | null = null;
  let listener: ((msg: FromBatchWorker) => void) | null = null;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  worker.on('message', (msg: FromBatchWorker) => listener?.(msg));
  worker.on('error', (err) => {
    dead ??= err;
    poke();
  });
  worker.on('exit', (code) => {
    dead ??= new Error(`the batch worker thread exited (code ${code})`);
    poke();
  });
  const send = (msg: ToBatchWorker): void => worker.postMessage(msg);
  const { store, ...rest } = opts;
  send({ type: 'open', source: { ...rest, store: store ? { dir: store.dir, manifest: store.manifest } : null } });
  let nextId = 0;
  let closed = false;

  async function* batches(plan: EpochPlan, streamOpts: StreamOptions, depth: number): AsyncGenerator<HostBatch> {
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`train.readAhead must be a positive integer, got ${depth}`);
    if (closed) throw new Error('batch worker: batches() after close()');
    const id = nextId++;
    const queue: FromBatchWorker[] = [];
    listener = (msg) => {
      if (msg.id !== id) return;
      queue.push(msg);
      poke();
    };
    send({ type: 'epoch', id, plan, opts: streamOpts, credits: depth });
    let finished = false;
    try {
      for (;;) {
        while (queue.length === 0) {
          if (dead) throw dead;
          await new Promise<void>((resolve) => (wake = resolve));
        }
        const msg = queue.shift()!;
        if (msg.type === 'end') {
          finished = true;
          return;
        }
        if (msg.type === 'error') {
          finished = true;
          throw rebuildError(msg.name, msg.message);
        }
        // Hand the credit back before yielding, so the worker cuts the next batch while this one trains.
        send({ type: 'credit', id });
        yield msg.batch;
      }
    } finally {
      if (!finished && !dead) send({ type: 'cancel', id });
      listener = null;
    }
  }

  return {
    batches,
    close: async () => {
      closed = true;
      await worker.terminate();
    },
  };
}
