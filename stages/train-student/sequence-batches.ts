/**
 * Batches of a sequence split in the order of an epoch plan: each plan window's chunks are loaded
 * (the next window's load starts while the current one is cut), the window's rows are visited in the
 * plan's permuted order, and each batch gathers token ids, mask, labels and the teacher's per-position
 * targets of its rows into fresh arrays.
 */
import type { ShardTargets, StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { positionsOf } from '../../pipeline/store/soft-target-store.ts';
import type { EpochPlan } from './epoch-plan.ts';
import type { SequenceHostBatch } from './sequence-batch.ts';
import type { SequenceChunk, SequenceSplit } from './sequence-split-source.ts';

/** A host batch and, with a store, its targets (arrays indexed by batch row). */
export interface SequenceBatch {
  host: SequenceHostBatch;
  targets: ShardTargets | null;
}

type Arr = Int32Array | Uint8Array | Float32Array | Uint16Array;

/** Copies row `r` (width values) of `src` to row `i` of `dst`. */
function copy(dst: Arr, src: Arr, r: number, i: number, width: number): void {
  dst.set(src.subarray(r * width, (r + 1) * width), i * width);
}

/** The per-position target arrays of a batch and their widths per row. */
function targetFields(enc: StoreEncoding): Array<[keyof ShardTargets, number]> {
  const p = positionsOf(enc);
  if (enc.mode === 'dense') return [['logits', p * enc.classes], ['length', 1]];
  if (enc.mode === 'topk') return [['topkIndex', p * enc.k!], ['topkLogit', p * enc.k!], ['tailLogSumExp', p], ['length', 1]];
  return [['sampleIndex', p * enc.slots!], ['sampleCount', p * enc.slots!], ['length', 1]];
}

/** One batch from (chunk, row) picks. */
function gather(picks: Array<[SequenceChunk, number]>, l: number, enc: StoreEncoding | null, split: string): SequenceBatch {
  const n = picks.length;
  const host: SequenceHostBatch = { size: n, context: l, ids: new Int32Array(n * l), mask: new Uint8Array(n * l) };
  const withLabels = picks[0]![0].labels !== undefined;
  if (withLabels) host.labels = new Int32Array(n * l);
  const withTargets = enc !== null && picks[0]![0].targets !== null;
  const targets: ShardTargets | null = withTargets ? { split, index: -1, rowStart: 0, rowEnd: n, positions: positionsOf(enc) } : null;
  const fields = withTargets ? targetFields(enc) : [];
  for (const [key, width] of fields) {
    const src = picks[0]![0].targets![key] as Arr;
    (targets as unknown as Record<string, Arr>)[key] = new (src.constructor as new (k: number) => Arr)(n * width);
  }
  picks.forEach(([c, r], i) => {
    copy(host.ids, c.ids, r, i, l);
    copy(host.mask, c.mask, r, i, l);
    if (host.labels) copy(host.labels, c.labels!, r, i, l);
    for (const [key, width] of fields) copy(targets![key] as Arr, c.targets![key] as Arr, r, i, width);
  });
  return { host, targets };
}

/**
 * Yields the batches of `plan` over `split` (the last batch of the plan may be shorter). At most two
 * windows' chunks are in memory: the one being cut and the next one loading.
 */
export async function* sequenceBatches(split: SequenceSplit, plan: EpochPlan, batchSize: number): AsyncGenerator<SequenceBatch> {
  const loadWindow = (w: number): Promise<SequenceChunk[]> | null => (w < plan.windows.length ? Promise.all(plan.windows[w]!.chunks.map((c) => split.load(c))) : null);
  let next = loadWindow(0);
  let picks: Array<[SequenceChunk, number]> = [];
  for (let w = 0; w < plan.windows.length; w++) {
    const chunks = await next!;
    next = loadWindow(w + 1);
    const starts: number[] = [];
    let total = 0;
    for (const c of chunks) {
      starts.push(total);
      total += c.rows;
    }
    for (const v of plan.windows[w]!.order) {
      let ci = 0;
      while (ci + 1 < starts.length && starts[ci + 1]! <= v) ci++;
      picks.push([chunks[ci]!, v - starts[ci]!]);
      if (picks.length === batchSize) {
        yield gather(picks, split.context, split.encoding, split.split);
        picks = [];
      }
    }
  }
  if (picks.length > 0) yield gather(picks, split.context, split.encoding, split.split);
}
