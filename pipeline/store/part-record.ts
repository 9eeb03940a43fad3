import { readJsonFile } from '../io/read-json.ts';
import type { CaptureKey } from './capture-key.ts';
import type { StoreRuntime, StoreShardRecord } from './store-manifest.ts';

/**
 * The part record next to each shard (`<split>/part-00000.parquet.json`), written atomically right
 * after the shard by the teacher-logits stage: what a resume needs to trust a shard without a
 * manifest, and what a consumer checks the manifest against (check-store-provenance.ts): it was
 * written at capture, before the manifest existed.
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
