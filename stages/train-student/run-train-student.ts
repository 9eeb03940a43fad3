import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolvedConfigRecord, resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import type { BackendLoader, BackendRequest } from '../../pipeline/engines/tfjs.ts';
import { selectBackend } from '../../pipeline/engines/tfjs.ts';
import type { tf } from '../../pipeline/engines/tfjs.ts';
import { ConfigError, DistillError } from '../../pipeline/errors.ts';
import { atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { lockDir } from '../../pipeline/io/dir-lock.ts';
import { pathExists } from '../../pipeline/io/path-exists.ts';
import { readJsonFile } from '../../pipeline/io/read-json.ts';
import { finishedRunDifferences } from './run-up-to-date.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { CHECKPOINT_DIR } from '../../pipeline/student/checkpoint.ts';
import { RUN_MANIFEST } from '../../pipeline/student/run-manifest.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import type { BatchWorker, BatchWorkerOptions } from './batch-worker-client.ts';
import { openBatchWorker } from './batch-worker-client.ts';
import { buildRunManifest } from './build-run-manifest.ts';
import { buildStudent } from './build-student.ts';
import type { StudentModel } from './build-student.ts';
import { datasetSplitSource } from './dataset-split-source.ts';
import type { DatasetSplitSourceOptions } from './dataset-split-source.ts';
import { createOptimizer } from './optimizer-state.ts';
import { prepareInputs } from './prepare-inputs.ts';
import type { TrainingInputs } from './prepare-inputs.ts';
import { freshState, resumeFromCheckpoint } from './resume-run.ts';
import { saveTfjsModel } from './save-model.ts';
import { trainSequenceStudent } from './run-sequence-training.ts';
import { runEpoch } from './train-epoch.ts';
import type { EpochContext } from './train-epoch.ts';
import type { ExperimentConfig } from '../../pipeline/config/experiment-config.ts';
import { describeValidation } from '../../pipeline/config/validation-rows.ts';
import type { ValidationPlan } from '../../pipeline/config/validation-rows.ts';
import type { EpochMetrics, EpochSelection, SplitMetrics } from '../../pipeline/student/run-manifest.ts';
import type { ChunkedSplit } from './chunked-split.ts';
import { chunkRowCounts } from './chunked-split.ts';
import { EpochSelector } from './epoch-selection.ts';
import { evaluateSplit } from './evaluate-split.ts';
import type { TrainingState } from './resume-run.ts';
import { restoreWeights, weightsOf } from './student-weights.ts';

/** Options of {@link runTrainStudent}. */
export interface TrainStudentOptions {
  /** Continue from the run folder's last checkpoint (to the same weights as an uninterrupted run). Default false. */
  resume?: boolean;
  /** Replace a finished or unfinished run in the run folder. Default false. */
  force?: boolean;
  /** Overrides train.backend. */
  backend?: BackendRequest;
  /** How backends are loaded (tests pass a fake). Default: the real Node loader. */
  backendLoader?: BackendLoader;
}

/** Files of a run folder, relative to it. */
const OUTPUTS = { model: 'model.json', weights: 'weights.bin', metrics: 'metrics.jsonl', config: 'config.resolved.json', checkpoints: CHECKPOINT_DIR } as const;

/** sha256 of the resolved config without train.epochs: what a resumed run must share with its checkpoint. */
function configKey(exp: LoadedExperiment): string {
  const copy = JSON.parse(JSON.stringify(exp.config)) as { train: { epochs?: number } };
  delete copy.train.epochs;
  return sha256Bytes(JSON.stringify(copy));
}

const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));

/**
 * Step 1: clears the run folder under --force. Without --force/--resume: a finished run whose config,
 * inputs and code match is up to date (returned, nothing is retrained); a finished run that differs,
 * or an unfinished one, is refused, naming what differs.
 */
