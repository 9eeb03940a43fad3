import { atomicWrite, atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { encodeTable } from '../../pipeline/io/table-files.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { targetPositions } from '../../pipeline/store/soft-target-store.ts';
import { shardTable } from '../../pipeline/store/shard-table.ts';
import type { ShardColumns } from '../../pipeline/store/shard-table.ts';
import type { StoreRuntime, StoreShardRecord } from '../../pipeline/store/store-manifest.ts';
import type { CaptureKey } from './capture-key.ts';
import { partRecordPath } from './part-record.ts';
import type { PartRecord } from './part-record.ts';

/** One finished shard's logits and where it goes. */
export interface ShardToWrite {
  index: number;
  /** Absolute shard path. */
  path: string;
  /** Shard path relative to the store. */
  relPath: string;
  rowStart: number;
  rowEnd: number;
  /** The encoded soft targets (shard-encoder.ts), non-finite values already handled. */
  columns: ShardColumns;
  datasetFingerprint: string;
  nonFinite: number;
  nonFiniteRows: number[];
}

/**
 * Builds a shard's table from its encoded columns (dense, top-k or sampled; float32 or float16), writes it atomically in the store's format,
 * then its part record (atomically, after the shard), and returns its manifest record.
 */
export async function writeShard(shard: ShardToWrite, encoding: StoreEncoding, format: 'parquet' | 'arrow', key: CaptureKey, runtime: StoreRuntime): Promise<StoreShardRecord> {
  const table = shardTable(encoding, shard.columns);
  const bytes = encodeTable(table, format);
  const record: StoreShardRecord = {
    index: shard.index,
    path: shard.relPath,
    rowStart: shard.rowStart,
    rowEnd: shard.rowEnd,
    bytes: bytes.byteLength,
    sha256: sha256Bytes(bytes),
    datasetFingerprint: shard.datasetFingerprint,
    nonFinite: shard.nonFinite,
    nonFiniteRows: shard.nonFiniteRows,
    ...(encoding.positions !== undefined ? { tokens: shard.columns.length!.reduce((s, len) => s + targetPositions(encoding.target, len), 0) } : {}),
  };
  await atomicWrite(shard.path, bytes);
  const part: PartRecord = { kind: 'distill.soft-targets.part', key, shard: record, runtime, writtenAt: new Date().toISOString() };
  await atomicWriteJson(partRecordPath(shard.path), part);
  return record;
}
