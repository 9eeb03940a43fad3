import { readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolvedConfigRecord, resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import { checkAgainstSchema } from '../../pipeline/config/validate-schema.ts';
import type { BackendLoader, BackendRequest } from '../../pipeline/engines/tfjs.ts';
import { selectBackend, tf } from '../../pipeline/engines/tfjs.ts';
import { ConfigError, DataError, DistillError } from '../../pipeline/errors.ts';
import { atomicWrite, atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { lockDir } from '../../pipeline/io/dir-lock.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { packageVersion, softwareProvenance } from '../../pipeline/provenance.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { batchTensors, disposeBatch } from './batch-tensors.ts';
import { buildStudent } from './build-student.ts';
import type { StudentModel } from './build-student.ts';
import { CHECKPOINT_DIR, readLatestCheckpoint, writeCheckpoint } from './checkpoint.ts';
import type { EpochRecord } from './checkpoint.ts';
import { openBatchWorker } from './batch-worker-client.ts';
import type { BatchWorker } from './batch-worker-client.ts';
import { datasetSplitSource } from './dataset-split-source.ts';
import { epochPlan } from './epoch-plan.ts';
import { evaluateSplit } from './evaluate-split.ts';
import { createOptimizer, restoreOptimizerState, saveOptimizerState } from './optimizer-state.ts';
import type { SavedArray } from './optimizer-state.ts';
import { prepareInputs } from './prepare-inputs.ts';
import { RUN_MANIFEST } from './run-manifest.ts';
import type { EpochMetrics, RunManifest } from './run-manifest.ts';
import { deriveSeed } from '../../pipeline/seeded-random.ts';
import { saveTfjsModel } from './save-model.ts';
import { trainStep } from './train-step.ts';
import { pathExists } from '../../pipeline/io/path-exists.ts';

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

async function weightsOf(student: StudentModel): Promise<SavedArray[]> {
  const out: SavedArray[] = [];
  for (const [i, v] of student.variables.entries()) {
    out.push({ name: student.variableNames[i]!, shape: [...v.shape], dtype: 'float32', values: Float32Array.from(await v.data()) });
  }
  return out;
}

function restoreWeights(student: StudentModel, saved: readonly SavedArray[], where: string): void {
  if (saved.length !== student.variables.length) throw new DataError(`${where}: holds ${saved.length} weight arrays, the student has ${student.variables.length}`);
  saved.forEach((s, i) => {
    const v = student.variables[i]!;
    if (s.name !== student.variableNames[i] || JSON.stringify(s.shape) !== JSON.stringify(v.shape)) {
      throw new DataError(`${where}: weight ${i} is ${s.name} ${JSON.stringify(s.shape)}, the student has ${student.variableNames[i]} ${JSON.stringify(v.shape)}`);
    }
    tf.tidy(() => v.assign(tf.tensor(s.values, s.shape, 'float32')));
  });
}

const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));

