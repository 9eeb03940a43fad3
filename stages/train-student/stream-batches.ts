import { DataError } from '../../pipeline/errors.ts';
import { augmentView } from '../../pipeline/augment/augment-view.ts';
import type { ViewValues } from '../../pipeline/augment/augment-view.ts';
import { epochView } from '../../pipeline/augment/view-policy.ts';
import type { ChunkedSplit, FeatureValues, LoadedChunk } from './chunked-split.ts';
import type { EpochPlan } from './epoch-plan.ts';
import type { HostBatch } from './host-batch.ts';

/** How batches are cut. */
export interface StreamOptions {
  /** Rows per batch; the last batch of the plan may be shorter. */
  batchSize: number;
  /** Factor applied to every feature value (e.g. 1/255). */
  scale: number;
  /**
   * Training on a view store: each row is shown as view epochView(seed, plan.epoch, row, K), its input
   * rebuilt by augmentView from the stored parameters, with that view's targets (`consistent`) or
   * view 0's (`view0`). Absent (evaluation): view 0, the unaugmented input, with its targets.
   */
  views?: ViewTraining;
}

/** How a training stream uses a view store's views. */
export interface ViewTraining {
  /** The run's master seed (the draw is keyed by seed, epoch, row). */
  seed: number;
  targets: 'consistent' | 'view0';
}

/** What a stream did, for tests and benchmarks (memory bound, loads). */
export interface StreamStats {
  /** Chunk loads started. */
  chunksLoaded: number;
  /** Most chunks the stream held at once (the current window plus the one being prefetched). */
  maxResidentChunks: number;
}

/** A fresh {@link StreamStats}. */
export function newStreamStats(): StreamStats {
  return { chunksLoaded: 0, maxResidentChunks: 0 };
}

interface BatchBuilder {
  batch: HostBatch;
  fill: number;
}

function newBatch(size: number, split: ChunkedSplit): BatchBuilder {
  const enc = split.encoding;
  const batch: HostBatch = { size, x: new Float32Array(size * split.featureSize), labels: new Int32Array(size), rows: new Int32Array(size) };
  if (enc?.views) batch.views = new Int32Array(size);
  if (enc?.mode === 'dense') batch.logits = new Float32Array(size * enc.classes);
  if (enc?.mode === 'topk') {
    batch.topkIndex = new Int32Array(size * enc.k!);
    batch.topkLogit = new Float32Array(size * enc.k!);
    batch.tailLogSumExp = new Float32Array(size);
  }
  return { batch, fill: 0 };
}

/**
 * dst[dOff + j] = src[sOff + j] * scale for j < n (a plain copy when scale is 1). Kept small and
 * separate from copyRow so V8 optimises the hot loop on its own (it is ~90% of the host work).
 */
function scaleInto(dst: Float32Array, dOff: number, src: FeatureValues, sOff: number, n: number, scale: number): void {
  if (scale === 1) {
    if (src instanceof Float32Array) dst.set(src.subarray(sOff, sOff + n), dOff);
    else for (let j = 0; j < n; j++) dst[dOff + j] = src[sOff + j]!;
    return;
  }
  for (let j = 0; j < n; j++) dst[dOff + j] = src[sOff + j]! * scale;
}

/** Per-stream state of view training: the epoch and a scratch row for the augmented input. */
interface RowContext {
  split: ChunkedSplit;
  opts: StreamOptions;
  epoch: number;
  scratch: ViewValues | null;
}

function copyRow(b: BatchBuilder, chunk: LoadedChunk, r: number, ctx: RowContext): void {
  const { split, opts } = ctx;
  const f = split.featureSize;
  const i = b.fill++;
  const { batch } = b;
  const row = chunk.rowIds ? chunk.rowIds[r]! : chunk.rowStart + r;
  batch.labels[i] = chunk.labels[r]!;
  batch.rows[i] = row;
  const t = chunk.targets;
  const enc = split.encoding;
  if (enc && !t) throw new DataError(`${split.split}: rows ${chunk.rowStart}..${chunk.rowEnd - 1} have no soft targets`);
  const policy = enc?.views;
  const k = policy?.count ?? 1;
  // The input's view and the targets' view (a row's views are entries r*K .. r*K+K-1 of the targets).
  const view = policy && opts.views ? epochView(opts.views.seed, ctx.epoch, row, k) : 0;
  const tr = r * k + (opts.views?.targets === 'view0' ? 0 : view);
  if (view === 0) {
    scaleInto(batch.x, i * f, chunk.features, r * f, f, opts.scale);
  } else {
    ctx.scratch ??= new (chunk.features.constructor as new (n: number) => ViewValues)(f);
    augmentView(policy!, t!.viewParams!, r * k + view, chunk.features.subarray(r * f, (r + 1) * f) as ViewValues, ctx.scratch);
    scaleInto(batch.x, i * f, ctx.scratch as FeatureValues, 0, f, opts.scale);
  }
  if (batch.views) batch.views[i] = view;
  if (!enc) return;
  if (enc.mode === 'dense') {
    const c = enc.classes;
    batch.logits!.set(t!.logits!.subarray(tr * c, (tr + 1) * c), i * c);
  } else {
    const kk = enc.k!;
    batch.topkIndex!.set(t!.topkIndex!.subarray(tr * kk, (tr + 1) * kk), i * kk);
    batch.topkLogit!.set(t!.topkLogit!.subarray(tr * kk, (tr + 1) * kk), i * kk);
    batch.tailLogSumExp![i] = t!.tailLogSumExp![tr]!;
  }
}

