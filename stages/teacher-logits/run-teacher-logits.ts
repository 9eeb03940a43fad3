/**
 * The teacher-logits stage: runs the ONNX teacher once over the configured dataset splits and writes
 * the soft-target store (pipeline/store/soft-target-store.ts, docs/store-format.md).
 */
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { resolveInWorkspace, resolvedConfigRecord } from '../../pipeline/config/load-experiment.ts';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import type { TeacherLogitsSection } from '../../pipeline/config/experiment-config.ts';
import { fingerprintColumns, getSplit, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { RowFingerprint } from '../../pipeline/dataset/row-fingerprint.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import { verifyDatasetFiles } from '../../pipeline/dataset/verify-dataset.ts';
import { workerSessionFactory } from '../../pipeline/engines/onnxruntime-worker-client.ts';
import type { EngineSession, EngineTensor, SessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import { atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import { lockDir } from '../../pipeline/io/dir-lock.ts';
import { softwareProvenance } from '../../pipeline/provenance.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { STORE_KIND, STORE_MANIFEST } from '../../pipeline/store/store-manifest.ts';
import type { StoreManifest, StoreRuntime, StoreShardRecord, StoreSplit, StoreTiming } from '../../pipeline/store/store-manifest.ts';
import { checkDatasetBindings, valuesPerRow } from '../../pipeline/teacher/check-bindings.ts';
import { displayPath, loadTeacher } from '../../pipeline/teacher/load-teacher.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import { inputTensor, toStoredLogits } from '../../pipeline/teacher/teacher-tensors.ts';
import { diffCaptureKeys, keyOfManifest } from './capture-key.ts';
import type { CaptureKey } from './capture-key.ts';
import { applyNonFinitePolicy, nonFiniteError } from './non-finite.ts';
import { partProblem, readPartRecord } from './part-record.ts';
import { writeShard } from './write-shard.ts';

/** Options of {@link runTeacherLogits}. */
export interface TeacherLogitsOptions {
  /** Recompute everything, replacing whatever the store directory holds. Default false. */
  force?: boolean;
  /**
   * Creates the ONNX Runtime session. Default: a session in a worker thread (workerSessionFactory),
   * so that encoding and writing overlap with inference. Tests inject fakes here.
   */
  sessionFactory?: SessionFactory;
  /** session.run calls kept in flight (queued on the worker). Default 3. */
  inFlight?: number;
}

/** The resolved config file written into the store. */
export const STORE_CONFIG = 'config.resolved.json';

interface ShardPlan {
  split: string;
  index: number;
  relPath: string;
  path: string;
  rowStart: number;
  rowEnd: number;
  reused: StoreShardRecord | null;
}

/** Builds the store encoding from the config and the teacher's class count. */
function storeEncoding(cfg: TeacherLogitsSection, classes: number): StoreEncoding {
  const e = cfg.encoding;
  if (e.mode === 'dense') return { mode: 'dense', precision: e.precision, classes };
  if (e.k > classes) throw new ConfigError(`teacherLogits.encoding.k must be at most the teacher's ${classes} classes, but got ${e.k}`);
  return { mode: 'topk', precision: e.precision, classes, k: e.k, temperature: e.temperature };
}

const shardName = (split: string, i: number, format: string): string => `${split}/part-${String(i).padStart(5, '0')}.${format}`;

/**
 * Runs the teacher over the configured splits and writes the soft-target store; returns its manifest.
 *
 * In order: lock the store (a second writer gets a LockError); verify the dataset files' sha256;
 * load the teacher (card, model sha256, session on the requested device, bindings vs the model and
 * the dataset); refuse a store made by another capture unless `force`; verify and reuse complete
 * shards whose part record matches (resume); run the rest in batches, ORT working on the next
 * batches in a worker thread while this thread encodes and writes; write config.resolved.json and,
 * last, manifest.json. Never prints: progress and notices go through `reporter`.
 *
 * @example
 * const exp = await loadExperiment('artifacts/experiments/mnist-kd/experiment.json');
 * const manifest = await runTeacherLogits(exp, {}, reporter);
 * manifest.splits.train.shards.length; // 6 for 60,000 rows at shardRows 10,000
 */
export async function runTeacherLogits(exp: LoadedExperiment, opts: TeacherLogitsOptions, reporter: Reporter): Promise<StoreManifest> {
  const cfg = exp.config.teacherLogits;
  if (!cfg) throw new ConfigError(`${displayPath(exp.file)}: the teacher-logits stage needs a "teacherLogits" section (at least teacherLogits.store)`);
  if (!exp.config.teacher) throw new ConfigError(`${displayPath(exp.file)}: the teacher-logits stage needs a "teacher" section (teacher.path)`);
  const storeDir = resolveInWorkspace(exp.workspace, 'teacherLogits.store', cfg.store);
  const teacherDir = resolveInWorkspace(exp.workspace, 'teacher.path', exp.config.teacher.path);
  const datasetDir = resolveInWorkspace(exp.workspace, 'dataset.path', exp.config.dataset.path);
  await mkdir(storeDir, { recursive: true });
  const lock = await lockDir(storeDir, 'distill teacher-logits');
  try {
    const dataset = await readDatasetManifest(datasetDir);
    for (const s of cfg.splits) getSplit(dataset, s, join(datasetDir, 'manifest.json'));
    reporter.info(`verifying dataset ${displayPath(datasetDir, exp.workspace)} (${cfg.splits.join(', ')})`);
    await verifyDatasetFiles(datasetDir, dataset, cfg.splits);
    const teacher = await loadTeacher(
      teacherDir,
      { device: cfg.device, intraOpThreads: cfg.intraOpThreads, graphOptimization: cfg.graphOptimization, factory: opts.sessionFactory ?? workerSessionFactory },
      reporter,
    );
    try {
      checkDatasetBindings(teacher.card.card, dataset, teacher.card.path, datasetDir);
      return await capture({ exp, cfg, storeDir, datasetDir, dataset, teacher, opts, reporter });
    } finally {
      await teacher.opened.session.release();
    }
  } finally {
    await lock.release();
  }
}

interface CaptureContext {
  exp: LoadedExperiment;
  cfg: TeacherLogitsSection;
  storeDir: string;
  datasetDir: string;
  dataset: DatasetManifest;
  teacher: LoadedTeacher;
  opts: TeacherLogitsOptions;
  reporter: Reporter;
}

async function capture(ctx: CaptureContext): Promise<StoreManifest> {
  const { exp, cfg, storeDir, dataset, teacher, opts, reporter } = ctx;
  const card = teacher.card.card;
  const encoding = storeEncoding(cfg, card.classes.count);
  const keyOf = (split: string): CaptureKey => ({
    teacherSha256: teacher.sha256,
    cardSha256: teacher.card.sha256,
    dataset: dataset.name,
    split,
    splitRows: dataset.splits[split]!.rows,
    splitFingerprint: dataset.splits[split]!.fingerprint,
    encoding,
    format: cfg.format,
    shardRows: cfg.shardRows,
  });
  const runtime: StoreRuntime = {
    onnxruntime: teacher.opened.onnxruntimeVersion,
    executionProvider: teacher.opened.executionProvider,
    requestedDevice: teacher.opened.requestedDevice,
    intraOpThreads: cfg.intraOpThreads,
    graphOptimization: cfg.graphOptimization,
    batchSize: cfg.batchSize,
  };

  const existing = await openStore(storeDir).catch(() => null);
  if (opts.force) {
    for (const entry of await readdir(storeDir)) if (entry !== '.lock') await rm(join(storeDir, entry), { recursive: true, force: true });
  } else if (existing) {
    const diffs = cfg.splits.flatMap((s) => {
      const stored = keyOfManifest(existing.manifest, s);
      return stored ? diffCaptureKeys(stored, keyOf(s)).map((d) => `split ${s}: ${d}`) : [];
    });
    if (diffs.length > 0) throw refuse(storeDir, diffs);
  }

  // Plan: which shards are complete (part record matches, sha256 verified) and which to compute.
  const plans: ShardPlan[] = [];
  for (const split of cfg.splits) {
    const rows = dataset.splits[split]!.rows;
    await mkdir(join(storeDir, split), { recursive: true });
    for (const f of await readdir(join(storeDir, split))) if (f.startsWith('.') && f.includes('.tmp-')) await rm(join(storeDir, split, f), { force: true });
    for (let i = 0, start = 0; start < rows; i++, start += cfg.shardRows) {
      const relPath = shardName(split, i, cfg.format);
      const path = join(storeDir, relPath);
      const rowEnd = Math.min(rows, start + cfg.shardRows);
      const record = await readPartRecord(path);
      const problem = await partProblem(record, path, keyOf(split), start, rowEnd);
      if (record && problem?.startsWith('made by another capture')) {
        throw refuse(storeDir, [`${relPath} was ${problem}`]);
      }
      if (problem === null && record!.shard.nonFinite > 0 && cfg.nonFinite === 'error') {
        throw nonFiniteError(split, record!.shard.nonFiniteRows); // stored under the zero policy earlier
      }
      plans.push({ split, index: i, relPath, path, rowStart: start, rowEnd, reused: problem === null ? record!.shard : null });
    }
  }
  const reusedCount = plans.filter((p) => p.reused).length;
  const sameSplits = existing !== null && JSON.stringify(Object.keys(existing.manifest.splits).sort()) === JSON.stringify([...cfg.splits].sort());
  if (existing && !opts.force && reusedCount === plans.length && sameSplits) {
    reporter.info(`${displayPath(storeDir, exp.workspace)} is up to date (same teacher, dataset and encoding; all ${plans.length} shards match their sha256); nothing recomputed`);
    return existing.manifest;
  }
  await unlink(join(storeDir, STORE_MANIFEST)).catch(() => undefined);
  if (reusedCount > 0) reporter.info(`resuming: ${reusedCount} of ${plans.length} shards are complete and verified; computing the other ${plans.length - reusedCount}`);

  const started = performance.now();
  const splits: Record<string, StoreSplit> = {};
  for (const split of cfg.splits) {
    const splitPlans = plans.filter((p) => p.split === split);
    const t0 = performance.now();
    const computed = await computeSplit(ctx, split, splitPlans, encoding, keyOf(split), runtime);
    const shards = splitPlans.map((p) => p.reused ?? computed.get(p.index)!);
    const rowsComputed = splitPlans.filter((p) => !p.reused).reduce((s, p) => s + p.rowEnd - p.rowStart, 0);
    splits[split] = { rows: dataset.splits[split]!.rows, shards, nonFinite: shards.reduce((s, r) => s + r.nonFinite, 0), timing: timing((performance.now() - t0) / 1000, rowsComputed) };
    if (splits[split].nonFinite > 0) reporter.warn(`split ${split}: ${splits[split].nonFinite} NaN/Inf teacher outputs in ${shards.reduce((s, r) => s + r.nonFiniteRows.length, 0)} rows were stored as 0 (nonFinite policy "zero"; rows listed in the manifest)`);
  }
  const manifest: StoreManifest = {
    formatVersion: 1,
    kind: STORE_KIND,
    status: 'complete',
    createdAt: new Date().toISOString(),
    teacher: { sha256: teacher.sha256, path: displayPath(teacher.dir, exp.workspace), card, cardSha256: teacher.card.sha256 },
    dataset: {
      name: dataset.name,
      path: displayPath(ctx.datasetDir, exp.workspace),
      splits: Object.fromEntries(cfg.splits.map((s) => [s, { rows: dataset.splits[s]!.rows, fingerprint: dataset.splits[s]!.fingerprint }])),
    },
    encoding,
    format: cfg.format,
    shardRows: cfg.shardRows,
    runtime,
    software: softwareProvenance(),
    config: cfg,
    nonFinitePolicy: cfg.nonFinite,
    splits,
    timing: timing((performance.now() - started) / 1000, Object.values(splits).reduce((s, x) => s + x.timing.rowsComputed, 0)),
  };
  await atomicWriteJson(join(storeDir, 'config.resolved.json'), resolvedConfigRecord(exp));
  await atomicWriteJson(join(storeDir, STORE_MANIFEST), manifest);
  return manifest;
}

function timing(seconds: number, rowsComputed: number): StoreTiming {
  return { seconds: Math.round(seconds * 1000) / 1000, rowsComputed, rowsPerSecond: seconds > 0 ? Math.round(rowsComputed / seconds) : 0 };
}

function refuse(storeDir: string, diffs: string[]): DataError {
  return new DataError(
    `${storeDir} already holds soft targets of another capture (other teacher, dataset or encoding):\n${diffs.map((d) => `  - ${d}`).join('\n')}\n` +
      'it was left untouched; re-run with --force to replace it, or choose another teacherLogits.store',
  );
}

/** A shard being assembled: its inputs, its output buffer and how many batches are still out. */
interface ShardState {
  plan: ShardPlan;
  inputs: NumericArray[];
  fingerprint: string;
  logits: Float32Array;
  pendingBatches: number;
}

interface Batch {
  state: ShardState;
  from: number;
  n: number;
}

/**
 * Computes the non-reused shards of one split. Batches never straddle shards; up to `inFlight`
 * session.run calls are queued (on the worker thread) while this thread turns finished batches into
 * shards, so ORT never waits for encoding or writing.
 */
async function computeSplit(ctx: CaptureContext, split: string, plans: ShardPlan[], encoding: StoreEncoding, key: CaptureKey, runtime: StoreRuntime): Promise<Map<number, StoreShardRecord>> {
  const { cfg, datasetDir, dataset, teacher, reporter } = ctx;
  const card = teacher.card.card;
  const classes = card.classes.count;
  const session: EngineSession = teacher.opened.session;
  const todo = plans.filter((p) => !p.reused);
  const done = new Map<number, StoreShardRecord>();
  if (todo.length === 0) return done;
  const reader = new SplitReader(datasetDir, dataset, split);
  const fpColumns = fingerprintColumns(dataset);
  const jobs: { plan: ShardPlan; from: number; n: number }[] = [];
  for (const plan of todo) {
    for (let from = 0; from < plan.rowEnd - plan.rowStart; from += cfg.batchSize) jobs.push({ plan, from, n: Math.min(cfg.batchSize, plan.rowEnd - plan.rowStart - from) });
  }
  const states = new Map<number, ShardState>();
  const loadShard = async (plan: ShardPlan): Promise<ShardState> => {
    const table: Table = await reader.readRows(plan.rowStart, plan.rowEnd);
    const fp = new RowFingerprint(fpColumns);
    fp.update(table, `${displayPath(datasetDir)} ${split} rows ${plan.rowStart}..${plan.rowEnd - 1}`);
    const inputs = card.inputs.map((b) => columnValues(table.getChild(b.column)!, valuesPerRow(b.shape)));
    const rows = plan.rowEnd - plan.rowStart;
    return { plan, inputs, fingerprint: fp.digest(), logits: new Float32Array(rows * classes), pendingBatches: Math.ceil(rows / cfg.batchSize) };
  };
  const progress = reporter.progress(`teacher ${split}`, jobs.reduce((s, j) => s + j.n, 0), 'rows');
  const queue: { batch: Batch; result: Promise<Record<string, EngineTensor>> }[] = [];
  const depth = Math.max(1, ctx.opts.inFlight ?? 3);
  let next = 0;
  const submit = async (): Promise<void> => {
    const job = jobs[next++]!;
    let state = states.get(job.plan.index);
    if (!state) {
      state = await loadShard(job.plan);
      states.set(job.plan.index, state);
    }
    const feeds: Record<string, EngineTensor> = {};
    card.inputs.forEach((b, i) => (feeds[b.name] = inputTensor(b, state.inputs[i]!, job.from, job.n)));
    const result = session.run(feeds, [card.output.name]);
    result.catch(() => undefined); // awaited below, in order; avoid an unhandled rejection meanwhile
    queue.push({ batch: { state, from: job.from, n: job.n }, result });
  };
  try {
    while (next < jobs.length || queue.length > 0) {
      while (queue.length < depth && next < jobs.length) await submit();
      const { batch, result } = queue.shift()!;
      const out = (await result)[card.output.name];
      const where = `${teacher.modelPath}: output "${card.output.name}" for ${split} rows ${batch.state.plan.rowStart + batch.from}..${batch.state.plan.rowStart + batch.from + batch.n - 1}`;
      if (!out) throw new DataError(`${where} is missing from the session's results`);
      if (out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== batch.n || out.dims[1] !== classes) {
        throw new DataError(`${where}: expected float32 [${batch.n}, ${classes}], actual ${out.type} [${out.dims.join(', ')}]`);
      }
      batch.state.logits.set(toStoredLogits(out.data as Float32Array, card.output.kind), batch.from * classes);
      progress.tick(batch.n);
      if (--batch.state.pendingBatches === 0) {
        const { plan, logits, fingerprint } = batch.state;
        states.delete(plan.index);
        const nf = applyNonFinitePolicy(logits, classes, plan.rowStart, cfg.nonFinite, split);
        const record = await writeShard(
          { index: plan.index, path: plan.path, relPath: plan.relPath, rowStart: plan.rowStart, rowEnd: plan.rowEnd, logits, datasetFingerprint: fingerprint, nonFinite: nf.count, nonFiniteRows: nf.rows },
          encoding,
          cfg.format,
          key,
          runtime,
        );
        done.set(plan.index, record);
      }
    }
  } finally {
    progress.done();
  }
  return done;
}
