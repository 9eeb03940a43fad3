/**
 * Provenance that holds: a store manifest checked against what was written at capture. The
 * teacher-logits stage writes each shard's part record (part-record.ts) right after the shard and
 * before the manifest, with the capture key (teacher sha256, card, dataset name and fingerprint,
 * encoding, format, shard rows) and the shard's record. Every consumer of a store (train-student;
 * evaluate and export through the run that names it; finalize) calls {@link checkStoreProvenance}, so an
 * edited manifest is refused with the field named instead of being trusted and copied into a run.
 */
import { join } from 'node:path';
import { IntegrityError } from '../errors.ts';
import { diffCaptureKeys, keyOfManifest } from './capture-key.ts';
import type { CaptureKey } from './capture-key.ts';
import { openStore } from './open-store.ts';
import type { OpenedStore } from './open-store.ts';
import { partRecordPath, readPartRecord } from './part-record.ts';
import { STORE_MANIFEST } from './store-manifest.ts';
import type { StoreShardRecord } from './store-manifest.ts';

/** The manifest field each capture-key field comes from (`<split>` replaced by the split). */
const MANIFEST_FIELD: Record<keyof CaptureKey, string> = {
  teacherSha256: 'teacher.sha256',
  cardSha256: 'teacher.cardSha256',
  cardContentSha256: 'teacher.card',
  dataset: 'dataset.name',
  split: 'dataset.splits',
  splitRows: 'dataset.splits.<split>.rows',
  splitFingerprint: 'dataset.splits.<split>.fingerprint',
  encoding: 'encoding',
  format: 'format',
  shardRows: 'shardRows',
  graphOptimization: 'runtime.graphOptimization',
  reducedModelSha256: 'teacher.graphReduction.sha256',
};

/** Shard record fields a part record vouches for. */
const SHARD_FIELDS = ['path', 'rowStart', 'rowEnd', 'bytes', 'sha256', 'datasetFingerprint', 'nonFinite'] as const satisfies readonly (keyof StoreShardRecord)[];

/**
 * Every difference between a store's manifest and the part records of its shards (all splits), as
 * lines naming the manifest field, what the manifest says and what was written at capture; a
 * missing or unreadable part record is a problem too (nothing to check the manifest against). Equal
 * lines of many shards are reported once with the number of shards. `shardFields: false` leaves out
 * the shard records (sha256, bytes, rows...), for a caller that compares those itself (verify).
 */
export async function storeProvenanceProblems(store: OpenedStore, opts: { shardFields?: boolean } = {}): Promise<string[]> {
  const found = new Map<string, string[]>();
  const add = (line: string, shard: string): void => void found.set(line, [...(found.get(line) ?? []), shard]);
  for (const split of store.splits()) {
    const key = keyOfManifest(store.manifest, split);
    const records = store.manifest.splits[split]!.shards;
    for (const [i, shard] of store.shards(split).entries()) {
      const rel = records[i]!.path;
      const part = await readPartRecord(shard.path);
      if (!part) {
        add(`${partRecordPath(rel)}: the part record written at capture is missing or unreadable, so the manifest cannot be checked (re-capture the store: distill teacher-logits --force)`, rel);
        continue;
      }
      if (key) {
        for (const d of diffCaptureKeys(part.key, key, ['at capture', 'manifest'])) {
          const field = d.slice(0, d.indexOf(':')) as keyof CaptureKey;
          add(`${MANIFEST_FIELD[field].replace('<split>', split)} (${field}): ${d.slice(d.indexOf(':') + 2)}`, rel);
        }
      }
      for (const f of opts.shardFields === false ? [] : SHARD_FIELDS) {
        if (records[i]![f] !== part.shard[f]) add(`splits.${split}.shards[${i}].${f}: manifest ${JSON.stringify(records[i]![f])}, at capture ${JSON.stringify(part.shard[f])}`, rel);
      }
    }
  }
  const total = store.splits().reduce((s, split) => s + store.shards(split).length, 0);
  return [...found].map(([line, shards]) => (shards.length > 1 ? `${line} [${shards.length} of ${total} shards]` : line.includes(shards[0]!) ? line : `${line} [${shards[0]}]`));
}

/**
 * Throws an IntegrityError when the store's manifest differs from what its part records say was
 * captured (see {@link storeProvenanceProblems}): the manifest was edited after capture, or belongs
 * to other shards. `consumer` says who checked, for the message (e.g. "train-student").
 *
 * @example
 * const store = await openStore('artifacts/experiments/mnist-kd/store');
 * await checkStoreProvenance(store, 'train-student');
 */
export async function checkStoreProvenance(store: OpenedStore, consumer: string): Promise<void> {
  const problems = await storeProvenanceProblems(store);
  if (problems.length === 0) return;
  throw new IntegrityError(
    `${join(store.dir, STORE_MANIFEST)} does not match what was written at capture (the part records next to its shards), checked by ${consumer}:\n` +
      `${problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'the manifest was edited after capture: restore it, or re-capture the store (distill teacher-logits --force)',
  );
}

/** What a student run records of the store it was trained from (RunManifest.inputs.store). */
export interface RecordedStore {
  manifestSha256: string;
  teacherSha256: string;
  encoding: unknown;
  splits: Record<string, { rows: number; fingerprint: string }>;
}

/**
 * For the consumers of a student run (evaluate, export): when the store the run was trained from is
 * still at `storeDir`, checks it against its part records ({@link checkStoreProvenance}) and against
 * what the run recorded of it (teacher sha256, encoding, split fingerprints), naming each differing
 * field. A store re-captured identically (another manifest sha256, same provenance) passes; `distill
 * verify <run>` reports the sha256 change. A store no longer on disk is not checked (returns false).
 */
export async function checkRecordedStore(recorded: RecordedStore, storeDir: string, consumer: string): Promise<boolean> {
  let store: OpenedStore;
  try {
    store = await openStore(storeDir);
  } catch (err) {
    if ((err as Error).message.includes('does not exist')) return false;
    throw err;
  }
  await checkStoreProvenance(store, consumer);
  const m = store.manifest;
  const canon = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
  const diffs: string[] = [];
  if (m.teacher.sha256 !== recorded.teacherSha256) diffs.push(`teacher.sha256: manifest ${m.teacher.sha256}, the run recorded ${recorded.teacherSha256}`);
  if (canon(m.encoding) !== canon(recorded.encoding)) diffs.push(`encoding: manifest ${canon(m.encoding)}, the run recorded ${canon(recorded.encoding)}`);
  for (const [split, rec] of Object.entries(recorded.splits)) {
    const now = m.dataset.splits[split];
    if (!now || now.fingerprint !== rec.fingerprint || now.rows !== rec.rows) diffs.push(`dataset.splits.${split}: manifest ${now ? `${now.fingerprint} (${now.rows} rows)` : 'absent'}, the run recorded ${rec.fingerprint} (${rec.rows} rows)`);
  }
  if (diffs.length > 0) {
    throw new IntegrityError(
      `${join(storeDir, STORE_MANIFEST)} is not the store the run was trained from (checked by ${consumer}):\n${diffs.map((d) => `  - ${d}`).join('\n')}\n` +
        'the store was re-captured from another teacher, dataset or encoding since training: retrain the student, or restore the store',
    );
  }
  return true;
}
