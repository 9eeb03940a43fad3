/**
 * The steps the single writer and the workers of the teacher-logits stage share: refusing a store of
 * another capture, planning which shards to reuse or compute, computing them, and the manifest fields
 * every run records. Used by run-teacher-logits.ts.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { DataError } from '../../pipeline/errors.ts';
import type { SoftwareProvenance } from '../../pipeline/provenance.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import type { StoreManifest, StoreRuntime, StoreSplit, StoreTiming } from '../../pipeline/store/store-manifest.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import { removeTempFiles } from '../../pipeline/io/remove-temp-files.ts';
import { diffCaptureKeys, keyOfManifest } from './capture-key.ts';
import type { CaptureKey } from './capture-key.ts';
import { computeSplit } from './compute-split.ts';
import type { ComputeContext, ShardPlan } from './compute-split.ts';
import { nonFiniteError } from './non-finite.ts';
import { PARTS_DIR } from './part-manifest.ts';
import { partProblem, readPartRecord } from './part-record.ts';
import type { GlobalShard } from './worker-assignment.ts';

/** Store-relative path of shard i of a split. */
export const shardName = (split: string, i: number, format: string): string => `${split}/part-${String(i).padStart(5, '0')}.${format}`;

/** Everything a capture run works from. */
export interface CaptureContext extends ComputeContext {
  exp: LoadedExperiment;
  storeDir: string;
  /** The shards this run is responsible for: all of them, or a worker's. */
  shards: GlobalShard[];
  /** True for a single writer: it owns every shard and every leftover temporary file. */
  ownsStore: boolean;
  /** A worker's part manifest (store-relative, `parts/worker-<i>-of-<N>.json`); null for a single writer. */
  partManifest: string | null;
  /** The run's options (force). */
  opts: { force?: boolean };
  encoding: StoreEncoding;
  keyOf: (split: string) => CaptureKey;
  runtime: StoreRuntime;
  /** The manifest's software provenance, collected while the stage started (git runs asynchronously). */
  software: SoftwareProvenance;
}

/** A complete manifest of another capture makes the run refuse (unless force): the differing fields. */
export async function refuseOtherCapture(ctx: CaptureContext): Promise<StoreManifest | null> {
  const existing = await openStore(ctx.storeDir).catch(() => null);
  if (existing && !ctx.opts.force) {
    const diffs = ctx.cfg.splits.flatMap((s) => {
      const stored = keyOfManifest(existing.manifest, s);
      return stored ? diffCaptureKeys(stored, ctx.keyOf(s)).map((d) => `split ${s}: ${d}`) : [];
    });
    if (diffs.length > 0) throw refuse(ctx.storeDir, diffs);
  }
  return existing?.manifest ?? null;
}

/**
 * Which of this run's shards are complete (part record matches, sha256 verified) and which to
 * compute. Leftover temporary files of a killed run are removed: a worker's, those of its shards,
 * their part records and its part manifest; a single writer's, all (split folders, parts/, the
 * store's own files).
 */
export async function planShards(ctx: CaptureContext): Promise<ShardPlan[]> {
  const { cfg, storeDir } = ctx;
  const plans: ShardPlan[] = [];
  for (const split of cfg.splits) {
    await mkdir(join(storeDir, split), { recursive: true });
    const mine = ctx.shards.filter((g) => g.split === split).map((g) => basename(shardName(split, g.index, cfg.format)));
    await removeTempFiles(join(storeDir, split), (name) => ctx.ownsStore || mine.includes(name) || mine.includes(name.replace(/\.json$/, '')));
  }
  await removeTempFiles(join(storeDir, PARTS_DIR), (name) => ctx.ownsStore || `${PARTS_DIR}/${name}` === ctx.partManifest);
  if (ctx.ownsStore) await removeTempFiles(storeDir);
  for (const g of ctx.shards) {
    const relPath = shardName(g.split, g.index, cfg.format);
    const path = join(storeDir, relPath);
    const record = await readPartRecord(path);
    const problem = await partProblem(record, path, ctx.keyOf(g.split), g.rowStart, g.rowEnd);
    if (record && problem?.startsWith('made by another capture')) throw refuse(storeDir, [`${relPath} was ${problem}`]);
    if (problem === null && record!.shard.nonFinite > 0 && cfg.nonFinite === 'error') {
      throw nonFiniteError(g.split, record!.shard.nonFiniteRows); // stored under the zero policy earlier
    }
    plans.push({ split: g.split, index: g.index, relPath, path, rowStart: g.rowStart, rowEnd: g.rowEnd, reused: problem === null ? record!.shard : null });
  }
  return plans;
}

