/**
 * Opening and verifying a soft-target store (the read side; the teacher-logits stage writes it).
 * Readers (train-student, evaluate, verify, inspect) go through {@link openStore}: it validates the
 * manifest and gives the shards of each split, decoded to float32 by {@link OpenedStore.readShard}.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAgainstSchema } from '../config/validate-schema.ts';
import { DataError, IntegrityError } from '../errors.ts';
import { readJsonFileOrThrow } from '../io/read-json.ts';
import { sha256Bytes, sha256File } from '../io/sha256.ts';
import { decodeTable } from '../io/table-files.ts';
import { decodeShard } from './decode-shard.ts';
import type { ShardTargets, StoreEncoding } from './soft-target-store.ts';
import { STORE_MANIFEST } from './store-manifest.ts';
import type { StoreManifest, StoreShardRecord } from './store-manifest.ts';

/** One shard of a split, as a reader sees it: its manifest record, with the path made absolute. */
export interface StoreShardEntry extends Omit<StoreShardRecord, 'path' | 'nonFiniteRows'> {
  /** Absolute path of the shard file (the manifest records it relative to the store). */
  path: string;
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
   * Reads and decodes one shard to float32 (float16 is widened exactly). The bytes read must have the
   * manifest's sha256 (IntegrityError naming the shard; a damaged file is never decoded); checks the
   * columns against the encoding and the `row` column against the shard's row range (DataError
   * naming the shard). {@link verifyStore} checks every shard at once without decoding.
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
  const { value } = await readJsonFileOrThrow(
    path,
    `${dir} is not a complete soft-target store (run \`distill teacher-logits -c <experiment>\`; an interrupted run resumes)`,
  );
  if (value !== null && typeof value === 'object' && 'status' in value && value.status !== 'complete') {
    throw new DataError(`${path}: status is ${JSON.stringify(value.status)}, expected "complete"; the store is not finished`);
  }
  const problems = storeManifestProblems(value);
  if (problems.length > 0) {
    throw new DataError(`${path} is not a valid store manifest:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return openedStore(dir, value as StoreManifest);
}

/**
 * An {@link OpenedStore} over a manifest that is already parsed, without validating it (openStore
 * validates first; `distill verify` uses this to check the files of a manifest it found problems in).
 */
export function openedStore(dir: string, manifest: StoreManifest): OpenedStore {
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
      // Decode only the bytes the manifest vouches for: apache-arrow's IPC reader trusts the lengths
      // inside a file, and a damaged Arrow schema can make it loop for minutes (found by fuzzing).
      const sha = sha256Bytes(bytes);
      if (sha !== entry.sha256) throw new IntegrityError(`${entry.path}: shard ${index} of split "${split}" has sha256 ${sha}, the manifest says ${entry.sha256}`);
      const table = decodeTable(bytes, manifest.format, entry.path);
      return decodeShard(table, manifest.encoding, { split, index, rowStart: entry.rowStart, rowEnd: entry.rowEnd, name: entry.path });
    },
  };
}

/**
 * Every problem of a parsed store manifest, in order: schema problems (then nothing else is
 * checked), then, per split, shards that do not tile its rows (a gap, an overlap, a wrong index or
 * a shard over `shardRows` rows), shards that do not cover the split, and a split whose row count
 * differs from `dataset.splits`. Empty when the manifest is valid.
 */
export function storeManifestProblems(value: unknown): string[] {
  const schema = checkAgainstSchema('store-manifest', value);
  if (schema.length > 0) return schema.map((p) => p.message);
  const manifest = value as StoreManifest;
  const problems: string[] = [];
  if (manifest.status !== 'complete') problems.push(`status is ${JSON.stringify(manifest.status)}, expected "complete"; the store is not finished`);
  for (const [split, s] of Object.entries(manifest.splits)) {
    let next = 0;
    for (const [i, shard] of s.shards.entries()) {
      if (shard.index !== i || shard.rowStart !== next || shard.rowEnd <= shard.rowStart || shard.rowEnd - shard.rowStart > manifest.shardRows) {
        const what = shard.rowStart > next ? `a gap: rows ${next}..${shard.rowStart - 1} are in no shard` : shard.rowStart < next ? `an overlap: rows ${shard.rowStart}..${next - 1} are in two shards` : 'a wrong index or size';
        problems.push(`splits.${split}.shards[${i}] covers rows ${shard.rowStart}..${shard.rowEnd - 1} as index ${shard.index}; expected index ${i} from row ${next}, at most ${manifest.shardRows} rows (${what})`);
      }
      next = Math.max(next, shard.rowEnd);
    }
    if (next !== s.rows) problems.push(`the shards of split "${split}" cover ${next} rows, but the split has ${s.rows}`);
    const captured = manifest.dataset.splits[split];
    if (!captured) problems.push(`splits.${split} has no dataset.splits.${split} record (rows and fingerprint of the dataset split it was captured from)`);
    else if (captured.rows !== s.rows) problems.push(`splits.${split}.rows is ${s.rows}, but dataset.splits.${split}.rows is ${captured.rows}`);
  }
  return problems;
}

/** A shard whose file does not match the manifest. */
export interface ShardProblem {
  /** Absolute path of the shard. */
  file: string;
  problem: string;
}

/**
 * The size and sha256 of every shard of the listed splits (default: all) against the manifest:
 * every mismatch, missing or unreadable file, each with the shard's path (empty when all match).
 */
export async function checkStoreShards(store: OpenedStore, splits?: readonly string[]): Promise<ShardProblem[]> {
  const problems: ShardProblem[] = [];
  for (const split of splits ?? store.splits()) {
    for (const shard of store.shards(split)) {
      try {
        const size = (await stat(shard.path)).size;
        if (size !== shard.bytes) {
          problems.push({ file: shard.path, problem: `is ${size} bytes, the manifest says ${shard.bytes}` });
          continue;
        }
        const sha = await sha256File(shard.path);
        if (sha !== shard.sha256) problems.push({ file: shard.path, problem: `has sha256 ${sha}, the manifest says ${shard.sha256}` });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push({ file: shard.path, problem: code === 'ENOENT' ? 'is missing (ENOENT)' : `cannot be read (${code ?? (err as Error).message})` });
      }
    }
  }
  return problems;
}

/**
 * Checks the size and sha256 of every shard of the listed splits (default: all) against the
 * manifest. Throws one IntegrityError listing every problem, each with the shard's path.
 */
export async function verifyStore(store: OpenedStore, splits?: readonly string[]): Promise<void> {
  const problems = (await checkStoreShards(store, splits)).map((p) => `${p.file} ${p.problem}`);
  if (problems.length > 0) {
    throw new IntegrityError(`store ${store.dir} does not match its manifest (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
