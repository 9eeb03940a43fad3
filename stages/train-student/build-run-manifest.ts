import { relative } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { checkAgainstSchema } from '../../pipeline/config/validate-schema.ts';
import type { BackendChoice } from '../../pipeline/engines/tfjs.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { packageVersion, softwareProvenance } from '../../pipeline/provenance.ts';
import type { EpochMetrics, EpochSelection, RunManifest, SequenceStudentRecord, SplitMetrics } from '../../pipeline/student/run-manifest.ts';
import { validationRecord } from '../../pipeline/config/validation-rows.ts';
import type { StudentModel } from './build-student.ts';
import type { TrainingInputs } from './prepare-inputs.ts';
import type { TrainingState } from './resume-run.ts';
import type { SavedModelFiles } from './save-model.ts';

/** What a finished run records besides the config: inputs, backend, model, the epochs and their files. */
export interface RunRecordParts {
  exp: LoadedExperiment;
  inputs: TrainingInputs;
  backend: BackendChoice;
  student: Pick<StudentModel, 'inputShape' | 'params' | 'forwardMacs'>;
  /** Sequence students: what the student was built for (run-manifest student.sequence). */
  sequence?: SequenceStudentRecord;
  state: TrainingState;
  final: EpochMetrics;
  /** Which epoch was kept, and the kept weights scored once on the test split. */
  selection: EpochSelection;
  test: SplitMetrics;
  saved: Pick<SavedModelFiles, 'modelJson' | 'weights' | 'weightsSha256'>;
  rowsPerEpoch: number;
  createdAt: string;
  /** The run folder's files, relative to it. */
  outputs: { metrics: string; config: string; checkpoints: string };
}

type SplitFacts = Record<string, { rows: number; fingerprint: string }>;

const pick = (splits: SplitFacts, names: string[]): SplitFacts =>
  Object.fromEntries(names.filter((n) => splits[n]).map((n) => [n, { rows: splits[n]!.rows, fingerprint: splits[n]!.fingerprint }]));

/**
 * The run manifest of a finished run (schemas/run-manifest.schema.json); a manifest that does not
 * match the schema is an internal error (a bug here, not bad input).
 */
export function buildRunManifest(p: RunRecordParts): RunManifest {
  const { exp, inputs, backend, student, state } = p;
  const cfg = exp.config;
  const train = cfg.train!;
  const store = inputs.store;
  const validation = inputs.validation;
  const splitNames = [...new Set([cfg.dataset.trainSplit, cfg.dataset.evalSplit, ...(validation ? [validation.split] : [])])];
  const backendRecord = { requested: backend.requested, backend: backend.backend, package: backend.package, version: backend.version, tensorflowVersion: backend.tensorflowVersion, onednn: backend.onednn, workarounds: backend.workarounds, device: backend.device, simd: backend.simd, threads: backend.threads, attempts: backend.attempts };
  const manifest: RunManifest = {
    formatVersion: 1,
    kind: 'distill.student-run',
    status: 'complete',
    experiment: cfg.name,
    createdAt: p.createdAt,
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
    student: { arch: cfg.student!.arch, inputShape: student.inputShape, classes: inputs.classes, params: student.params, forwardMacsPerExample: student.forwardMacs, feature: inputs.feature.name, inputScale: inputs.scale, ...(p.sequence ? { sequence: p.sequence } : {}) },
    training: {
      epochs: train.epochs,
      rowsPerEpoch: p.rowsPerEpoch,
      batchSize: train.batchSize,
      optimizer: train.optimizer,
      learningRate: train.learningRate,
      temperature: train.temperature,
      alpha: train.alpha,
      tail: train.tail,
      shuffleWindow: train.shuffleWindow,
      readAhead: train.readAhead,
      steps: state.steps,
      resumedFrom: state.resumedFrom,
    },
    epochs: state.records,
    final: p.final,
    validation: validation ? validationRecord(validation, cfg.seed, inputs.dataset.splits[validation.split]!.rows) : null,
    selection: p.selection,
    test: p.test,
    outputs: { model: p.saved.modelJson, weights: p.saved.weights, weightsSha256: p.saved.weightsSha256, metrics: p.outputs.metrics, config: p.outputs.config, checkpoints: p.outputs.checkpoints },
    software: { ...softwareProvenance(), tfjs: packageVersion('@tensorflow/tfjs'), backendPackage: backend.package, backendVersion: backend.version },
  };
  const problems = checkAgainstSchema('run-manifest', manifest);
  if (problems.length > 0) throw new Error(`internal: the run manifest does not match schemas/run-manifest.schema.json: ${problems.map((q) => q.message).join('; ')}`);
  return manifest;
}
