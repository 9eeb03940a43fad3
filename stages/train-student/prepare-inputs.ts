import { join } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import type { DatasetColumn, DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { columnsWithRole, getSplit, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { verifyDatasetFiles } from '../../pipeline/dataset/verify-dataset.ts';
import { ConfigError, DataError, IntegrityError } from '../../pipeline/errors.ts';
import { sha256File } from '../../pipeline/io/sha256.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { checkStoreProvenance } from '../../pipeline/store/check-store-provenance.ts';
import { openStore, verifyStore } from '../../pipeline/store/open-store.ts';
import type { OpenedStore } from '../../pipeline/store/open-store.ts';
import { STORE_MANIFEST } from '../../pipeline/store/store-manifest.ts';
import { elementTypeOf, featureSizeOf } from '../../pipeline/dataset/feature-size.ts';
import { pathExists } from '../../pipeline/io/path-exists.ts';
import { resolveValidation } from '../../pipeline/config/validation-rows.ts';
import type { ValidationPlan } from '../../pipeline/config/validation-rows.ts';
import { captureTemperatureOf, targetsAllowTemperature } from '../../pipeline/store/soft-target-store.ts';
import { checkViewInputs } from './view-inputs.ts';
import type { SequenceTarget } from './sequence-batch.ts';
import { targetPositions } from './sequence-batch.ts';
import type { SequenceColumns } from './sequence-split-source.ts';
import { checkSequenceStore } from './sequence-targets.ts';

/** Everything the training loop reads, checked against each other. */
export interface TrainingInputs {
  datasetDir: string;
  dataset: DatasetManifest;
  feature: DatasetColumn;
  label: DatasetColumn;
  /** Logical shape of one example's feature (manifest `shape`, else [size]). */
  featureShape: number[];
  /** Factor applied to the feature values. */
  scale: number;
  /** Classes C (the store's encoding.classes when there is a store, else the label's class count). */
  classes: number;
  /** The verified store, or null (hard-label baseline without a store). */
  store: OpenedStore | null;
  /** sha256 of the store's manifest.json; null without a store. */
  storeManifestSha256: string | null;
  /** Whether the eval split has cached targets (agreement and KL are measured then). */
  evalHasTargets: boolean;
  /** The validation rows (dataset.validation), or null when the config names none. */
  validation: ValidationPlan | null;
  /** Whether the validation rows have cached targets (a carve-out has them when the store covers the train split). */
  validationHasTargets: boolean;
  /** A token dataset (task token-classification or causal-lm): what a sequence student reads; absent for classification. */
  sequence?: SequenceInputs;
}

/** The sequence side of the inputs. */
export interface SequenceInputs {
  task: 'token-classification' | 'causal-lm';
  target: SequenceTarget;
  /** Context L and target positions P per row. */
  context: number;
  positions: number;
  /** Input vocabulary (the tokenizer's ids). */
  inputVocab: number;
  columns: SequenceColumns;
}

/** The sequence inputs of a token dataset, or undefined for a classification dataset. */
function sequenceInputs(dataset: DatasetManifest, dir: string, feature: DatasetColumn): SequenceInputs | undefined {
  if (dataset.task !== 'token-classification' && dataset.task !== 'causal-lm') return undefined;
  if (!dataset.sequence) throw new DataError(`${join(dir, 'manifest.json')}: task is ${dataset.task} but the manifest has no sequence.context`);
  const target: SequenceTarget = dataset.task === 'causal-lm' ? 'next-token' : 'token';
  const inputVocab = dataset.tokenizer?.vocabSize ?? feature.vocabSize;
  if (inputVocab === undefined) throw new DataError(`${join(dir, 'manifest.json')}: a token dataset needs tokenizer.vocabSize (or vocabSize on the "${feature.name}" column)`);
  const label = dataset.task === 'token-classification' ? columnsWithRole(dataset, 'label')[0] : undefined;
  if (dataset.task === 'token-classification' && !label) throw new DataError(`${join(dir, 'manifest.json')}: a token-classification dataset needs a label column (one class per position)`);
  const context = dataset.sequence.context;
  return { task: dataset.task, target, context, positions: targetPositions(context, target), inputVocab, columns: { ids: feature, mask: columnsWithRole(dataset, 'mask')[0] ?? null, labels: label ?? null } };
}

/** The label's class count: the manifest's `classes`, else the label histogram's length. */
function labelClasses(manifest: DatasetManifest, label: DatasetColumn): number | null {
  if (label.classes !== undefined) return label.classes;
  const counts = Object.values(manifest.splits).map((s) => s.labelCounts?.length ?? 0);
  return counts.length > 0 ? Math.max(...counts) : null;
}

function pickFeature(manifest: DatasetManifest, dir: string, wanted: string | undefined): DatasetColumn {
  const features = columnsWithRole(manifest, 'feature');
  if (wanted !== undefined) {
    const f = features.find((c) => c.name === wanted);
    if (!f) throw new ConfigError(`student.feature is ${JSON.stringify(wanted)}, but the dataset ${dir} has the feature columns: ${features.map((c) => c.name).join(', ') || '(none)'}`);
    return f;
  }
  if (features.length !== 1) {
    throw new ConfigError(`the dataset ${dir} has ${features.length} feature columns (${features.map((c) => c.name).join(', ')}); set student.feature to one of them`);
  }
  return features[0]!;
}

/**
 * Reads and cross-checks the inputs of a student run before the first step: the dataset manifest and
 * its files' sha256 (train and eval splits); the store (when alpha < 1, or when one exists for the
 * metrics): its shards' sha256 against its manifest, its per-split dataset fingerprints and rows
 * against the dataset in hand (and per-shard fingerprints where a shard and a dataset file cover the
 * same rows), its class count against the dataset's labels, and the top-k temperature rule. Any
 * mismatch throws an error naming both values. Never touches the teacher.
 */
export async function prepareInputs(exp: LoadedExperiment, reporter: Reporter): Promise<TrainingInputs> {
  const cfg = exp.config;
  const train = cfg.train!;
  const student = cfg.student!;
  const datasetDir = resolveInWorkspace(exp.workspace, 'dataset.path', cfg.dataset.path);
  const dataset = await readDatasetManifest(datasetDir);
  const trainInfo = getSplit(dataset, cfg.dataset.trainSplit, `${datasetDir} (dataset.trainSplit)`);
  getSplit(dataset, cfg.dataset.evalSplit, `${datasetDir} (dataset.evalSplit)`);
  const validation = resolveValidation(cfg, trainInfo.rows);
  if (validation?.kind === 'split') getSplit(dataset, validation.split, `${datasetDir} (dataset.validation)`);
  const splits = [...new Set([cfg.dataset.trainSplit, cfg.dataset.evalSplit, ...(validation ? [validation.split] : [])])];
  const feature = pickFeature(dataset, datasetDir, student.feature);
  const sequence = sequenceInputs(dataset, datasetDir, feature);
  // A causal LM's labels are its own ids, shifted: the ids column stands in for the label column.
  const labels = sequence?.task === 'causal-lm' ? [feature] : columnsWithRole(dataset, 'label');
  if (labels.length === 0) throw new DataError(`the dataset ${datasetDir} has no label column; the student stage needs hard labels (accuracy, the alpha * CE term)`);
  const label = labels[0]!;
  await verifyDatasetFiles(datasetDir, dataset, splits);

  const elem = elementTypeOf(feature.type);
  const scale = student.inputScale ?? (elem === 'uint8' ? 1 / 255 : 1);
  const featureShape = feature.shape ?? [featureSizeOf(feature)];
  const datasetClasses = sequence?.task === 'causal-lm' ? sequence.inputVocab : labelClasses(dataset, label);

  let store: OpenedStore | null = null;
  let storeManifestSha256: string | null = null;
  const storeDir = cfg.teacherLogits ? resolveInWorkspace(exp.workspace, 'teacherLogits.store', cfg.teacherLogits.store) : null;
  if (train.alpha < 1) {
    if (!storeDir) throw new ConfigError(`train.alpha is ${train.alpha}: distillation needs a soft-target store, but the config has no teacherLogits section (alpha = 1 trains the hard-label baseline without one)`);
    store = await openStore(storeDir);
  } else if (storeDir && (await pathExists(join(storeDir, STORE_MANIFEST)))) {
    store = await openStore(storeDir);
    reporter.info(`alpha = 1 (hard-label baseline): the store ${storeDir} is read only for teacher agreement on the eval split`);
  }

  let evalHasTargets = false;
  let validationHasTargets = false;
  if (store) {
    await checkStoreProvenance(store, 'train-student');
    const storeSplits = store.splits();
    // The training split's targets (or, at alpha = 1, its stored views) are read.
    const trainReadsStore = train.alpha < 1 || store.encoding.views !== undefined;
    const used = trainReadsStore ? [cfg.dataset.trainSplit] : [];
    if (trainReadsStore && !storeSplits.includes(cfg.dataset.trainSplit)) {
      throw new DataError(`the store ${store.dir} has no split "${cfg.dataset.trainSplit}" (dataset.trainSplit); it has: ${storeSplits.join(', ')}`);
    }
    if (storeSplits.includes(cfg.dataset.evalSplit)) {
      evalHasTargets = true;
      if (!used.includes(cfg.dataset.evalSplit)) used.push(cfg.dataset.evalSplit);
    } else {
      reporter.warn(`the store ${store.dir} has no "${cfg.dataset.evalSplit}" split: teacher agreement and KL are not measured`);
    }
    if (validation && storeSplits.includes(validation.split)) {
      validationHasTargets = true;
      if (!used.includes(validation.split)) used.push(validation.split);
    }
    await verifyStore(store, used);
    for (const s of used) {
      const inStore = store.manifest.dataset.splits[s];
      const inData = dataset.splits[s]!;
      if (!inStore) throw new DataError(`${join(store.dir, STORE_MANIFEST)}: dataset.splits has no "${s}"`);
      if (inStore.fingerprint !== inData.fingerprint || inStore.rows !== inData.rows) {
        throw new IntegrityError(
          `the store ${store.dir} was captured from split "${s}" with fingerprint ${inStore.fingerprint} (${inStore.rows} rows), ` +
            `but the dataset ${datasetDir} has fingerprint ${inData.fingerprint} (${inData.rows} rows); re-run teacher-logits for this dataset`,
        );
      }
      for (const shard of store.shards(s)) {
        const file = inData.files.find((f) => f.rowStart === shard.rowStart && f.rowEnd === shard.rowEnd);
        if (file && file.fingerprint !== shard.datasetFingerprint) {
          throw new IntegrityError(`store shard ${shard.path} was captured from rows ${shard.rowStart}..${shard.rowEnd - 1} with fingerprint ${shard.datasetFingerprint}, but ${join(datasetDir, file.path)} has ${file.fingerprint}`);
        }
      }
    }
    if (datasetClasses !== null && store.encoding.classes !== datasetClasses) {
      throw new DataError(`class count mismatch: the store ${store.dir} has ${store.encoding.classes} classes (encoding.classes), the dataset ${datasetDir} label "${label.name}" has ${datasetClasses}`);
    }
    if (train.alpha < 1 && !targetsAllowTemperature(store.encoding, train.temperature)) {
      const tc = captureTemperatureOf(store.encoding);
      throw new ConfigError(`train.temperature is ${train.temperature}, but the top-k store ${store.dir} was captured at temperature ${tc}; a top-k store fixes T (set train.temperature=${tc})`);
    }
    if (sequence) checkSequenceStore(store.encoding, { context: sequence.context, target: sequence.target, vocab: store.encoding.classes, temperature: train.alpha < 1 ? train.temperature : captureTemperatureOf(store.encoding) }, store.dir);
    else if (store.encoding.positions !== undefined) throw new DataError(`the store ${store.dir} holds per-position targets (encoding.positions ${store.encoding.positions}), but the dataset ${datasetDir} is not a token dataset (task ${dataset.task ?? 'classification'})`);
    storeManifestSha256 = await sha256File(join(store.dir, STORE_MANIFEST));
  }
  checkViewInputs(cfg, store, storeDir, feature, reporter);
  const classes = store ? store.encoding.classes : datasetClasses;
  if (classes === null || classes < 2) throw new DataError(`the dataset ${datasetDir} label "${label.name}" has ${classes ?? 'no'} classes; a student needs at least 2`);
  return { datasetDir, dataset, feature, label, featureShape, scale, classes, store, storeManifestSha256, evalHasTargets, validation, validationHasTargets, ...(sequence ? { sequence } : {}) };
}