/**
 * The train-student stage: trains the configured student from the dataset and the soft-target store
 * alone (the teacher is never loaded; onnxruntime is never imported), checking every input first.
 *
 * Writes into `train.run`: config.resolved.json, checkpoints/ (after each epoch, atomic),
 * metrics.jsonl (one line per epoch), model.json + weights.bin (tfjs layers model) and, last,
 * run-manifest.json. A folder holding a finished run is not overwritten without `force`; an unfinished
 * one needs `resume` or `force`.
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
    const manifestPath = join(runDir, RUN_MANIFEST);
    const finished = await pathExists(manifestPath);
    const hasCheckpoint = await pathExists(join(runDir, CHECKPOINT_DIR));
    if (opts.force) {
      for (const f of [RUN_MANIFEST, ...Object.values(OUTPUTS)]) await rm(join(runDir, f), { recursive: true, force: true });
    } else if (!opts.resume && finished) {
      throw new DistillError(`${runDir} holds a finished run (${RUN_MANIFEST}); it is left untouched. Re-run with --force to replace it, --resume to extend it to more epochs, or set another train.run`);
    } else if (!opts.resume && hasCheckpoint) {
      throw new DistillError(`${runDir} holds an unfinished run (${CHECKPOINT_DIR}/); re-run with --resume to continue it or --force to start over`);
    }

    const inputs = await prepareInputs(exp, reporter);
    const trainSourceOptions = {
      dir: inputs.datasetDir,
      manifest: inputs.dataset,
      split: cfg.dataset.trainSplit,
      feature: inputs.feature,
      label: inputs.label,
      store: train.alpha < 1 ? inputs.store : null,
      ...(train.limitRows !== undefined ? { limitRows: train.limitRows } : {}),
    };
    // Training batches are read and cut in a worker thread (started now, so its start-up overlaps
    // backend selection): the backends train on this thread, and the second core is otherwise idle.
    batchWorker = openBatchWorker(trainSourceOptions);
    const backend = await selectBackend(opts.backend ?? train.backend, opts.backendLoader);
    reporter.info(backend.notice, { backend: backend.backend, package: backend.package, simd: backend.simd, attempts: backend.attempts });
    await atomicWriteJson(join(runDir, OUTPUTS.config), resolvedConfigRecord(exp));

    student = buildStudent(cfg.student, { featureShape: inputs.featureShape, classes: inputs.classes, seed: cfg.seed });
    optimizer = createOptimizer(train);
    const key = configKey(exp);
    let startEpoch = 1;
    let steps = 0;
    let records: EpochRecord[] = [];
    let metrics: EpochMetrics[] = [];
    let resumedFrom: number | null = null;
    const createdAt = new Date().toISOString();
    if (opts.resume) {
      const ckpt = await readLatestCheckpoint(runDir);
      if (!ckpt) {
        reporter.info(`no checkpoint in ${runDir}: starting from epoch 1`);
      } else {
        const where = join(runDir, CHECKPOINT_DIR, `epoch-${String(ckpt.meta.epoch).padStart(4, '0')}.json`);
        if (ckpt.meta.configKey !== key) {
          throw new ConfigError(`${where} was written with a different config (key ${ckpt.meta.configKey}, now ${key}); only train.epochs may change on --resume (use --force to start over)`);
        }
        restoreWeights(student, ckpt.weights, where);
        await restoreOptimizerState(optimizer, ckpt.optimizer, where);
        startEpoch = ckpt.meta.rng.nextEpoch;
        steps = ckpt.meta.steps;
        records = ckpt.meta.epochs;
        resumedFrom = ckpt.meta.epoch;
        const text = await readFile(join(runDir, OUTPUTS.metrics), 'utf8').catch(() => '');
        metrics = text
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as EpochMetrics)
          .filter((m) => m.epoch <= ckpt.meta.epoch);
        reporter.info(`resuming ${runDir} after epoch ${ckpt.meta.epoch} of ${train.epochs}`);
      }
    }

    const trainSource = datasetSplitSource(trainSourceOptions);
    const evalSource = datasetSplitSource({
      dir: inputs.datasetDir,
      manifest: inputs.dataset,
      split: cfg.dataset.evalSplit,
      feature: inputs.feature,
      label: inputs.label,
      store: inputs.evalHasTargets ? inputs.store : null,
    });
    const chunkRows = trainSource.chunks.map((c) => c.rowEnd - c.rowStart);
    const rowsPerEpoch = chunkRows.reduce((a, b) => a + b, 0);
    const loss = { temperature: train.temperature, alpha: train.alpha };
    reporter.info(
      `training a ${cfg.student.arch} student (${student.params} parameters, ${inputs.classes} classes) on ${rowsPerEpoch} rows of "${cfg.dataset.trainSplit}" for ${train.epochs} epochs ` +
        `(alpha ${train.alpha}, T ${train.temperature}${inputs.store && train.alpha < 1 ? `, ${inputs.store.encoding.mode} targets` : ', hard labels only'})`,
    );

    for (let epoch = startEpoch; epoch <= train.epochs; epoch++) {
      const plan = epochPlan(chunkRows, cfg.seed, epoch, train.shuffleWindow);
      const progress = reporter.progress(`epoch ${epoch}/${train.epochs}`, rowsPerEpoch, 'examples');
      const t0 = performance.now();
      let lossSum: tf.Scalar = tf.scalar(0);
      let stepInEpoch = 0;
      let examples = 0;
      for await (const hb of batchWorker.batches(plan, { batchSize: train.batchSize, scale: inputs.scale }, train.readAhead)) {
        const bt = batchTensors(hb, trainSource.featureSize, trainSource.encoding, train.tail);
        try {
          const cost = trainStep(student, optimizer, bt, loss, deriveSeed(cfg.seed, 'dropout', epoch, stepInEpoch));
          const next = tf.add(lossSum, cost) as tf.Scalar;
          tf.dispose([lossSum, cost]);
          lossSum = next;
        } finally {
          disposeBatch(bt);
        }
        stepInEpoch++;
        examples += hb.size;
        progress.tick(hb.size);
      }
      const trainLoss = (await lossSum.data())[0]! / Math.max(stepInEpoch, 1);
      lossSum.dispose();
      const trainSeconds = (performance.now() - t0) / 1000;
      progress.done();
      steps += stepInEpoch;
      const t1 = performance.now();
      const evalMetrics = await evaluateSplit(student, evalSource, { batchSize: train.evalBatchSize, scale: inputs.scale, readAhead: train.readAhead, loss, tail: train.tail });
      const evalSeconds = (performance.now() - t1) / 1000;
      const record: EpochRecord = { epoch, trainSeconds, evalSeconds, examplesPerSecond: examples / trainSeconds };
      records = [...records.filter((r) => r.epoch < epoch), record];
      const line: EpochMetrics = { epoch, trainLoss, examples, trainSeconds, examplesPerSecond: record.examplesPerSecond, eval: evalMetrics };
      metrics = [...metrics.filter((m) => m.epoch < epoch), line];
      await atomicWrite(join(runDir, OUTPUTS.metrics), metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
      await writeCheckpoint(runDir, { epoch, configKey: key, rng: { seed: cfg.seed, nextEpoch: epoch + 1 }, steps, epochs: records }, await weightsOf(student), await saveOptimizerState(optimizer));
      reporter.info(
        `epoch ${epoch}/${train.epochs}: train loss ${fmt(trainLoss)}, ${cfg.dataset.evalSplit} accuracy ${fmt(evalMetrics.accuracy)}, agreement ${fmt(evalMetrics.agreement)}, KL ${fmt(evalMetrics.kl)}, ${record.examplesPerSecond.toFixed(0)} examples/s`,
        { epoch, trainLoss, eval: evalMetrics, trainSeconds, examplesPerSecond: record.examplesPerSecond },
      );
    }

    const final = metrics[metrics.length - 1];
    if (!final) throw new DistillError(`${runDir}: no epoch was trained (train.epochs ${train.epochs}, checkpoint after epoch ${startEpoch - 1})`);
    const saved = await saveTfjsModel(student.model, runDir);
    const store = inputs.store;
    const pick = (splits: Record<string, { rows: number; fingerprint: string }>, names: string[]): Record<string, { rows: number; fingerprint: string }> =>
      Object.fromEntries(names.filter((n) => splits[n]).map((n) => [n, { rows: splits[n]!.rows, fingerprint: splits[n]!.fingerprint }]));
    const splitNames = [...new Set([cfg.dataset.trainSplit, cfg.dataset.evalSplit])];
    const backendRecord = { requested: backend.requested, backend: backend.backend, package: backend.package, version: backend.version, tensorflowVersion: backend.tensorflowVersion, onednn: backend.onednn, workarounds: backend.workarounds, device: backend.device, simd: backend.simd, threads: backend.threads, attempts: backend.attempts };
    const manifest: RunManifest = {
      formatVersion: 1,
      kind: 'distill.student-run',
      status: 'complete',
      experiment: cfg.name,
      createdAt,
      finishedAt: new Date().toISOString(),
      config: { source: relative(exp.workspace, exp.file), sourceSha256: exp.fileSha256, overrides: [...exp.overrides], resolvedSha256: sha256Bytes(JSON.stringify(exp.config)) },
      inputs: {
        dataset: { name: inputs.dataset.name, path: relative(exp.workspace, inputs.datasetDir), splits: pick(inputs.dataset.splits, splitNames) },
        store: store
          ? {
              path: relative(exp.workspace, store.dir),
              manifestSha256: inputs.storeManifestSha256!,
              teacherSha256: store.manifest.teacher.sha256,
              encoding: store.encoding,
              splits: pick(store.manifest.dataset.splits, splitNames),
            }
          : null,
      },
      backend: backendRecord,
      seeds: { master: cfg.seed, derivation: 'deriveSeed(master, purpose, epoch, step): init per layer, chunk order per epoch, row order per window, dropout per step' },
      student: { arch: cfg.student.arch, inputShape: student.inputShape, classes: inputs.classes, params: student.params, forwardMacsPerExample: student.forwardMacs, feature: inputs.feature.name, inputScale: inputs.scale },
      training: {
        epochs: train.epochs,
        rowsPerEpoch,
        batchSize: train.batchSize,
        optimizer: train.optimizer,
        learningRate: train.learningRate,
        temperature: train.temperature,
        alpha: train.alpha,
        tail: train.tail,
        shuffleWindow: train.shuffleWindow,
        readAhead: train.readAhead,
        steps,
        resumedFrom,
      },
      epochs: records,
      final,
      outputs: { model: saved.modelJson, weights: saved.weights, weightsSha256: saved.weightsSha256, metrics: OUTPUTS.metrics, config: OUTPUTS.config, checkpoints: OUTPUTS.checkpoints },
      software: { ...softwareProvenance(), tfjs: packageVersion('@tensorflow/tfjs'), backendPackage: backend.package, backendVersion: backend.version },
    };
    const problems = checkAgainstSchema('run-manifest', manifest);
    if (problems.length > 0) throw new Error(`internal: the run manifest does not match schemas/run-manifest.schema.json: ${problems.map((p) => p.message).join('; ')}`);
    await atomicWriteJson(manifestPath, manifest);
    reporter.info(`student ready: ${join(runDir, OUTPUTS.model)} (${cfg.dataset.evalSplit} accuracy ${fmt(final.eval.accuracy)}, agreement ${fmt(final.eval.agreement)})`, {
      run: runDir,
      accuracy: final.eval.accuracy,
      agreement: final.eval.agreement,
    });
    return manifest;
  } finally {
    await batchWorker?.close();
    student?.model.dispose();
    optimizer?.dispose();
    await lock.release();
  }
}
