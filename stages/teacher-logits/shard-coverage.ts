import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../../pipeline/io/sha256.ts';
import type { StoreShardRecord } from '../../pipeline/store/store-manifest.ts';
import type { PartManifest } from './part-manifest.ts';

/** A part manifest read from the store's parts/ folder. */
export interface LoadedPart {
  /** Store-relative path, `parts/worker-<i>-of-<N>.json`. */
  path: string;
  part: PartManifest;
}

/** A shard record and the part manifest that lists it. */
export interface ClaimedShard {
  path: string;
  record: StoreShardRecord;
}

/** "rows a..b (shard i)" or "rows a..b (shards i-j)". */
export function rowRange(first: { index: number; rowStart: number }, last: { index: number; rowEnd: number }): string {
  return `rows ${first.rowStart}..${last.rowEnd - 1} (${first.index === last.index ? `shard ${first.index}` : `shards ${first.index}-${last.index}`})`;
}

/** The claims on each shard index of `split`; a record at the wrong index, rows or path is a problem. */
function claimsOfSplit(parts: readonly LoadedPart[], ref: PartManifest, split: string, rows: number, problems: string[]): Map<number, ClaimedShard[]> {
  const S = ref.shardRows;
  const n = Math.ceil(rows / S);
  const claims = new Map<number, ClaimedShard[]>();
  for (const p of parts) {
    for (const record of p.part.splits[split]?.shards ?? []) {
      const expectedPath = `${split}/part-${String(record.index).padStart(5, '0')}.${ref.format}`;
      const expected = { rowStart: record.index * S, rowEnd: Math.min(rows, (record.index + 1) * S) };
      if (record.index >= n || record.rowStart !== expected.rowStart || record.rowEnd !== expected.rowEnd || record.path !== expectedPath) {
        problems.push(
          `${p.path} lists split ${split} shard ${record.index} as ${record.path} rows ${record.rowStart}..${record.rowEnd - 1}, but ` +
            (record.index >= n ? `the split has only ${n} shards of ${S} rows` : `shard ${record.index} is ${expectedPath} rows ${expected.rowStart}..${expected.rowEnd - 1}`),
        );
        continue;
      }
      claims.set(record.index, [...(claims.get(record.index) ?? []), { path: p.path, record }]);
    }
  }
  return claims;
}

/**
 * Coverage: every row range of every split of `ref` must be claimed by exactly one shard of `parts`.
 * Gaps and duplicates go to `problems`; returns the first claim on each covered shard, in order.
 */
export function claimShards(parts: readonly LoadedPart[], ref: PartManifest, problems: string[]): ClaimedShard[] {
  const S = ref.shardRows;
  const claimed: ClaimedShard[] = [];
  for (const [split, { rows }] of Object.entries(ref.dataset.splits)) {
    const n = Math.ceil(rows / S);
    const claims = claimsOfSplit(parts, ref, split, rows, problems);
    let gapStart = -1;
    for (let i = 0; i <= n; i++) {
      const c = claims.get(i);
      if (i < n && !c) {
        if (gapStart < 0) gapStart = i;
        continue;
      }
      if (gapStart >= 0) {
        const first = { index: gapStart, rowStart: gapStart * S };
        const last = { index: i - 1, rowEnd: Math.min(rows, i * S) };
        problems.push(`split ${split}: ${rowRange(first, last)} are not covered by any part manifest`);
        gapStart = -1;
      }
      if (!c) continue;
      if (c.length > 1) problems.push(`split ${split}: ${rowRange(c[0]!.record, c[0]!.record)} are covered ${c.length} times: ${c.map((x) => x.path).join(', ')}`);
      claimed.push(c[0]!);
    }
  }
  return claimed;
}

/** The bytes of every claimed shard: size and sha256 as its part manifest records them, else a problem. */
export async function checkClaimedShards(storeDir: string, claimed: readonly ClaimedShard[], problems: string[]): Promise<void> {
  for (const { path, record } of claimed) {
    const file = join(storeDir, record.path);
    try {
      const size = (await stat(file)).size;
      if (size !== record.bytes) {
        problems.push(`${record.path} is ${size} bytes, but ${path} says ${record.bytes}`);
        continue;
      }
      const sha = await sha256File(file);
      if (sha !== record.sha256) problems.push(`${record.path} has sha256 ${sha}, but ${path} says ${record.sha256} (bad checksum: the shard changed after its worker wrote it; re-run that worker)`);
    } catch (err) {
      problems.push(`${record.path} (listed by ${path}) cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
}
