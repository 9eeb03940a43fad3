/**
 * Whether a shard's part record lets a resume reuse it. The part record itself (PartRecord,
 * partRecordPath, readPartRecord) is in pipeline/store/part-record.ts, where consumers read it too.
 */
import { stat } from 'node:fs/promises';
import { sha256File } from '../../pipeline/io/sha256.ts';
import type { CaptureKey } from '../../pipeline/store/capture-key.ts';
import { diffCaptureKeys } from '../../pipeline/store/capture-key.ts';
import type { PartRecord } from '../../pipeline/store/part-record.ts';

export { partRecordPath, readPartRecord } from '../../pipeline/store/part-record.ts';
export type { PartRecord } from '../../pipeline/store/part-record.ts';

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
