/**
 * Messages between {@link openBatchWorker} (batch-worker-client.ts) and its worker thread
 * (batch-worker.ts). Every epoch has an id; messages of an older epoch are ignored.
 */
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import type { DatasetSplitSourceOptions } from './dataset-split-source.ts';
import type { EpochPlan } from './epoch-plan.ts';
import type { HostBatch } from './host-batch.ts';
import type { StreamOptions } from './stream-batches.ts';

/** What the worker needs to rebuild the split source: the source options, with the store as its directory and parsed manifest. */
export interface BatchWorkerSource extends Omit<DatasetSplitSourceOptions, 'store'> {
  /** The opened store's directory and manifest (already validated by the parent), or null. */
  store: { dir: string; manifest: StoreManifest } | null;
}

/** Parent to worker. */
export type ToBatchWorker =
  | { type: 'open'; source: BatchWorkerSource }
  | { type: 'epoch'; id: number; plan: EpochPlan; opts: StreamOptions; credits: number }
  | { type: 'credit'; id: number }
  | { type: 'cancel'; id: number };

/** Worker to parent. */
export type FromBatchWorker =
  | { type: 'batch'; id: number; batch: HostBatch }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; name: string; message: string };
