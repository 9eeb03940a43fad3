/**
 * `distill finalize <store>`: merges the part manifests of a sharded teacher-logits run into the
 * store manifest, after checking that together they are exactly what one worker would have written.
 * See docs/scale-out.md.
 */
import { withBytesPerToken } from '../../pipeline/store/bytes-per-token.ts';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAgainstSchema } from '../../pipeline/config/validate-schema.ts';
import { DataError } from '../../pipeline/errors.ts';
import { atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { removeTempFiles } from '../../pipeline/io/remove-temp-files.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { checkStoreProvenance } from '../../pipeline/store/check-store-provenance.ts';
import { openedStore, openStore } from '../../pipeline/store/open-store.ts';
import { STORE_KIND, STORE_MANIFEST } from '../../pipeline/store/store-manifest.ts';
import type { StoreManifest, StoreShardRecord, StoreSplit, StoreTiming } from '../../pipeline/store/store-manifest.ts';
import { diffCaptureKeys, keyOfManifest } from './capture-key.ts';
import type { CaptureKey } from './capture-key.ts';
import { PART_MANIFEST_NAME, PARTS_DIR, STORE_CONFIG, readPartManifest } from './part-manifest.ts';
import type { PartManifest } from './part-manifest.ts';
import { checkClaimedShards, claimShards } from './shard-coverage.ts';
import type { ClaimedShard, LoadedPart } from './shard-coverage.ts';
import { lockStoreWriter } from './store-locks.ts';

/** What {@link finalizeStore} did. */
export interface FinalizeResult {
  manifest: StoreManifest;
  /** False when manifest.json already held exactly this manifest (finalize is idempotent). */
  written: boolean;
  /** Part manifests merged (0 for a store a single writer completed). */
  parts: number;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The capture keys of a part's splits, in one comparable string. */
function keysOf(part: PartManifest): { splits: string[]; keys: CaptureKey[]; id: string } {
  const splits = Object.keys(part.dataset.splits);
  const keys = splits.map((s) => keyOfManifest(part, s)!);
  return { splits, keys, id: JSON.stringify([splits, keys]) };
}

/**
 * Merges `<store>/parts/worker-<i>-of-<N>.json` into `<store>/manifest.json` (and config.resolved.json).
 *
 * Checks, all reported together in one DataError (nothing is written then): every part manifest is
 * valid and named after its worker; all parts come from one run (one worker count, no worker
 * missing) and one capture (teacher sha256, card sha256, dataset name, split rows and fingerprints,
 * encoding, format, shardRows: the part that differs from the majority is named, with the fields);
 * every row range of every split is covered by exactly one shard (missing ranges and duplicates
 * named); every shard's size and sha256 equal its record. Then writes the manifest a single writer
 * would have written, plus `workers` (each worker's host, runtime and timing). Idempotent: the
 * manifest is built from the parts alone (createdAt = the last part's finishedAt), and an identical
 * manifest.json is left untouched. Takes the store's single-writer lock; refuses while a worker runs.
 *
 * @example
 * const { manifest, written } = await finalizeStore('artifacts/experiments/mnist-kd/store', reporter);
 */
export async function finalizeStore(storeDir: string, reporter: Reporter): Promise<FinalizeResult> {
  try {
    if (!(await stat(storeDir)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new DataError(`${storeDir} is not a store directory (it does not exist or is not a directory)`);
  }
  const lock = await lockStoreWriter(storeDir, 'distill finalize');
  try {
    // A finalize killed mid-write left a temporary config.resolved.json or manifest.json (no worker runs now).
    await removeTempFiles(storeDir, (name) => name === STORE_MANIFEST || name === STORE_CONFIG);
    return await finalizeLocked(storeDir, reporter);
  } finally {
    await lock.release();
  }
}

/** The part manifests in parts/, by worker count then worker index. */
async function partManifestNames(storeDir: string): Promise<string[]> {
  const names = (await readdir(join(storeDir, PARTS_DIR)).catch(() => [] as string[])).filter((f) => PART_MANIFEST_NAME.test(f));
  return names.sort((a, b) => {
    const [, ia, na] = PART_MANIFEST_NAME.exec(a)!;
    const [, ib, nb] = PART_MANIFEST_NAME.exec(b)!;
    return Number(na) - Number(nb) || Number(ia) - Number(ib);
  });
}

/** Step 1: reads every part manifest; an invalid one, or one not named after its worker, is a problem. */
async function loadParts(storeDir: string, names: readonly string[], problems: string[]): Promise<LoadedPart[]> {
  const parts: LoadedPart[] = [];
  for (const name of names) {
    const path = `${PARTS_DIR}/${name}`;
    const read = await readPartManifest(storeDir, path);
    if ('problems' in read) {
      problems.push(...read.problems.map((p) => `${path} ${p.startsWith('cannot') || p.startsWith('is ') ? p : `is not a valid part manifest: ${p}`}`));
      continue;
    }
    const [, i, n] = PART_MANIFEST_NAME.exec(name)!;
    if (read.part.worker.index !== Number(i) || read.part.worker.count !== Number(n)) {
      problems.push(`${path} holds the part of worker ${read.part.worker.index} of ${read.part.worker.count}, not of worker ${i} of ${n} as its name says`);
      continue;
    }
    parts.push({ path, part: read.part });
  }
  return parts;
}

/** Step 2: one run: one worker count, every worker present. */
function checkOneRun(parts: readonly LoadedPart[], problems: string[]): void {
  const counts = [...new Set(parts.map((p) => p.part.worker.count))];
  if (counts.length > 1) {
    problems.push(
      `the part manifests come from runs with different numbers of workers (${counts.map((c) => `${c}: ${parts.filter((p) => p.part.worker.count === c).map((p) => p.path).join(', ')}`).join('; ')}); ` +
        'delete the part manifests (and their shards, if their capture differs) of the run you do not want',
    );
  }
  for (const count of counts) {
    for (let i = 0; i < count; i++) {
      if (!parts.some((p) => p.part.worker.count === count && p.part.worker.index === i)) {
        problems.push(`worker ${i} of ${count} has no part manifest (${PARTS_DIR}/worker-${i}-of-${count}.json): it has not finished; re-run it (its complete shards are reused)`);
      }
    }
  }
}

/**
 * Step 3: one capture: the key most parts share (ties: the lowest worker's) is the reference; every
 * other part is a problem naming the fields that differ. Returns the reference group.
 */
function referenceGroup(parts: readonly LoadedPart[], problems: string[]): LoadedPart[] {
  const groups = new Map<string, LoadedPart[]>();
  for (const p of parts) groups.set(keysOf(p.part).id, [...(groups.get(keysOf(p.part).id) ?? []), p]);
  const refGroup = [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  const ref = refGroup[0];
  if (!ref) return refGroup;
  const refKeys = keysOf(ref.part);
  const others = refGroup.map((p) => p.path).join(', ');
  for (const p of parts.filter((x) => !refGroup.includes(x))) {
    const mine = keysOf(p.part);
    const diffs =
      mine.splits.join(',') !== refKeys.splits.join(',')
        ? [`splits: this part [${mine.splits.join(', ')}], the others [${refKeys.splits.join(', ')}]`]
        : refKeys.keys.flatMap((k, i) => diffCaptureKeys(k, mine.keys[i]!, ['the others', 'this part']).map((d) => `split ${refKeys.splits[i]}: ${d}`));
    const teacher = p.part.teacher.sha256 !== ref.part.teacher.sha256 ? ` (teacher sha256 ${p.part.teacher.sha256}, not ${ref.part.teacher.sha256})` : '';
    problems.push(`${p.path} was made by another capture than ${others}${teacher}:\n      ${diffs.join('\n      ')}`);
  }
  return refGroup;
}

/** Step 5: writes config.resolved.json and manifest.json unless they already hold exactly these. */
async function writeMerged(storeDir: string, refGroup: LoadedPart[], claimed: ClaimedShard[], reporter: Reporter): Promise<FinalizeResult> {
  const ref = refGroup[0]!;
  const manifest = mergedManifest(refGroup.sort((a, b) => a.part.worker.index - b.part.worker.index), claimed);
  const schemaProblems = checkAgainstSchema('store-manifest', manifest);
  if (schemaProblems.length > 0) throw new Error(`finalize built an invalid store manifest: ${schemaProblems.map((p) => p.message).join('; ')}`);
  await checkStoreProvenance(openedStore(storeDir, manifest), 'finalize (the part manifests against the part records)');
  const manifestText = JSON.stringify(manifest, null, 2) + '\n';
  const configText = JSON.stringify(ref.part.configRecord, null, 2) + '\n';
  const current = await Promise.all([readFile(join(storeDir, STORE_MANIFEST), 'utf8').catch(() => null), readFile(join(storeDir, STORE_CONFIG), 'utf8').catch(() => null)]);
  const rows = Object.values(manifest.splits).reduce((s, x) => s + x.rows, 0);
  if (current[0] === manifestText && current[1] === configText) {
    reporter.info(`${storeDir} is already finalized: manifest.json matches the ${plural(refGroup.length, 'part manifest')} (${rows} rows, ${claimed.length} shards verified); nothing written`);
    return { manifest, written: false, parts: refGroup.length };
  }
  await atomicWriteJson(join(storeDir, STORE_CONFIG), ref.part.configRecord);
  await atomicWriteJson(join(storeDir, STORE_MANIFEST), manifest);
  return { manifest, written: true, parts: refGroup.length };
}

/** The merge under the store's lock: the checks of {@link finalizeStore} in order, then the write. */
async function finalizeLocked(storeDir: string, reporter: Reporter): Promise<FinalizeResult> {
  const names = await partManifestNames(storeDir);
  if (names.length === 0) {
    const complete = await openStore(storeDir).catch(() => null);
    if (complete) {
      await checkStoreProvenance(complete, 'finalize');
      reporter.info(`${storeDir} has no part manifests and a complete manifest.json (written by a single writer or finalized earlier with its parts removed); nothing to finalize`);
      return { manifest: complete.manifest, written: false, parts: 0 };
    }
    throw new DataError(`cannot finalize ${storeDir}: ${join(storeDir, PARTS_DIR)} holds no part manifests (worker-<i>-of-<N>.json); run the workers first (distill teacher-logits --num-shards N --shard-index i)`);
  }
  const problems: string[] = [];
  const parts = await loadParts(storeDir, names, problems);
  checkOneRun(parts, problems);
  const refGroup = referenceGroup(parts, problems);
  const ref = refGroup[0];
  // Step 4: every row range of every split exactly once; then the bytes of every claimed shard.
  const claimed = ref ? claimShards(refGroup, ref.part, problems) : [];
  await checkClaimedShards(storeDir, claimed, problems);
  if (problems.length > 0 || !ref) {
    throw new DataError(
      `cannot finalize ${storeDir}: ${plural(problems.length, 'problem')}; nothing was written:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'a failed worker is simply re-run (its complete shards are reused); part manifests of another run or capture must be deleted; then run distill finalize again',
    );
  }
  return writeMerged(storeDir, refGroup, claimed, reporter);
}

function totalTiming(timings: StoreTiming[]): StoreTiming {
  const seconds = Math.max(0, ...timings.map((t) => t.seconds));
  const rowsComputed = timings.reduce((s, t) => s + t.rowsComputed, 0);
  return { seconds, rowsComputed, rowsPerSecond: seconds > 0 ? Math.round(rowsComputed / seconds) : 0 };
}

/** The store manifest of checked parts (sorted by worker index): what a single writer would have written, plus `workers`. */
function mergedManifest(parts: LoadedPart[], claimed: { record: StoreShardRecord }[]): StoreManifest {
  const ref = parts[0]!.part;
  const splits: Record<string, StoreSplit> = {};
  for (const [split, { rows }] of Object.entries(ref.dataset.splits)) {
    const shards = claimed.filter((c) => c.record.path.startsWith(`${split}/`)).map((c) => c.record).sort((a, b) => a.index - b.index);
    splits[split] = { rows, shards, nonFinite: shards.reduce((s, r) => s + r.nonFinite, 0), timing: totalTiming(parts.map((p) => p.part.splits[split]!.timing)) };
  }
  return {
    formatVersion: 1,
    kind: STORE_KIND,
    status: 'complete',
    createdAt: parts.map((p) => p.part.finishedAt).sort().at(-1)!,
    teacher: ref.teacher,
    dataset: ref.dataset,
    encoding: withBytesPerToken(ref.encoding, splits),
    format: ref.format,
    shardRows: ref.shardRows,
    runtime: ref.runtime,
    software: ref.software,
    config: ref.config,
    nonFinitePolicy: parts.some((p) => p.part.nonFinitePolicy === 'zero') ? 'zero' : 'error',
    splits,
    timing: totalTiming(parts.map((p) => p.part.timing)),
    workers: {
      count: ref.worker.count,
      parts: parts.map(({ path, part }) => ({
        index: part.worker.index,
        path,
        host: part.worker.host,
        source: part.worker.source,
        runtime: part.runtime,
        software: part.software,
        startedAt: part.startedAt,
        finishedAt: part.finishedAt,
        timing: part.timing,
        shards: Object.values(part.splits).reduce((s, x) => s + x.shards.length, 0),
      })),
    },
  };
}
