import { stat } from 'node:fs/promises';
import { sha256File } from '../../pipeline/io/sha256.ts';
import type { StoreRuntime, StoreShardRecord } from '../../pipeline/store/store-manifest.ts';
import type { CaptureKey } from './capture-key.ts';
import { diffCaptureKeys } from './capture-key.ts';
import { readJsonFile } from '../../pipeline/io/read-json.ts';

/**
 * The part record next to each shard (`<split>/part-00000.parquet.json`), written atomically right
 * after the shard: what a resume needs to trust a shard without a manifest.
 */
export interface PartRecord {
  kind: 'distill.soft-targets.part';
  key: CaptureKey;
  shard: StoreShardRecord;
  /** How this shard was computed (it may come from an earlier, interrupted run). */
  runtime: StoreRuntime;
  writtenAt: string;
}

/** The part record path of a shard. */
export function partRecordPath(shardPath: string): string {
  return `${shardPath}.json`;
}

/** Reads a part record; null when absent or unreadable. */
export async function readPartRecord(shardPath: string): Promise<PartRecord | null> {
  const read = await readJsonFile(partRecordPath(shardPath));
  if (!read.ok) return null;
  const v = read.value as PartRecord | null;
  return v && v.kind === 'distill.soft-targets.part' && v.key && v.shard ? v : null;
}

/** Why a shard cannot be reused, or null when it can (key, row range, size and sha256 all match). */
export async function partProblem(record: PartRecord | null, shardPath: string, key: CaptureKey, rowStart: number, rowEnd: number): Promise<string | null> {
  if (!record) return 'no part record';
  const diffs = diffCaptureKeys(record.key, key);
  if (diffs.length > 0) return `made by another capture (${diffs.join('; ')})`;
  if (record.shard.rowStart !== rowStart || record.shard.rowEnd !== rowEnd) return `covers rows ${record.shard.rowStart}..${record.shard.rowEnd - 1}, expected ${rowStart}..${rowEnd - 1}`;
  let size: number;
  try {
    size = (await stat(shardPath)).size;
  } catch {
    return 'shard file missing';
  }
  if (size !== record.shard.bytes) return `is ${size} bytes, its part record says ${record.shard.bytes}`;
  const sha = await sha256File(shardPath);
  if (sha !== record.shard.sha256) return `sha256 ${sha} differs from its part record's ${record.shard.sha256}`;
  return null;
}