async function claimRunDir(exp: LoadedExperiment, runDir: string, opts: TrainStudentOptions): Promise<RunManifest | null> {
  const manifestFile = join(runDir, RUN_MANIFEST);
  const finished = await pathExists(manifestFile);
  const hasCheckpoint = await pathExists(join(runDir, CHECKPOINT_DIR));
  if (opts.force) {
    for (const f of [RUN_MANIFEST, ...Object.values(OUTPUTS)]) await rm(join(runDir, f), { recursive: true, force: true });
  } else if (!opts.resume && finished) {
    const read = await readJsonFile(manifestFile);
    const recorded = read.ok ? (read.value as RunManifest) : null;
    const differences = recorded ? await finishedRunDifferences(exp, recorded) : [`${RUN_MANIFEST} cannot be read (${read.ok ? '' : read.problem})`];
    if (recorded && differences.length === 0) return recorded;
    throw new DistillError(
      `${runDir} holds a finished run (${RUN_MANIFEST}) that is not what this config would train now: ${differences.join('; ')}. ` +
        'It is left untouched. Re-run with --force to replace it, --resume to extend it to more epochs, or set another train.run',
    );
  } else if (!opts.resume && hasCheckpoint) {
    throw new DistillError(`${runDir} holds an unfinished run (${CHECKPOINT_DIR}/); re-run with --resume to continue it or --force to start over`);
  }
  return null;
}

/** The training split's source options: the worker thread and the main thread read the same rows. */
function trainSourceOptions(exp: LoadedExperiment, inputs: TrainingInputs): DatasetSplitSourceOptions & BatchWorkerOptions {
  const train = exp.config.train!;
  return {
    dir: inputs.datasetDir,
    manifest: inputs.dataset,
    split: exp.config.dataset.trainSplit,
    feature: inputs.feature,
    label: inputs.label,
    store: train.alpha < 1 || inputs.store?.encoding.views ? inputs.store : null,
    ...(train.limitRows !== undefined ? { limitRows: train.limitRows } : {}),
    ...(inputs.validation?.kind === 'carve-out' ? { rowSelection: { ids: inputs.validation.rows, keep: 'except' as const } } : {}),
  };
}

/** The validation rows as a source: a named split, or the carve-out's rows of the train split. */
function validationSource(exp: LoadedExperiment, inputs: TrainingInputs, plan: ValidationPlan): ChunkedSplit {
  const base = { dir: inputs.datasetDir, manifest: inputs.dataset, split: plan.split, feature: inputs.feature, label: inputs.label, store: inputs.validationHasTargets ? inputs.store : null };
  if (plan.kind === 'split') return datasetSplitSource(base);
  const limit = exp.config.train!.limitRows;
  return datasetSplitSource({ ...base, ...(limit !== undefined ? { limitRows: limit } : {}), rowSelection: { ids: plan.rows, keep: 'only' } });
}

/** The test split as a source (scored after every epoch only when the config names no validation rows). */
function testSource(cfg: ExperimentConfig, inputs: TrainingInputs): ChunkedSplit {
  return datasetSplitSource({ dir: inputs.datasetDir, manifest: inputs.dataset, split: cfg.dataset.evalSplit, feature: inputs.feature, label: inputs.label, store: inputs.evalHasTargets ? inputs.store : null });
}

