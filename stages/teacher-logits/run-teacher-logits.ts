/**
 * The teacher-logits stage: runs the ONNX teacher once over the configured dataset splits and writes
 * the soft-target store (pipeline/store/soft-target-store.ts, docs/store-format.md), either as a
 * single writer ({@link runTeacherLogits}) or as one worker of a sharded run ({@link runTeacherWorker},
 * docs/scale-out.md).
 */
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { resolveInWorkspace, resolvedConfigRecord } from '../../pipeline/config/load-experiment.ts';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import type { TeacherLogitsSection } from '../../pipeline/config/experiment-config.ts';
import { getSplit, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { verifyDatasetFiles } from '../../pipeline/dataset/verify-dataset.ts';
import { workerSessionFactory } from '../../pipeline/engines/onnxruntime-worker-client.ts';
import type { SessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { withBytesPerToken } from '../../pipeline/store/bytes-per-token.ts';
import { STORE_KIND, STORE_MANIFEST } from '../../pipeline/store/store-manifest.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import { checkDatasetBindings, checkModelBindings } from '../../pipeline/teacher/check-bindings.ts';
import { resolveSequenceCard, sequenceLayout } from '../../pipeline/teacher/sequence-card.ts';
import type { SequenceLayout } from '../../pipeline/teacher/sequence-card.ts';
import { graphReduction, outputRowBytes, rowsPerCall } from './batch-rows.ts';
import { checkDenseBudget } from './dense-budget.ts';
import { resolveViews } from './resolve-views.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import { loadTeacher } from '../../pipeline/teacher/load-teacher.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import { cardContentSha256, diffCaptureKeys, keyOfManifest } from './capture-key.ts';
import { captureFields, computePlans, planShards, refuseOtherCapture, shardName } from './capture-steps.ts';
import type { CaptureContext } from './capture-steps.ts';
import type { ShardPlan } from './compute-split.ts';
import { PART_MANIFEST_KIND, PART_MANIFEST_NAME, PARTS_DIR, STORE_CONFIG, partManifestPath, readPartManifest } from './part-manifest.ts';
import type { PartManifest } from './part-manifest.ts';
import { partRecordPath } from './part-record.ts';
import { softwareProvenanceAsync } from '../../pipeline/provenance.ts';
import { lockStoreWriter, lockWorker } from './store-locks.ts';
import { globalShards, ownedShards } from './worker-assignment.ts';
import type { GlobalShard, WorkerAssignment } from './worker-assignment.ts';

/** Options of {@link runTeacherLogits} and {@link runTeacherWorker}. */
export interface TeacherLogitsOptions {
  /**
   * Recompute everything, replacing whatever the store directory holds. For a worker: recompute only
   * the shards it owns (the rest of the store is left alone). Default false.
   */
  force?: boolean;
  /**
   * Creates the ONNX Runtime session. Default: a session in a worker thread (workerSessionFactory),
   * so that encoding and writing overlap with inference. Tests inject fakes here.
   */
  sessionFactory?: SessionFactory;
  /** session.run calls kept in flight (queued on the worker). Default 3. */
  inFlight?: number;
}

export { STORE_CONFIG } from './part-manifest.ts';

/** Builds the store encoding from the config and the teacher's class count. */
function storeEncoding(cfg: TeacherLogitsSection, classes: number, seq: SequenceLayout | null): StoreEncoding {
  const e = cfg.encoding;
  const positions = seq ? { positions: seq.positions, target: seq.target } : {};
  if (e.mode === 'dense') return { mode: 'dense', precision: e.precision, classes, ...positions };
  if (e.mode === 'sampled') {
    const samples = e.samples ?? 12;
    return { mode: 'sampled', precision: e.precision, classes, temperature: e.temperature, samples, slots: Math.min(samples, classes), seed: e.seed ?? 0, ...positions };
  }
  if (e.k > classes) throw new ConfigError(`teacherLogits.encoding.k must be at most the teacher's ${classes} classes, but got ${e.k}`);
  return { mode: 'topk', precision: e.precision, classes, k: e.k, temperature: e.temperature, ...positions };
}

interface StagePaths {
  cfg: TeacherLogitsSection;
  storeDir: string;
  teacherDir: string;
  datasetDir: string;
}

function stagePaths(exp: LoadedExperiment): StagePaths {
  const cfg = exp.config.teacherLogits;
  if (!cfg) throw new ConfigError(`${displayPath(exp.file)}: the teacher-logits stage needs a "teacherLogits" section (at least teacherLogits.store)`);
  if (!exp.config.teacher) throw new ConfigError(`${displayPath(exp.file)}: the teacher-logits stage needs a "teacher" section (teacher.path)`);
  return {
    cfg,
    storeDir: resolveInWorkspace(exp.workspace, 'teacherLogits.store', cfg.store),
    teacherDir: resolveInWorkspace(exp.workspace, 'teacher.path', exp.config.teacher.path),
    datasetDir: resolveInWorkspace(exp.workspace, 'dataset.path', exp.config.dataset.path),
  };
}

/**
 * Runs the teacher over the configured splits and writes the soft-target store; returns its manifest.
 *
 * In order: lock the store (a second writer, or a live worker of a sharded run, gets a LockError);
 * verify the dataset files' sha256; load the teacher (card, model sha256, session on the requested
 * device, bindings vs the model and the dataset); refuse a store made by another capture unless
 * `force`; verify and reuse complete shards whose part record matches (resume, also of shards that
 * sharded workers wrote); run the rest in batches, ORT working on the next batches in a worker thread
 * while this thread encodes and writes; write config.resolved.json and, last, manifest.json. Never
 * prints: progress and notices go through `reporter`.
 *
 * @example
 * const exp = await loadExperiment('artifacts/experiments/mnist-kd/experiment.json');
 * const manifest = await runTeacherLogits(exp, {}, reporter);
 * manifest.splits.train.shards.length; // 6 for 60,000 rows at shardRows 10,000
 */
export async function runTeacherLogits(exp: LoadedExperiment, opts: TeacherLogitsOptions, reporter: Reporter): Promise<StoreManifest> {
  const paths = stagePaths(exp);
  await mkdir(paths.storeDir, { recursive: true });
  const lock = await lockStoreWriter(paths.storeDir, 'distill teacher-logits');
  try {
    return await withTeacher(exp, paths, null, opts, reporter, captureStore);
  } finally {
    await lock.release();
  }
}

/**
 * Runs one worker of a sharded capture (docs/scale-out.md): the same as {@link runTeacherLogits} for
 * the shards that worker `worker.index` of `worker.count` owns (round-robin over the global shard
 * list, worker-assignment.ts), and writes `parts/worker-<i>-of-<N>.json` instead of the store
 * manifest; `distill finalize` merges the parts. Locks only `parts/worker-<i>-of-<N>.lock`, so
 * workers run side by side; verifies only the dataset files its shards read. Re-running a worker
 * reuses its complete shards.
 *
 * @example
 * const part = await runTeacherWorker(exp, { index: 1, count: 3, source: 'flags', describe: '--shard-index 1, --num-shards 3' }, {}, reporter);
 * part.splits.train.shards.map((s) => s.index); // [1, 4, ...] when train comes first
 */
export async function runTeacherWorker(exp: LoadedExperiment, worker: WorkerAssignment, opts: TeacherLogitsOptions, reporter: Reporter): Promise<PartManifest> {
  const paths = stagePaths(exp);
  await mkdir(paths.storeDir, { recursive: true });
  const lock = await lockWorker(paths.storeDir, worker, `distill teacher-logits worker ${worker.index} of ${worker.count}`);
  try {
    reporter.info(`worker ${worker.index} of ${worker.count} (${worker.describe})`);
    return await withTeacher(exp, paths, worker, opts, reporter, (ctx) => captureWorker(ctx, worker));
  } finally {
    await lock.release();
  }
}

/** The dataset manifest restricted to the files that the given shards read (for a worker's sha256 check). */
function datasetSubset(dataset: DatasetManifest, shards: readonly GlobalShard[]): DatasetManifest {
  const splits = Object.fromEntries(
    Object.entries(dataset.splits).map(([name, s]) => [name, { ...s, files: s.files.filter((f) => shards.some((g) => g.split === name && g.rowStart < f.rowEnd && f.rowStart < g.rowEnd)) }]),
  );
  return { ...dataset, splits };
}

async function withTeacher<T>(
  exp: LoadedExperiment,
  paths: StagePaths,
  worker: WorkerAssignment | null,
  opts: TeacherLogitsOptions,
  reporter: Reporter,
  fn: (ctx: CaptureContext) => Promise<T>,
): Promise<T> {
  const { cfg, storeDir, datasetDir, teacherDir } = paths;
  const software = softwareProvenanceAsync(); // git runs while the dataset and the model are checked
  const dataset = await readDatasetManifest(datasetDir);
  for (const s of cfg.splits) getSplit(dataset, s, join(datasetDir, 'manifest.json'));
  const all = globalShards(cfg.splits.map((split) => ({ split, rows: dataset.splits[split]!.rows })), cfg.shardRows);
  const shards = worker ? ownedShards(all, worker) : all;
  reporter.info(`verifying dataset ${displayPath(datasetDir, exp.workspace)} (${cfg.splits.join(', ')}${worker ? `: the files of this worker's ${shards.length} of ${all.length} shards` : ''})`);
  await verifyDatasetFiles(datasetDir, worker ? datasetSubset(dataset, shards) : dataset, cfg.splits);
  const reduction = graphReduction(cfg);
  const teacher: LoadedTeacher = await loadTeacher(
    teacherDir,
    { device: cfg.device, intraOpThreads: cfg.intraOpThreads, graphOptimization: cfg.graphOptimization, factory: opts.sessionFactory ?? workerSessionFactory },
    reporter,
    reduction ?? undefined,
  );
  try {
    const sequence = sequenceLayout(teacher.card.card, dataset, teacher.card.path, datasetDir);
    const card = sequence ? resolveSequenceCard(teacher.card.card, sequence.context) : teacher.card.card;
    if (sequence) checkModelBindings(card, teacher.opened.session.inputMetadata, teacher.opened.session.outputMetadata, teacher.modelPath);
    checkDatasetBindings(card, dataset, teacher.card.path, datasetDir);
    const views = resolveViews(cfg, card, dataset, sequence);
    const encoding: StoreEncoding = { ...storeEncoding(cfg, teacher.card.card.classes.count, sequence), ...(views ? { views } : {}) };
    checkDenseBudget(cfg, encoding, dataset);
    const batchRows = rowsPerCall(cfg, encoding, sequence);
    if (cfg.maxBatchBytes !== undefined && sequence) {
      reporter.info(`batch size from teacherLogits.maxBatchBytes ${cfg.maxBatchBytes}: ${batchRows} rows per call (one row of the [batch, ${sequence.context}, ${encoding.classes}] float32 output is ${outputRowBytes(sequence, encoding.classes)} bytes)`, { batchSize: batchRows });
    }
    const ctx: CaptureContext = {
      exp,
      cfg,
      storeDir,
      datasetDir,
      dataset,
      teacher,
      reporter,
      shards,
      ownsStore: worker === null,
      partManifest: worker === null ? null : partManifestPath(worker),
      opts,
      encoding,
      card,
      sequence,
      rowsPerCall: batchRows,
      software: await software,
      ...(opts.inFlight !== undefined ? { inFlight: opts.inFlight } : {}),
      keyOf: (split) => ({
        teacherSha256: teacher.sha256,
        cardSha256: teacher.card.sha256,
        cardContentSha256: cardContentSha256(teacher.card.card),
        dataset: dataset.name,
        split,
        splitRows: dataset.splits[split]!.rows,
        splitFingerprint: dataset.splits[split]!.fingerprint,
        encoding,
        format: cfg.format,
        shardRows: cfg.shardRows,
        graphOptimization: cfg.graphOptimization,
        ...(teacher.reduced ? { reducedModelSha256: teacher.reduced.sha256 } : {}),
      }),
      runtime: {
        onnxruntime: teacher.opened.onnxruntimeVersion,
        executionProvider: teacher.opened.executionProvider,
        requestedDevice: teacher.opened.requestedDevice,
        intraOpThreads: cfg.intraOpThreads,
        graphOptimization: cfg.graphOptimization,
        batchSize: cfg.maxBatchBytes !== undefined ? batchRows : cfg.batchSize,
      },
    };
    return await fn(ctx);
  } finally {
    await teacher.opened.session.release();
  }
}

/** The single writer: every shard, then config.resolved.json and manifest.json. */
async function captureStore(ctx: CaptureContext): Promise<StoreManifest> {
  const { exp, cfg, storeDir, opts, reporter } = ctx;
  const existing = await refuseOtherCapture(ctx);
  if (opts.force) {
    for (const entry of await readdir(storeDir)) if (entry !== '.lock') await rm(join(storeDir, entry), { recursive: true, force: true });
  }
  const plans = await planShards(ctx);
  const reusedCount = plans.filter((p) => p.reused).length;
  const sameSplits = existing !== null && JSON.stringify(Object.keys(existing.splits).sort()) === JSON.stringify([...cfg.splits].sort());
  if (existing && !opts.force && reusedCount === plans.length && sameSplits) {
    reporter.info(`${displayPath(storeDir, exp.workspace)} is up to date (same teacher, dataset and encoding; all ${plans.length} shards match their sha256); nothing recomputed`);
    return existing;
  }
  await unlink(join(storeDir, STORE_MANIFEST)).catch(() => undefined);
  // Part manifests of earlier sharded workers no longer describe this store (no worker is live: checked under the lock).
  await rm(join(storeDir, PARTS_DIR), { recursive: true, force: true });
  if (reusedCount > 0) reporter.info(`resuming: ${reusedCount} of ${plans.length} shards are complete and verified; computing the other ${plans.length - reusedCount}`);
  const { splits, timing: total } = await computePlans(ctx, plans);
  const fields = captureFields(ctx);
  const manifest: StoreManifest = { formatVersion: 1, kind: STORE_KIND, status: 'complete', createdAt: new Date().toISOString(), ...fields, encoding: withBytesPerToken(fields.encoding, splits), splits, timing: total };
  await atomicWriteJson(join(storeDir, STORE_CONFIG), resolvedConfigRecord(exp));
  await atomicWriteJson(join(storeDir, STORE_MANIFEST), manifest);
  return manifest;
}

/** Same key and same shards (index and sha256) as this run's complete plan: the part manifest is current. */
function partIsCurrent(part: PartManifest, ctx: CaptureContext, plans: ShardPlan[], worker: WorkerAssignment): boolean {
  if (part.worker.index !== worker.index || part.worker.count !== worker.count) return false;
  for (const split of ctx.cfg.splits) {
    const key = keyOfManifest(part, split);
    if (!key || diffCaptureKeys(key, ctx.keyOf(split)).length > 0) return false;
    const listed = (part.splits[split]?.shards ?? []).map((s) => `${s.index} ${s.sha256}`);
    const planned = plans.filter((p) => p.split === split).map((p) => `${p.index} ${p.reused?.sha256}`);
    if (JSON.stringify(listed) !== JSON.stringify(planned)) return false;
  }
  return Object.keys(part.splits).length === ctx.cfg.splits.length;
}

/** One worker: its shards, then its part manifest; never the store manifest. */
async function captureWorker(ctx: CaptureContext, worker: WorkerAssignment): Promise<PartManifest> {
  const { exp, storeDir, opts, reporter } = ctx;
  const partRel = partManifestPath(worker);
  await refuseOtherCapture(ctx);
  if (opts.force) {
    for (const g of ctx.shards) {
      const path = join(storeDir, shardName(g.split, g.index, ctx.cfg.format));
      await rm(path, { force: true });
      await rm(partRecordPath(path), { force: true });
    }
    await rm(join(storeDir, partRel), { force: true });
  }
  const others = (await readdir(join(storeDir, PARTS_DIR)).catch(() => [] as string[])).filter((f) => {
    const m = PART_MANIFEST_NAME.exec(f);
    return m !== null && Number(m[2]) !== worker.count;
  });
  if (others.length > 0) {
    reporter.warn(`${displayPath(join(storeDir, PARTS_DIR), exp.workspace)} also holds part manifests of a run with another number of workers (${others.join(', ')}); finalize will refuse the overlap: delete them once this run's ${worker.count} workers are done`);
  }
  const plans = await planShards(ctx);
  const reusedCount = plans.filter((p) => p.reused).length;
  const previous = await readPartManifest(storeDir, partRel);
  if (reusedCount === plans.length && 'part' in previous && partIsCurrent(previous.part, ctx, plans, worker)) {
    reporter.info(`worker ${worker.index} of ${worker.count} is up to date (${partRel}: all ${plans.length} of its shards match their sha256); nothing recomputed`);
    return previous.part;
  }
  if (reusedCount < plans.length) await unlink(join(storeDir, STORE_MANIFEST)).catch(() => undefined);
  await rm(join(storeDir, partRel), { force: true });
  if (reusedCount > 0) reporter.info(`resuming: ${reusedCount} of this worker's ${plans.length} shards are complete and verified; computing the other ${plans.length - reusedCount}`);
  const startedAt = new Date().toISOString();
  const { splits, timing: total } = await computePlans(ctx, plans);
  const part: PartManifest = {
    formatVersion: 1,
    kind: PART_MANIFEST_KIND,
    worker: { index: worker.index, count: worker.count, source: worker.source, describe: worker.describe, host: hostname(), pid: process.pid },
    startedAt,
    finishedAt: new Date().toISOString(),
    ...captureFields(ctx),
    splits,
    timing: total,
    configRecord: resolvedConfigRecord(exp),
  };
  await atomicWriteJson(join(storeDir, partRel), part);
  return part;
}
