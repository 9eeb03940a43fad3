import type { StoreEncoding } from './soft-target-store.ts';
import type { StoreSplit } from './store-manifest.ts';

/**
 * The encoding as a capture is keyed by (without the measured `bytesPerToken`), so a store compares
 * equal to the run that would re-make it.
 */
export function captureEncoding(encoding: StoreEncoding): StoreEncoding {
  const out = { ...encoding };
  delete out.bytesPerToken;
  return out;
}

/**
 * The encoding with `bytesPerToken` = shard bytes / target tokens over all splits (per-position
 * stores; shards record their target tokens). Classification stores are returned unchanged.
 */
export function withBytesPerToken(encoding: StoreEncoding, splits: Record<string, StoreSplit>): StoreEncoding {
  if (encoding.positions === undefined) return encoding;
  let bytes = 0;
  let tokens = 0;
  for (const s of Object.values(splits)) {
    for (const shard of s.shards) {
      bytes += shard.bytes;
      tokens += shard.tokens ?? 0;
    }
  }
  return { ...captureEncoding(encoding), bytesPerToken: tokens > 0 ? Math.round((bytes / tokens) * 100) / 100 : 0 };
}