/** Step 4: the batch sources and the loss of every epoch, reported in one line. */
function epochContext(
  exp: LoadedExperiment,
  parts: Pick<EpochContext, 'runDir' | 'inputs' | 'student' | 'optimizer' | 'batchWorker' | 'key' | 'reporter'>,
): EpochContext {
  const cfg = exp.config;
  const train = cfg.train!;
  const { inputs } = parts;
  const trainSource = datasetSplitSource(trainSourceOptions(exp, inputs));
  const v = inputs.validation;
  const evalSource = v ? validationSource(exp, inputs, v) : testSource(cfg, inputs);
  const evalRole = v ? ('validation' as const) : ('test' as const);
  const evalLabel = v ? 'validation' : `${cfg.dataset.evalSplit} (no validation rows configured)`;
  const chunkRows = chunkRowCounts(trainSource);
  const rowsPerEpoch = chunkRows.reduce((a, b) => a + b, 0);
  parts.reporter.info(v ? `per-epoch metrics and choices on ${describeValidation(v)}; "${cfg.dataset.evalSplit}" is scored once at the end` : `no dataset.validation: per-epoch metrics are on the test split "${cfg.dataset.evalSplit}" and nothing is chosen on them`);
  parts.reporter.info(
    `training a ${cfg.student!.arch} student (${parts.student.params} parameters, ${inputs.classes} classes) on ${rowsPerEpoch} rows of "${cfg.dataset.trainSplit}" for ${train.epochs} epochs ` +
      `(alpha ${train.alpha}, T ${train.temperature}${inputs.store && train.alpha < 1 ? `, ${inputs.store.encoding.mode} targets` : ', hard labels only'})`,
  );
  const loss = { temperature: train.temperature, alpha: train.alpha };
  return { ...parts, cfg, train, trainSource, evalSource, evalRole, evalLabel, chunkRows, rowsPerEpoch, loss, metricsFile: OUTPUTS.metrics };
}

/**
 * Step 5: trains the remaining epochs, choosing on the per-epoch rows only (EpochSelector: last or
 * best epoch, early stopping), restores the chosen epoch's weights, then scores them once on the test
 * split (re-using the last per-epoch evaluation when that already was the test split).
 */