/** Trims a partly filled batch to its rows. */
function finish(b: BatchBuilder, split: ChunkedSplit): HostBatch {
  const n = b.fill;
  const { batch } = b;
  if (n === batch.size) return batch;
  const enc = split.encoding;
  const k = enc?.k ?? 0;
  return {
    size: n,
    x: batch.x.subarray(0, n * split.featureSize),
    labels: batch.labels.subarray(0, n),
    rows: batch.rows.subarray(0, n),
    ...(batch.views ? { views: batch.views.subarray(0, n) } : {}),
    ...(batch.logits ? { logits: batch.logits.subarray(0, n * enc!.classes) } : {}),
    ...(batch.topkIndex ? { topkIndex: batch.topkIndex.subarray(0, n * k), topkLogit: batch.topkLogit!.subarray(0, n * k), tailLogSumExp: batch.tailLogSumExp!.subarray(0, n) } : {}),
  };
}

/**
 * Streams the batches of one epoch plan: window by window, the window's chunks are loaded (the next
 * window's load starts while the current one is cut into batches), its rows are visited in the
 * plan's order and copied into batches of `batchSize` rows (features scaled to float32, labels and
 * soft targets alongside; with `opts.views`, each row as the epoch's view of it, see StreamOptions). At most two windows of chunks are held at once. Batches run across window
 * boundaries; only the plan's last batch may be short.
 *
 * @param split - the chunked split to read.
 * @param plan - the order (see epochPlan / sequentialPlan).
 * @param opts - batch size and feature scale.
 * @param stats - optional counters, updated as the stream runs.
 */
export async function* streamBatches(split: ChunkedSplit, plan: EpochPlan, opts: StreamOptions, stats: StreamStats = newStreamStats()): AsyncGenerator<HostBatch> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`train.batchSize must be a positive integer, got ${opts.batchSize}`);
  const load = (w: number): Promise<LoadedChunk[]> => {
    const chunks = plan.windows[w]!.chunks;
    stats.chunksLoaded += chunks.length;
    return Promise.all(chunks.map((c) => split.load(c)));
  };
  let next: Promise<LoadedChunk[]> | null = plan.windows.length > 0 ? load(0) : null;
  let b = newBatch(opts.batchSize, split);
  const ctx: RowContext = { split, opts, epoch: plan.epoch, scratch: null };
  for (let w = 0; w < plan.windows.length; w++) {
    const chunks = await next!;
    next = w + 1 < plan.windows.length ? load(w + 1) : null;
    // Keep a handled rejection on the prefetch so an error surfaces when it is awaited, not as unhandled.
    next?.catch(() => {});
    const resident = chunks.length + (next ? plan.windows[w + 1]!.chunks.length : 0);
    stats.maxResidentChunks = Math.max(stats.maxResidentChunks, resident);
    const starts: number[] = [];
    let total = 0;
    for (const c of chunks) {
      starts.push(total);
      total += c.labels.length;
    }
    const order = plan.windows[w]!.order;
    if (order.length !== total) throw new RangeError(`epoch plan window ${w} orders ${order.length} rows but its chunks hold ${total}`);
    for (let i = 0; i < order.length; i++) {
      const idx = order[i]!;
      let j = chunks.length - 1;
      while (starts[j]! > idx) j--;
      copyRow(b, chunks[j]!, idx - starts[j]!, ctx);
      if (b.fill === opts.batchSize) {
        yield b.batch;
        b = newBatch(opts.batchSize, split);
      }
    }
  }
  if (b.fill > 0) yield finish(b, split);
}
