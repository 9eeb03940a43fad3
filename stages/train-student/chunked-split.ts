/**
 * The batch-source contract of the student stage: a split cut into chunks of consecutive rows, each
 * loadable on its own (one dataset file and one store shard at most), so training can stream a split
 * with a bounded number of chunks in memory. The real implementation reads dataset files and store
 * shards (dataset-split-source.ts); tests use in-memory ones.
 */
import type { ShardTargets, StoreEncoding } from '../../pipeline/store/soft-target-store.ts';

/** Numeric feature values of a chunk, row-major (rows * featureSize). */
export type FeatureValues = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** A run of consecutive global rows [rowStart, rowEnd). */
export interface RowRange {
  rowStart: number;
  rowEnd: number;
}

/** A chunk of a split: rows [rowStart, rowEnd), of which `rows` are read (fewer when a row selection leaves some out). */
export interface SplitChunk extends RowRange {
  /** Rows of the range the chunk holds. Default rowEnd - rowStart. */
  rows?: number;
}

/** One loaded chunk. */
export interface LoadedChunk extends RowRange {
  /** rows * featureSize values, unscaled (rows = rowEnd - rowStart unless `rowIds` says which rows). */
  features: FeatureValues;
  /** The split row of each loaded row when the chunk holds a selection of its range. Default rowStart, rowStart + 1, ... */
  rowIds?: Int32Array;
  /** Hard labels, one per row. */
  labels: Int32Array;
  /** The teacher's soft targets for exactly these rows (dense or top-k arrays), or null without a store. */
  targets: ShardTargets | null;
}

/** A split that can be streamed chunk by chunk. */
export interface ChunkedSplit {
  /** Split name (train, test, ...). */
  split: string;
  /** Values per row of the feature column. */
  featureSize: number;
  /** Encoding of the soft targets, or null when the split has none. */
  encoding: StoreEncoding | null;
  /** The chunks, in row order, covering [0, rows) exactly once. */
  chunks: readonly SplitChunk[];
  /** Loads chunk `i`. Each call may read files; callers bound how many they keep. */
  load(i: number): Promise<LoadedChunk>;
}

/** Rows each chunk holds, in chunk order (what an epoch plan orders). */
export function chunkRowCounts(split: Pick<ChunkedSplit, 'chunks'>): number[] {
  return split.chunks.map((c) => c.rows ?? c.rowEnd - c.rowStart);
}

/** Total rows of a chunked split. */
export function splitRows(split: Pick<ChunkedSplit, 'chunks'>): number {
  return chunkRowCounts(split).reduce((s, n) => s + n, 0);
}
