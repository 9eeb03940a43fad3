import { join, resolve } from 'node:path';
import type { LoadedExperiment } from '../config/load-experiment.ts';
import { resolveInWorkspace } from '../config/load-experiment.ts';
import type { DatasetManifest } from '../dataset/dataset-manifest.ts';
import { columnsWithRole } from '../dataset/dataset-manifest.ts';
import { elementTypeOf } from '../dataset/feature-size.ts';
import { ConfigError, DataError } from '../errors.ts';
import { RUN_MANIFEST } from './run-manifest.ts';
import type { RunManifest } from './run-manifest.ts';
import { findModelJson } from './load-student-model.ts';
import { readJsonFile } from '../io/read-json.ts';
import { checkRecordedStore } from '../store/check-store-provenance.ts';

/** A finished student run and how its model reads the dataset. */
export interface StudentRun {
  /** Absolute run folder. */
  dir: string;
  /** Path of model.json. */
  modelJson: string;
  /** The run manifest, or null when the folder has none (a model saved by other means). */
  manifest: RunManifest | null;
  /** Dataset feature column the student reads. */
  feature: string;
  /** Factor applied to the feature values before the model. */
  inputScale: number;
}

/**
 * Finds the student of a run folder and its input convention: from the run manifest
 * (`student.feature`, `student.inputScale`) when there is one, else from the config with the
 * train-student rules (student.feature or the dataset's only feature; student.inputScale or 1/255
 * for uint8 features, else 1). A manifest whose status is not `complete` is a DataError.
 * @param field - the config field that named the folder, for messages (e.g. `train.run`).
 */
export async function resolveStudentRun(exp: LoadedExperiment, runPath: string, field: string, dataset: DatasetManifest): Promise<StudentRun> {
  const dir = resolveInWorkspace(exp.workspace, field, runPath);
  const read = await readJsonFile(join(dir, RUN_MANIFEST));
  if (!read.ok && !read.missing) throw new DataError(`${join(dir, RUN_MANIFEST)}: cannot read (${read.problem})`);
  const manifest = read.ok ? (read.value as RunManifest | null) : null;
  if (manifest && manifest.status !== 'complete') {
    throw new DataError(`${join(dir, RUN_MANIFEST)}: status is ${JSON.stringify(manifest.status)}, expected "complete"; finish the run first (distill train-student --resume)`);
  }
  if (manifest?.inputs?.store) {
    await checkRecordedStore(manifest.inputs.store, resolve(exp.workspace, manifest.inputs.store.path), `the student run ${runPath}`);
  }
  const modelJson = await findModelJson(dir);
  const features = columnsWithRole(dataset, 'feature');
  const wanted = manifest?.student.feature ?? exp.config.student?.feature;
  const column = wanted !== undefined ? features.find((c) => c.name === wanted) : features.length === 1 ? features[0] : undefined;
  if (!column) {
    throw new ConfigError(
      wanted !== undefined
        ? `the student of ${dir} reads feature "${wanted}", but the dataset has: ${features.map((c) => c.name).join(', ')}`
        : `the dataset has ${features.length} feature columns (${features.map((c) => c.name).join(', ')}); set student.feature`,
    );
  }
  const elem = elementTypeOf(column.type);
  const inputScale = manifest?.student.inputScale ?? exp.config.student?.inputScale ?? (elem === 'uint8' ? 1 / 255 : 1);
  return { dir, modelJson, manifest, feature: column.name, inputScale };
}
