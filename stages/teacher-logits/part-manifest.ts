/**
 * The part manifest of one worker of a sharded teacher-logits run: `<store>/parts/worker-<i>-of-<N>.json`,
 * written atomically when the worker has written all of its shards. It has the fields of a store
 * manifest (teacher, dataset, encoding, format, shardRows, runtime, software, config) with only the
 * worker's own shards, plus who the worker was. `distill finalize` merges them (finalize-store.ts).
 */
import { readJsonFile } from '../../pipeline/io/read-json.ts';
import { join } from 'node:path';
import { checkAgainstSchema } from '../../pipeline/config/validate-schema.ts';
import { STORE_KIND } from '../../pipeline/store/store-manifest.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import type { WorkerSource } from './worker-assignment.ts';

/** The resolved config file written into the store (by a single writer, or by finalize from the parts). */
export const STORE_CONFIG = 'config.resolved.json';

/** The folder of part manifests and worker locks inside a store. */
export const PARTS_DIR = 'parts';

/** The `kind` tag of a part manifest. */
export const PART_MANIFEST_KIND = 'distill.soft-targets.part-manifest';

/** Who wrote a part manifest. */
export interface PartWorker {
  /** Worker index i. */
  index: number;
  /** Number of workers N. */
  count: number;
  /** Where the index came from. */
  source: WorkerSource;
  /** The values it was resolved from, e.g. `SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=4`. */
  describe: string;
  host: string;
  pid: number;
}

/** `parts/worker-<i>-of-<N>.json`. `splits.<split>.shards` holds only the shards this worker owns. */
export interface PartManifest extends Omit<StoreManifest, 'kind' | 'status' | 'createdAt' | 'workers'> {
  kind: typeof PART_MANIFEST_KIND;
  worker: PartWorker;
  startedAt: string;
  finishedAt: string;
  /** What config.resolved.json of the store will hold (resolvedConfigRecord of the worker's experiment). */
  configRecord: Record<string, unknown>;
}

/** Store-relative path of worker i of N's part manifest. */
export function partManifestPath(worker: { index: number; count: number }): string {
  return `${PARTS_DIR}/worker-${worker.index}-of-${worker.count}.json`;
}

/** Store-relative path of worker i of N's lock. */
export function workerLockPath(worker: { index: number; count: number }): string {
  return `${PARTS_DIR}/worker-${worker.index}-of-${worker.count}.lock`;
}

/** Matches part manifest file names; groups: index, count. */
export const PART_MANIFEST_NAME = /^worker-(\d+)-of-(\d+)\.json$/;

/**
 * The problems of a parsed part manifest (empty when valid): its kind and worker fields, and every
 * store-manifest field checked against schemas/store-manifest.schema.json (shard records, encoding,
 * runtime...). Coverage is not checked here: a part holds only some shards.
 */
export function partManifestProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['is not a JSON object'];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  if (v.kind !== PART_MANIFEST_KIND) problems.push(`kind is ${JSON.stringify(v.kind)}, expected "${PART_MANIFEST_KIND}"`);
  const w = v.worker as Record<string, unknown> | undefined;
  if (!w || typeof w !== 'object') problems.push('worker is missing');
  else {
    if (!Number.isInteger(w.count) || (w.count as number) < 1) problems.push(`worker.count must be an integer >= 1, but got ${JSON.stringify(w.count)}`);
    if (!Number.isInteger(w.index) || (w.index as number) < 0 || (w.index as number) >= (w.count as number)) problems.push(`worker.index must be an integer in 0..worker.count-1, but got ${JSON.stringify(w.index)}`);
  }
  for (const f of ['startedAt', 'finishedAt']) if (typeof v[f] !== 'string') problems.push(`${f} must be a string, but got ${JSON.stringify(v[f])}`);
  if (v.configRecord === null || typeof v.configRecord !== 'object') problems.push('configRecord must be an object');
  const asManifest: Record<string, unknown> = { ...v, kind: STORE_KIND, status: 'complete', createdAt: typeof v.finishedAt === 'string' ? v.finishedAt : '' };
  for (const own of ['worker', 'startedAt', 'finishedAt', 'configRecord']) delete asManifest[own];
  problems.push(...checkAgainstSchema('store-manifest', asManifest).map((p) => p.message));
  return problems;
}

/** Reads and validates a part manifest; `{ problems }` when it is unreadable or invalid. */
export async function readPartManifest(storeDir: string, relPath: string): Promise<{ part: PartManifest } | { problems: string[] }> {
  const read = await readJsonFile(join(storeDir, relPath));
  if (!read.ok) return { problems: [read.problem] };
  const value = read.value;
  const problems = partManifestProblems(value);
  return problems.length > 0 ? { problems } : { part: value as PartManifest };
}