async function trainAndSelect(ctx: EpochContext, state: TrainingState): Promise<{ final: EpochMetrics; selection: EpochSelection; test: SplitMetrics }> {
  const { train, student, runDir } = ctx;
  const selector = EpochSelector.for(train, ctx.evalRole === 'validation', ctx.evalLabel);
  let stop = false;
  // A resumed run replays the epochs before its checkpoint; only the checkpoint epoch's weights are at hand.
  for (const m of state.metrics) stop = await selector.observe(m, m.epoch === state.resumedFrom ? () => weightsOf(student) : null);
  for (let epoch = state.startEpoch; epoch <= train.epochs && !stop; epoch++) {
    await runEpoch(ctx, epoch, state);
    stop = await selector.observe(state.metrics[state.metrics.length - 1]!, () => weightsOf(student));
    if (stop) ctx.reporter.info(`early stopping after epoch ${epoch}: no better ${ctx.evalLabel} ${train.selectMetric} for ${train.patience} epochs`);
  }
  const final = state.metrics[state.metrics.length - 1];
  if (!final) throw new DistillError(`${runDir}: no epoch was trained (train.epochs ${train.epochs}, checkpoint after epoch ${state.startEpoch - 1})`);
  const chosen = selector.chosen(final);
  if (chosen.epoch !== final.epoch) {
    if (!chosen.weights) throw new DistillError(`${runDir}: the best ${ctx.evalLabel} epoch is ${chosen.epoch}, before this run's resume point, and its weights were not kept; re-run with --force to train from epoch 1`);
    restoreWeights(student, chosen.weights, `epoch ${chosen.epoch} (best on ${ctx.evalLabel})`);
    ctx.reporter.info(`keeping epoch ${chosen.epoch} (best ${ctx.evalLabel} ${train.selectMetric}) of ${final.epoch}`);
  }
  let test: SplitMetrics = final.eval;
  if (ctx.evalRole === 'validation') {
    const t0 = performance.now();
    test = { ...(await evaluateSplit(student, testSource(ctx.cfg, ctx.inputs), { batchSize: train.evalBatchSize, scale: ctx.inputs.scale, readAhead: train.readAhead, loss: ctx.loss, tail: train.tail })), role: 'test' };
    ctx.reporter.info(`"${ctx.cfg.dataset.evalSplit}" scored once: accuracy ${fmt(test.accuracy)}, agreement ${fmt(test.agreement)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return { final, selection: selector.record(final), test };
}

/**
 * The train-student stage: trains the configured student from the dataset and the soft-target store
 * alone (the teacher is never loaded; onnxruntime is never imported), checking every input first.
 *
 * Writes into `train.run`: config.resolved.json, checkpoints/ (after each epoch, atomic),
 * metrics.jsonl (one line per epoch), model.json + weights.bin (tfjs layers model) and, last,
 * run-manifest.json. A folder holding a finished run is not overwritten without `force`; an unfinished
 * one needs `resume` or `force`.
 *
 * Steps: lock and claim the run folder; check the inputs; start the batch worker and pick the tfjs
 * backend; build the student (or resume it from its checkpoint); train epoch by epoch; save the model
 * and write the run manifest.
 *
 * @example
 * const exp = await loadExperiment('artifacts/experiments/mnist-kd/experiment.json');
 * const manifest = await runTrainStudent(exp, { backend: 'wasm' }, reporter);
 * manifest.final.eval.accuracy; // e.g. 0.97
 */
export async function runTrainStudent(exp: LoadedExperiment, opts: TrainStudentOptions, reporter: Reporter): Promise<RunManifest> {
  const cfg = exp.config;
  if (!cfg.student) throw new ConfigError(`${exp.file}: the config has no student section (student.arch is required to train one)`);
  if (!cfg.train) throw new ConfigError(`${exp.file}: the config has no train section (train.run is required)`);
  const train = cfg.train;
  const runDir = resolveInWorkspace(exp.workspace, 'train.run', train.run);
  const lock = await lockDir(runDir, 'train-student');
  let student: StudentModel | null = null;
  let optimizer: tf.Optimizer | null = null;
  let batchWorker: BatchWorker | null = null;
  try {
    const upToDate = await claimRunDir(exp, runDir, opts);
    if (upToDate) {
      reporter.info(`${runDir} is up to date (same resolved config, inputs and code): nothing retrained`, { run: runDir, upToDate: true });
      return upToDate;
    }
    const inputs = await prepareInputs(exp, reporter);
    if (inputs.sequence) {
      return await trainSequenceStudent({ exp, inputs: { ...inputs, sequence: inputs.sequence }, runDir, key: configKey(exp), outputs: OUTPUTS, opts, reporter });
    }
    // Training batches are read and cut in a worker thread (started now, so its start-up overlaps
    // backend selection): the backends train on this thread, and the second core is otherwise idle.
    batchWorker = openBatchWorker(trainSourceOptions(exp, inputs));
    const backend = await selectBackend(opts.backend ?? train.backend, opts.backendLoader);
    reporter.info(backend.notice, { backend: backend.backend, package: backend.package, simd: backend.simd, attempts: backend.attempts });
    await atomicWriteJson(join(runDir, OUTPUTS.config), resolvedConfigRecord(exp));

    student = buildStudent(cfg.student, { featureShape: inputs.featureShape, classes: inputs.classes, seed: cfg.seed });
    optimizer = createOptimizer(train);
    const key = configKey(exp);
    const createdAt = new Date().toISOString();
    const state = opts.resume ? await resumeFromCheckpoint(runDir, OUTPUTS.metrics, student, optimizer, key, train, reporter) : freshState();
    const ctx = epochContext(exp, { runDir, inputs, student, optimizer, batchWorker, key, reporter });
    const { final, selection, test } = await trainAndSelect(ctx, state);
    const saved = await saveTfjsModel(student.model, runDir);
    const manifest = buildRunManifest({ exp, inputs, backend, student, state, final, selection, test, saved, rowsPerEpoch: ctx.rowsPerEpoch, createdAt, outputs: OUTPUTS });
    await atomicWriteJson(join(runDir, RUN_MANIFEST), manifest);
    reporter.info(`student ready: ${join(runDir, OUTPUTS.model)} (epoch ${selection.epoch}; "${cfg.dataset.evalSplit}" accuracy ${fmt(test.accuracy)}, agreement ${fmt(test.agreement)})`, {
      run: runDir,
      accuracy: test.accuracy,
      agreement: test.agreement,
    });
    return manifest;
  } finally {
    await batchWorker?.close();
    student?.model.dispose();
    optimizer?.dispose();
    await lock.release();
  }
}
