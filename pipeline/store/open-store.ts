/**
 * Opening and verifying a soft-target store (the read side; the teacher-logits stage writes it).
 * Readers (train-student, evaluate, verify, inspect) go through {@link openStore}: it validates the
 * manifest and gives the shards of each split, decoded to float32 by {@link OpenedStore.readShard}.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAgainstSchema } from '../config/validate-schema.ts';
import { DataError, IntegrityError } from '../errors.ts';
import { sha256File } from '../io/sha256.ts';
import { decodeTable } from '../io/table-files.ts';
import { decodeShard } from './decode-shard.ts';
import type { ShardTargets, StoreEncoding } from './soft-target-store.ts';
import { STORE_MANIFEST } from './store-manifest.ts';
import type { StoreManifest } from './store-manifest.ts';

/** One shard of a split, as a reader sees it. */
export interface StoreShardEntry {
  /** Shard index i within the split. */
  index: number;
  /** Absolute path of the shard file (the manifest records it relative to the store). */
  path: string;
  /** First global row (inclusive). */
  rowStart: number;
  /** Last global row (exclusive). */
  rowEnd: number;
  /** File size in bytes, per the manifest. */
  bytes: number;
  /** sha256 (hex), per the manifest. */
  sha256: string;
  /** Row fingerprint of the dataset rows [rowStart, rowEnd) the teacher read. */
  datasetFingerprint: string;
  /** NaN/Inf values the teacher produced for these rows (zeroed in the file under the `zero` policy). */
  nonFinite: number;
}

/** A store whose manifest has been read and validated. */
export interface OpenedStore {
  /** The store directory as given to {@link openStore}. */
  dir: string;
  manifest: StoreManifest;
  /** The encoding (manifest.encoding). */
  encoding: StoreEncoding;
  /** Captured splits, in manifest order. */
  splits(): string[];
  /** The shards of a split, in row order; a DataError for a split the store does not have. */
  shards(split: string): StoreShardEntry[];
  /**
   * Reads and decodes one shard to float32 (float16 is widened exactly). Checks the columns against
   * the encoding and the `row` column against the shard's row range (DataError naming the shard);
   * does not hash the file (see {@link verifyStore}).
   */
  readShard(split: string, index: number): Promise<ShardTargets>;
}

/**
 * Opens a store: reads `<dir>/manifest.json`, validates it against schemas/store-manifest.schema.json
 * and requires `status: "complete"` and shards that tile each split's rows. Any problem is a DataError
 * naming the file. Shards are not hashed here; call {@link verifyStore} for that.
 *
 * @example
 * const store = await openStore('artifacts/experiments/mnist-kd/store');
 * await verifyStore(store, ['train']);
 * const first = await store.readShard('train', 0); // first.logits: Float32Array(rows * C)
 */
export async function openStore(dir: string): Promise<OpenedStore> {
  const path = join(dir, STORE_MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT'
        ? `${path} does not exist: ${dir} is not a complete soft-target store (run \`distill teacher-logits -c <experiment>\`; an interrupted run resumes)`
        : `${path}: cannot read (${code ?? (err as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (value !== null && typeof value === 'object' && 'status' in value && value.status !== 'complete') {
    throw new DataError(`${path}: status is ${JSON.stringify(value.status)}, expected "complete"; the store is not finished`);
  }
  const problems = checkAgainstSchema('store-manifest', value);
  if (problems.length > 0) {
    throw new DataError(`${path} is not a valid store manifest:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
  }
  const manifest = value as StoreManifest;
  for (const [split, s] of Object.entries(manifest.splits)) {
    let next = 0;
    for (const [i, shard] of s.shards.entries()) {
      if (shard.index !== i || shard.rowStart !== next || shard.rowEnd <= shard.rowStart || shard.rowEnd - shard.rowStart > manifest.shardRows) {
        throw new DataError(`${path}: splits.${split}.shards[${i}] covers rows ${shard.rowStart}..${shard.rowEnd - 1} as index ${shard.index}; expected index ${i} from row ${next}, at most ${manifest.shardRows} rows`);
      }
      next = shard.rowEnd;
    }
    if (next !== s.rows) throw new DataError(`${path}: the shards of split "${split}" cover ${next} rows, but the split has ${s.rows}`);
  }
  const entries = (split: string): StoreShardEntry[] => {
    const s = manifest.splits[split];
    if (!s) throw new DataError(`store ${dir} has no split "${split}" (it has: ${Object.keys(manifest.splits).join(', ')})`);
    return s.shards.map((r) => ({
      index: r.index,
      path: join(dir, r.path),
      rowStart: r.rowStart,
      rowEnd: r.rowEnd,
      bytes: r.bytes,
      sha256: r.sha256,
      datasetFingerprint: r.datasetFingerprint,
      nonFinite: r.nonFinite,
    }));
  };
  return {
    dir,
    manifest,
    encoding: manifest.encoding,
    splits: () => Object.keys(manifest.splits),
    shards: entries,
    readShard: async (split, index) => {
      const entry = entries(split)[index];
      if (!entry) throw new DataError(`store ${dir}: split "${split}" has no shard ${index} (it has ${entries(split).length})`);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(entry.path);
      } catch (err) {
        throw new DataError(`${entry.path}: cannot read shard ${index} of split "${split}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      const table = decodeTable(bytes, manifest.format, entry.path);
      return decodeShard(table, manifest.encoding, { split, index, rowStart: entry.rowStart, rowEnd: entry.rowEnd, name: entry.path });
    },
  };
}

/**
 * Checks the size and sha256 of every shard of the listed splits (default: all) against the
 * manifest. Throws one IntegrityError listing every problem, each with the shard's path.
 */
export async function verifyStore(store: OpenedStore, splits?: readonly string[]): Promise<void> {
  const problems: string[] = [];
  for (const split of splits ?? store.splits()) {
    for (const shard of store.shards(split)) {
      try {
        const size = (await stat(shard.path)).size;
        if (size !== shard.bytes) {
          problems.push(`${shard.path} is ${size} bytes, the manifest says ${shard.bytes}`);
          continue;
        }
        const sha = await sha256File(shard.path);
        if (sha !== shard.sha256) problems.push(`${shard.path} has sha256 ${sha}, the manifest says ${shard.sha256}`);
      } catch (err) {
        problems.push(`${shard.path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
  }
  if (problems.length > 0) {
    throw new IntegrityError(`store ${store.dir} does not match its manifest (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