/** Computes the planned shards that are not reused; the per-split records and timings. */
export async function computePlans(ctx: CaptureContext, plans: ShardPlan[]): Promise<{ splits: Record<string, StoreSplit>; timing: StoreTiming }> {
  const { cfg, dataset, reporter } = ctx;
  const started = performance.now();
  const splits: Record<string, StoreSplit> = {};
  for (const split of cfg.splits) {
    const splitPlans = plans.filter((p) => p.split === split);
    const t0 = performance.now();
    const computed = await computeSplit(ctx, split, splitPlans, ctx.encoding, ctx.keyOf(split), ctx.runtime);
    const shards = splitPlans.map((p) => p.reused ?? computed.get(p.index)!);
    const rowsComputed = splitPlans.filter((p) => !p.reused).reduce((s, p) => s + p.rowEnd - p.rowStart, 0);
    splits[split] = { rows: dataset.splits[split]!.rows, shards, nonFinite: shards.reduce((s, r) => s + r.nonFinite, 0), timing: timing((performance.now() - t0) / 1000, rowsComputed) };
    if (splits[split].nonFinite > 0) reporter.warn(`split ${split}: ${splits[split].nonFinite} NaN/Inf teacher outputs in ${shards.reduce((s, r) => s + r.nonFiniteRows.length, 0)} rows were stored as 0 (nonFinite policy "zero"; rows listed in the manifest)`);
  }
  return { splits, timing: timing((performance.now() - started) / 1000, Object.values(splits).reduce((s, x) => s + x.timing.rowsComputed, 0)) };
}

/** The manifest fields every run shares: teacher, dataset, encoding, format, runtime, software, config. */
export function captureFields(ctx: CaptureContext): Omit<StoreManifest, 'formatVersion' | 'kind' | 'status' | 'createdAt' | 'splits' | 'timing'> {
  const { exp, cfg, dataset, teacher } = ctx;
  return {
    teacher: {
      sha256: teacher.sha256,
      path: displayPath(teacher.dir, exp.workspace),
      card: teacher.card.card,
      cardSha256: teacher.card.sha256,
      ...(teacher.reduced ? { graphReduction: { sha256: teacher.reduced.sha256, bytes: teacher.reduced.bytes, opsetVersion: teacher.reduced.opsetVersion, ops: teacher.reduced.ops } } : {}),
    },
    dataset: {
      name: dataset.name,
      path: displayPath(ctx.datasetDir, exp.workspace),
      splits: Object.fromEntries(cfg.splits.map((s) => [s, { rows: dataset.splits[s]!.rows, fingerprint: dataset.splits[s]!.fingerprint }])),
    },
    encoding: ctx.encoding,
    format: cfg.format,
    shardRows: cfg.shardRows,
    runtime: ctx.runtime,
    software: ctx.software,
    config: cfg,
    nonFinitePolicy: cfg.nonFinite,
  };
}

/** Seconds, rows computed and their rate. */
export function timing(seconds: number, rowsComputed: number): StoreTiming {
  return { seconds: Math.round(seconds * 1000) / 1000, rowsComputed, rowsPerSecond: seconds > 0 ? Math.round(rowsComputed / seconds) : 0 };
}

/** The DataError refusing a store of another capture, listing the differing fields. */
export function refuse(storeDir: string, diffs: string[]): DataError {
  return new DataError(
    `${storeDir} already holds soft targets of another capture (other teacher, dataset or encoding):\n${diffs.map((d) => `  - ${d}`).join('\n')}\n` +
      'it was left untouched; re-run with --force to replace it, or choose another teacherLogits.store',
  );
}
