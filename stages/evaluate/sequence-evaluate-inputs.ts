import { join } from 'node:path';
import type { EvaluateSection } from '../../pipeline/config/experiment-config.ts';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import { resolveValidation } from '../../pipeline/config/validation-rows.ts';
import type { ValidationPlan } from '../../pipeline/config/validation-rows.ts';
import { getSplit, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetManifest, DatasetSplit } from '../../pipeline/dataset/dataset-manifest.ts';
import { DataError } from '../../pipeline/errors.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { resolveStudentRun } from '../../pipeline/student/resolve-student-run.ts';
import type { StudentRun } from '../../pipeline/student/resolve-student-run.ts';
import { isSequenceRun } from '../../pipeline/student/sequence/sequence-model-file.ts';
import { evaluateBasics, resolveBaseline } from './evaluate-inputs.ts';

/** What a sequence evaluation reads and where it writes, resolved before any model is loaded. */
export interface SequenceEvaluateInputs {
  ev: EvaluateSection;
  task: 'token-classification' | 'causal-lm';
  split: string;
  datasetDir: string;
  dataset: DatasetManifest;
  splitInfo: DatasetSplit;
  run: StudentRun;
  baselineRun: StudentRun | null;
  /** Where the cascade thresholds are chosen; null: on the test rows (the report says so). */
  validation: ValidationPlan | null;
  reportDir: string;
  exportDir: string;
  teacherDir: string;
  sessionOptions: { device: EvaluateSection['device']; intraOpThreads: EvaluateSection['intraOpThreads']; graphOptimization: 'all' };
}

/**
 * Whether `exp` is evaluated as a sequence model: its dataset is a token dataset of task
 * token-classification or causal-lm, or its student (train.run) is a sequence student.
 */
export async function isSequenceEvaluation(exp: LoadedExperiment): Promise<boolean> {
  const dataset = await readDatasetManifest(resolveInWorkspace(exp.workspace, 'dataset.path', exp.config.dataset.path));
  if (dataset.task === 'token-classification' || dataset.task === 'causal-lm') return true;
  return exp.config.train ? isSequenceRun(resolveInWorkspace(exp.workspace, 'train.run', exp.config.train.run)) : false;
}

/**
 * Step 1 of a sequence evaluation: the evaluate section, the token dataset and its eval split, the
 * student run (a sequence student) and the baseline run, the validation plan, the teacher folder and
 * the output folders.
 * @throws DataError when the dataset is not a token dataset or a run holds no sequence student.
 */
export async function resolveSequenceEvaluateInputs(exp: LoadedExperiment, reporter: Reporter): Promise<SequenceEvaluateInputs> {
  const { cfg, ev, split, datasetDir, dataset } = await evaluateBasics(exp);
  const task = dataset.task;
  if (task !== 'token-classification' && task !== 'causal-lm') {
    throw new DataError(`${join(datasetDir, 'manifest.json')}: task is ${task ?? 'classification (none recorded)'}, but the student of ${cfg.train.run} is a sequence student; evaluate it on a token dataset (task token-classification or causal-lm, e.g. from distill data text)`);
  }
  const splitInfo = getSplit(dataset, split, `${datasetDir} (dataset.evalSplit)`);
  const run = await resolveStudentRun(exp, cfg.train.run, 'train.run', dataset);
  if (!(await isSequenceRun(run.dir))) throw new DataError(`${run.modelJson}: not a sequence student (format distill-sequence-student), but the dataset is a ${task} token dataset`);
  const baselineRun = ev.baselineRun ? await resolveBaseline(exp, ev.baselineRun, dataset, reporter) : null;
  if (baselineRun && !(await isSequenceRun(baselineRun.dir))) throw new DataError(`${baselineRun.modelJson} (evaluate.baselineRun): not a sequence student, but the dataset is a ${task} token dataset`);
  const validation = resolveValidation(cfg, dataset.splits[cfg.dataset.trainSplit]?.rows ?? 0);
  const reportDir = ev.report ? resolveInWorkspace(exp.workspace, 'evaluate.report', ev.report) : join(run.dir, 'report');
  const exportDir = ev.export ? resolveInWorkspace(exp.workspace, 'evaluate.export', ev.export) : join(run.dir, 'export');
  const teacherDir = resolveInWorkspace(exp.workspace, 'teacher.path', cfg.teacher.path);
  const sessionOptions = { device: ev.device, intraOpThreads: ev.intraOpThreads, graphOptimization: 'all' as const };
  return { ev, task, split, datasetDir, dataset, splitInfo, run, baselineRun, validation, reportDir, exportDir, teacherDir, sessionOptions };
}
