/**
 * A token dataset split (plus, when given, the per-position store's shards of the same split) cut
 * into chunks that each lie inside one dataset file and one store shard, the sequence counterpart of
 * dataset-split-source.ts. A loaded chunk holds its rows' token ids, attention mask, position labels
 * (token classification) and the teacher's per-position targets, so an epoch needs only the chunks of
 * its current shuffle window in memory.
 */
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import type { DatasetColumn, DatasetFile, DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { getSplit } from '../../pipeline/dataset/dataset-manifest.ts';
import { readDatasetFile } from '../../pipeline/dataset/read-dataset-file.ts';
import { DataError } from '../../pipeline/errors.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import type { ShardTargets, StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { positionsOf } from '../../pipeline/store/soft-target-store.ts';
import type { RowRange, SplitChunk } from './chunked-split.ts';
import type { RowSelection, TargetStoreView } from './dataset-split-source.ts';
import { PromiseCache, gatherRows, keptOffsets } from './dataset-split-source.ts';
import { checkStoreLengths } from './sequence-targets.ts';

/** The columns of a token dataset a sequence student reads. */
export interface SequenceColumns {
  /** Token ids, fixed_size_list<int>[L]. */
  ids: DatasetColumn;
  /** Attention mask (1 = real token), fixed_size_list[L], or null: every position is real. */
  mask: DatasetColumn | null;
  /** Position labels, fixed_size_list<int>[L] (token classification), or null (causal LM: the next token). */
  labels: DatasetColumn | null;
}

/** One loaded chunk: `rows` rows of L tokens. */
export interface SequenceChunk extends RowRange {
  rows: number;
  /** Split row of each loaded row. */
  rowIds: Int32Array;
  /** rows * L token ids. */
  ids: Int32Array;
  /** rows * L mask values. */
  mask: Uint8Array;
  /** rows * L position labels (-100 = none), or undefined for a causal LM. */
  labels?: Int32Array;
  /** The teacher's per-position targets for exactly these rows (arrays indexed by loaded row), or null. */
  targets: ShardTargets | null;
}

/** A token split that can be loaded chunk by chunk. */
export interface SequenceSplit {
  split: string;
  context: number;
  encoding: StoreEncoding | null;
  chunks: readonly SplitChunk[];
  load(i: number): Promise<SequenceChunk>;
}

/** What to read. */
export interface SequenceSplitOptions {
  dir: string;
  manifest: DatasetManifest;
  split: string;
  columns: SequenceColumns;
  context: number;
  store: TargetStoreView | null;
  limitRows?: number;
  rowSelection?: RowSelection;
}

/** Offsets (from range.rowStart) of the rows a selection keeps in a range (every row without one). */
function selectedOffsets(sel: RowSelection | undefined, range: RowRange): Int32Array {
  return sel ? keptOffsets(sel, range) : Int32Array.from({ length: range.rowEnd - range.rowStart }, (_, i) => i);
}

/** The store arrays of the rows `offsets` (relative to the shard's first row). */
function pickTargets(t: ShardTargets, offsets: Int32Array, enc: StoreEncoding, range: RowRange): ShardTargets {
  const p = positionsOf(enc);
  const out: ShardTargets = { split: t.split, index: t.index, rowStart: range.rowStart, rowEnd: range.rowEnd, positions: p };
  if (t.length) out.length = gatherRows(t.length, offsets, 1);
  if (enc.mode === 'dense') out.logits = gatherRows(t.logits!, offsets, p * enc.classes);
  if (enc.mode === 'topk') {
    out.topkIndex = gatherRows(t.topkIndex!, offsets, p * enc.k!);
    out.topkLogit = gatherRows(t.topkLogit!, offsets, p * enc.k!);
    out.tailLogSumExp = gatherRows(t.tailLogSumExp!, offsets, p);
  }
  if (enc.mode === 'sampled') {
    out.sampleIndex = gatherRows(t.sampleIndex!, offsets, p * enc.slots!);
    out.sampleCount = gatherRows(t.sampleCount!, offsets, p * enc.slots!);
  }
  return out;
}

/** A list column's items as int32 (labels may be int16 on disk), `width` per row. */
function intValues(table: Table, col: DatasetColumn, width: number, where: string): Int32Array {
  const vec = table.getChild(col.name);
  if (!vec) throw new DataError(`${where}: has no column "${col.name}"`);
  const v = columnValues(vec, width);
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Int32Array.from(v, (x) => Number(x));
  return v instanceof Int32Array ? v : Int32Array.from(v as ArrayLike<number>);
}

/**
 * The split as chunks (boundaries: the union of dataset files' and store shards' row starts); loading
 * a chunk reads its file and shard, checks the store's per-row lengths against the mask, and keeps
 * the selected rows.
 */
export function sequenceSplitSource(opts: SequenceSplitOptions): SequenceSplit {
  const { dir, manifest, split, columns, context: l, store } = opts;
  const s = getSplit(manifest, split, dir);
  const limit = Math.min(opts.limitRows ?? s.rows, s.rows);
  const cuts = new Set<number>([0, limit]);
  for (const f of s.files) if (f.rowStart < limit) cuts.add(f.rowStart);
  const shards = store ? store.shards(split) : [];
  for (const sh of shards) if (sh.rowStart < limit) cuts.add(sh.rowStart);
  const sorted = [...cuts].sort((a, b) => a - b);
  const chunks: SplitChunk[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const range = { rowStart: sorted[i]!, rowEnd: sorted[i + 1]! };
    chunks.push({ ...range, rows: selectedOffsets(opts.rowSelection, range).length });
  }
  const fileCache = new PromiseCache<Table>(2);
  const shardCache = new PromiseCache<ShardTargets>(2);
  return {
    split,
    context: l,
    encoding: store ? store.encoding : null,
    chunks,
    async load(i: number): Promise<SequenceChunk> {
      const range = chunks[i];
      if (!range) throw new RangeError(`chunk ${i} is outside 0..${chunks.length - 1}`);
      const file: DatasetFile | undefined = s.files.find((f) => f.rowStart <= range.rowStart && range.rowEnd <= f.rowEnd);
      if (!file) throw new DataError(`${dir}: no file of split "${split}" holds rows ${range.rowStart}..${range.rowEnd - 1}`);
      const shard = store ? shards.find((sh) => sh.rowStart <= range.rowStart && range.rowEnd <= sh.rowEnd) : undefined;
      if (store && !shard) throw new DataError(`the store has no shard of split "${split}" holding rows ${range.rowStart}..${range.rowEnd - 1}`);
      const [table, shardTargets] = await Promise.all([
        fileCache.get(file.path, () => readDatasetFile(dir, file, manifest.columns)),
        shard ? shardCache.get(String(shard.index), () => store!.readShard(split, shard.index)) : Promise.resolve(null),
      ]);
      const where = join(dir, file.path);
      const offsets = selectedOffsets(opts.rowSelection, range);
      const inFile = Int32Array.from(offsets, (o) => o + range.rowStart - file.rowStart);
      const ids = gatherRows(intValues(table, columns.ids, l, where), inFile, l);
      const mask = columns.mask ? gatherRows(Uint8Array.from(intValues(table, columns.mask, l, where)), inFile, l) : new Uint8Array(offsets.length * l).fill(1);
      const labels = columns.labels ? gatherRows(intValues(table, columns.labels, l, where), inFile, l) : undefined;
      let targets: ShardTargets | null = null;
      if (shardTargets && store) {
        targets = pickTargets(shardTargets, Int32Array.from(offsets, (o) => o + range.rowStart - shardTargets.rowStart), store.encoding, range);
        const lengths = Int32Array.from(offsets, (_, r) => mask.subarray(r * l, (r + 1) * l).reduce((a, b) => a + b, 0));
        checkStoreLengths(targets, lengths, range.rowStart, `store shard ${shard!.index} of split "${split}"`);
      }
      return { ...range, rows: offsets.length, rowIds: Int32Array.from(offsets, (o) => o + range.rowStart), ids, mask, ...(labels ? { labels } : {}), targets };
    },
  };
}
