import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';

/**
 * Everything that decides the bytes of a split's shards. Two captures with equal keys write identical
 * shards (for a deterministic teacher), so a shard whose part record carries the current key and whose
 * sha256 matches may be reused on resume; a store with another key is refused unless --force.
 * (The nonFinite policy is not part of it: a shard without NaN/Inf is the same under both, and a
 * reused shard with NaN/Inf rows is refused under `error`. Batch size, device and threads are not part of it: shards do not depend on them where ORT is
 * deterministic; the runtime is recorded in each part record and the manifest.)
 */
export interface CaptureKey {
  teacherSha256: string;
  /** sha256 of card.json: bindings, preprocessing and output kind change the values. */
  cardSha256: string;
  dataset: string;
  split: string;
  splitRows: number;
  splitFingerprint: string;
  encoding: StoreEncoding;
  format: 'parquet' | 'arrow';
  shardRows: number;
}

/** The key of one split of an existing manifest. */
export function keyOfManifest(m: StoreManifest, split: string): CaptureKey | null {
  const s = m.dataset.splits[split];
  if (!s) return null;
  return {
    teacherSha256: m.teacher.sha256,
    cardSha256: m.teacher.cardSha256,
    dataset: m.dataset.name,
    split,
    splitRows: s.rows,
    splitFingerprint: s.fingerprint,
    encoding: m.encoding,
    format: m.format,
    shardRows: m.shardRows,
  };
}

const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** The fields that differ, as "field: stored X, now Y" lines (empty when the keys are equal). */
export function diffCaptureKeys(stored: CaptureKey, now: CaptureKey): string[] {
  const diffs: string[] = [];
  for (const field of Object.keys(now) as (keyof CaptureKey)[]) {
    if (canon(stored[field]) !== canon(now[field])) diffs.push(`${field}: stored ${canon(stored[field])}, now ${canon(now[field])}`);
  }
  return diffs;
}
