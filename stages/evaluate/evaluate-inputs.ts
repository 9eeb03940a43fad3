import { join } from 'node:path';
import type { EvaluateSection } from '../../pipeline/config/experiment-config.ts';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import { columnsWithRole, getSplit, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetColumn, DatasetManifest, DatasetSplit } from '../../pipeline/dataset/dataset-manifest.ts';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import { resolveEvaluateSection } from '../../pipeline/eval/resolve-evaluate-section.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { findModelJson } from '../../pipeline/student/load-student-model.ts';
import { resolveStudentRun } from '../../pipeline/student/resolve-student-run.ts';
import type { StudentRun } from '../../pipeline/student/resolve-student-run.ts';

/** What evaluate reads and where it writes, resolved from the experiment before any model is loaded. */
export interface EvaluateInputs {
  ev: EvaluateSection;
  split: string;
  datasetDir: string;
  dataset: DatasetManifest;
  splitInfo: DatasetSplit;
  label: DatasetColumn;
  run: StudentRun;
  baselineRun: StudentRun | null;
  reportDir: string;
  exportDir: string;
  teacherDir: string;
  sessionOptions: { device: EvaluateSection['device']; intraOpThreads: EvaluateSection['intraOpThreads']; graphOptimization: 'all' };
}

/** The baseline run, or null with a warning when its folder holds no trained model yet. */
export async function resolveBaseline(exp: LoadedExperiment, path: string, dataset: DatasetManifest, reporter: Reporter): Promise<StudentRun | null> {
  try {
    await findModelJson(resolveInWorkspace(exp.workspace, 'evaluate.baselineRun', path));
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    reporter.warn(`evaluate.baselineRun ${path} holds no trained student yet: the report has no hard-label baseline (train it with train.alpha = 1 into that folder, e.g. distill train-student -c <experiment dir>/hard-label.json)`);
    return null;
  }
  return resolveStudentRun(exp, path, 'evaluate.baselineRun', dataset);
}

/** An experiment config with the teacher and train sections evaluate needs. */
type EvaluatedConfig = LoadedExperiment['config'] & Required<Pick<LoadedExperiment['config'], 'teacher' | 'train'>>;

/**
 * What every evaluation starts from: the config (which must have teacher and train sections), the
 * evaluate section with its defaults, the eval split's name, and the dataset's folder and manifest.
 */
export async function evaluateBasics(exp: LoadedExperiment): Promise<{ cfg: EvaluatedConfig; ev: EvaluateSection; split: string; datasetDir: string; dataset: DatasetManifest }> {
  const cfg = exp.config;
  if (!cfg.teacher) throw new ConfigError('the experiment has no teacher section: evaluate compares the student with teacher.path');
  if (!cfg.train) throw new ConfigError('the experiment has no train section: evaluate reads the student of train.run');
  const datasetDir = resolveInWorkspace(exp.workspace, 'dataset.path', cfg.dataset.path);
  return { cfg: cfg as EvaluatedConfig, ev: resolveEvaluateSection(cfg.evaluate), split: cfg.dataset.evalSplit, datasetDir, dataset: await readDatasetManifest(datasetDir) };
}

/**
 * Step 1 of evaluate: the evaluate section with its defaults, the dataset and its eval split, the
 * student run (and the baseline run, when one is trained), the teacher folder and the output folders.
 */
export async function resolveEvaluateInputs(exp: LoadedExperiment, reporter: Reporter): Promise<EvaluateInputs> {
  const { cfg, ev, split, datasetDir, dataset } = await evaluateBasics(exp);
  const splitInfo = getSplit(dataset, split, `${datasetDir} (dataset.evalSplit)`);
  const label = columnsWithRole(dataset, 'label')[0];
  if (!label) throw new DataError(`the dataset ${datasetDir} has no label column; evaluation needs labels`);
  const run = await resolveStudentRun(exp, cfg.train.run, 'train.run', dataset);
  const baselineRun = ev.baselineRun ? await resolveBaseline(exp, ev.baselineRun, dataset, reporter) : null;
  const reportDir = ev.report ? resolveInWorkspace(exp.workspace, 'evaluate.report', ev.report) : join(run.dir, 'report');
  const exportDir = ev.export ? resolveInWorkspace(exp.workspace, 'evaluate.export', ev.export) : join(run.dir, 'export');
  const teacherDir = resolveInWorkspace(exp.workspace, 'teacher.path', cfg.teacher.path);
  const sessionOptions = { device: ev.device, intraOpThreads: ev.intraOpThreads, graphOptimization: 'all' as const };
  return { ev, split, datasetDir, dataset, splitInfo, label, run, baselineRun, reportDir, exportDir, teacherDir, sessionOptions };
}
