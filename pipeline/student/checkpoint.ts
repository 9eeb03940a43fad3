import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { atomicWrite, atomicWriteJson } from '../io/atomic-write.ts';
import { sha256Bytes } from '../io/sha256.ts';
import { readJsonFile } from '../io/read-json.ts';

/** One saved array: name, shape, dtype and values. */
export interface SavedArray {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

/** One epoch's record kept in checkpoints and the run manifest. */
export interface EpochRecord {
  epoch: number;
  /** Wall-clock seconds of the epoch's training steps (evaluation excluded). */
  trainSeconds: number;
  /** Wall-clock seconds of the per-epoch evaluation. */
  evalSeconds: number;
  /** Training examples / trainSeconds. */
  examplesPerSecond: number;
}

/** What a checkpoint holds besides the arrays. */
export interface CheckpointMeta {
  formatVersion: 1;
  kind: 'distill.student-checkpoint';
  /** Epochs completed. */
  epoch: number;
  /** sha256 of the resolved config with train.epochs removed: a resume must match it. */
  configKey: string;
  /** The RNG state: every draw derives from (seed, epoch, step), so the next epoch is all that is needed. */
  rng: { seed: number; nextEpoch: number };
  /** Optimizer steps taken. */
  steps: number;
  epochs: EpochRecord[];
  /** Byte file beside this one and its sha256. */
  data: { file: string; sha256: string; bytes: number };
  /** The arrays in the data file, in order: model weights then optimizer state. */
  weights: ArrayEntry[];
  optimizer: ArrayEntry[];
}

/** Where one array sits in the data file. */
export interface ArrayEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  length: number;
}

/** A checkpoint read back. */
export interface Checkpoint {
  meta: CheckpointMeta;
  weights: SavedArray[];
  optimizer: SavedArray[];
}

/** The folder of checkpoints inside a run. */
export const CHECKPOINT_DIR = 'checkpoints';

const pad = (epoch: number): string => String(epoch).padStart(4, '0');

function pack(arrays: readonly SavedArray[], start: number): { entries: ArrayEntry[]; bytes: Uint8Array[]; end: number } {
  let offset = start;
  const entries: ArrayEntry[] = [];
  const bytes: Uint8Array[] = [];
  for (const a of arrays) {
    const b = new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength);
    entries.push({ name: a.name, shape: a.shape, dtype: a.dtype, offset, length: a.values.length });
    bytes.push(b);
    offset += b.byteLength;
  }
  return { entries, bytes, end: offset };
}

/**
 * Writes the checkpoint of epoch `meta.epoch` atomically: `epoch-NNNN.bin` (weights, then optimizer
 * arrays, little-endian) and then `epoch-NNNN.json` naming the bin and its sha256. A crash leaves at
 * most an orphan bin; the json appears only once the bin is durable. Older checkpoints are removed
 * afterwards, keeping the last `keep` (default 1).
 */
export async function writeCheckpoint(
  runDir: string,
  meta: Omit<CheckpointMeta, 'data' | 'weights' | 'optimizer' | 'formatVersion' | 'kind'>,
  weights: readonly SavedArray[],
  optimizer: readonly SavedArray[],
  keep = 1,
): Promise<string> {
  const dir = join(runDir, CHECKPOINT_DIR);
  const w = pack(weights, 0);
  const o = pack(optimizer, w.end);
  const data = Buffer.concat([...w.bytes, ...o.bytes]);
  const file = `epoch-${pad(meta.epoch)}.bin`;
  await atomicWrite(join(dir, file), data);
  const full: CheckpointMeta = { formatVersion: 1, kind: 'distill.student-checkpoint', ...meta, data: { file, sha256: sha256Bytes(data), bytes: data.byteLength }, weights: w.entries, optimizer: o.entries };
  const json = join(dir, `epoch-${pad(meta.epoch)}.json`);
  await atomicWriteJson(json, full);
  const names = await readdir(dir);
  const epochs = [...new Set(names.map((n) => /^epoch-(\d+)\.json$/.exec(n)?.[1]).filter((e): e is string => e !== undefined).map(Number))].sort((a, b) => b - a);
  for (const e of epochs.slice(keep)) {
    await rm(join(dir, `epoch-${pad(e)}.json`), { force: true });
    await rm(join(dir, `epoch-${pad(e)}.bin`), { force: true });
  }
  return json;
}

function unpack(data: Buffer, entries: readonly ArrayEntry[], where: string): SavedArray[] {
  if (!Array.isArray(entries)) throw new DataError(`${where}: the array list is ${JSON.stringify(entries)}, expected an array of {name, shape, dtype, offset, length}`);
  return entries.map((e) => {
    const bytes = e?.length * 4;
    if (!Number.isSafeInteger(e?.offset) || !Number.isSafeInteger(bytes) || e.offset < 0 || bytes < 0 || (e.dtype !== 'float32' && e.dtype !== 'int32')) {
      throw new DataError(`${where}: array entry ${JSON.stringify(e)} is not {name, shape, dtype: float32|int32, offset >= 0, length >= 0}`);
    }
    if (e.offset + bytes > data.byteLength) throw new DataError(`${where}: array ${e.name} runs past the end of the data file`);
    const copy = new Uint8Array(bytes);
    copy.set(data.subarray(e.offset, e.offset + bytes));
    return { name: e.name, shape: e.shape, dtype: e.dtype, values: e.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer) };
  });
}

/**
 * The latest complete checkpoint of a run (highest epoch whose json exists and whose bin matches its
 * sha256), or null when there is none. A json whose bin does not match is an IntegrityError-like
 * DataError naming both hashes.
 */
export async function readLatestCheckpoint(runDir: string): Promise<Checkpoint | null> {
  const dir = join(runDir, CHECKPOINT_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  const latest = names.filter((n) => /^epoch-\d+\.json$/.test(n)).sort().pop();
  if (!latest) return null;
  const where = join(dir, latest);
  const read = await readJsonFile(where);
  if (!read.ok) throw new DataError(`${where} ${read.problem}; remove the checkpoint or re-run with --force`);
  const meta = read.value as CheckpointMeta;
  if (meta?.kind !== 'distill.student-checkpoint') throw new DataError(`${where}: kind is ${JSON.stringify(meta?.kind)}, expected "distill.student-checkpoint"`);
  if (typeof meta.data?.file !== 'string' || !/^epoch-\d+\.bin$/.test(meta.data.file)) throw new DataError(`${where}: data.file is ${JSON.stringify(meta.data?.file)}, expected "epoch-NNNN.bin"`);
  let data: Buffer;
  try {
    data = await readFile(join(dir, meta.data.file));
  } catch (err) {
    throw new DataError(`${join(dir, meta.data.file)}: cannot read the checkpoint data (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const sha = sha256Bytes(data);
  if (sha !== meta.data.sha256) throw new DataError(`${join(dir, meta.data.file)}: sha256 is ${sha}, the checkpoint ${latest} says ${meta.data.sha256}; remove the checkpoint or re-run with --force`);
  return { meta, weights: unpack(data, meta.weights, where), optimizer: unpack(data, meta.optimizer, where) };
}
