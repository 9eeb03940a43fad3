/**
 * The evaluate stage: what the student kept, what it lost and what it bought. The only stage that
 * loads both models: the student with TensorFlow.js, the teacher (and the exported student) with ONNX
 * Runtime through pipeline/engines/onnxruntime.ts. See docs/evaluation.md for every metric.
 */
import { readFile, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { columnsWithRole } from '../../pipeline/dataset/dataset-manifest.ts';
import { selectBackend } from '../../pipeline/engines/tfjs.ts';
import type { BackendChoice, BackendLoader } from '../../pipeline/engines/tfjs.ts';
import { readEvalRows } from '../../pipeline/eval/read-eval-rows.ts';
import type { EvalRows } from '../../pipeline/eval/read-eval-rows.ts';
import { runOnnxModel } from '../../pipeline/eval/run-onnx-model.ts';
import { exportCheckedStudent } from '../../pipeline/export/export-checked-student.ts';
import type { CheckedExport } from '../../pipeline/export/export-checked-student.ts';
import { atomicWrite, atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { evaluationKey } from '../../pipeline/eval/evaluation-key.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { loadStudentModel } from '../../pipeline/student/load-student-model.ts';
import type { LoadedStudent } from '../../pipeline/student/load-student-model.ts';
import { predictLayersModel } from '../../pipeline/student/predict-layers-model.ts';
import { checkDatasetBindings } from '../../pipeline/teacher/check-bindings.ts';
import { loadTeacher } from '../../pipeline/teacher/load-teacher.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import { buildEvaluateReport } from './build-evaluate-report.ts';
import type { EvaluateMeasurements } from './build-evaluate-report.ts';
import { chooseCascade, validationScores } from './choose-on-validation.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import type { ClassScores } from './class-scores.ts';
import { checkScores } from './class-scores.ts';
import { accuracy, meanKl, negativeLogLikelihood, top1Agreement } from './classification-metrics.ts';
import { countOnnxParameters } from './count-onnx-parameters.ts';
import { resolveEvaluateInputs } from './evaluate-inputs.ts';
import type { EvaluateInputs } from './evaluate-inputs.ts';
import type { EvaluateReport, ModelMetrics } from './evaluate-report.ts';
import { expectedCalibrationError } from './expected-calibration-error.ts';
import { renderReportHtml } from './render-report-html.ts';
import { renderReportMarkdown } from './render-report-markdown.ts';
import { measureRobustness } from './robustness-suite.ts';
import { sliceMetrics } from './slice-metrics.ts';
import { studentScores, toLogits } from './student-scores.ts';
import { timeOnnxModel } from './time-onnx-model.ts';
import { reportPaths, upToDateReport } from './report-files.ts';
import { isSequenceEvaluation } from './sequence-evaluate-inputs.ts';
import { runSequenceEvaluate } from './run-sequence-evaluate.ts';
import type { SequenceEvaluateReport } from './sequence-evaluate-report.ts';

/** Options of {@link runEvaluate}. */
export interface EvaluateOptions {
  /** Re-evaluate even when the report is up to date (same config, inputs and code). Default false. */
  force?: boolean;
  /** How tfjs backends are loaded (tests pass a fake). Default the real loader. */
  backendLoader?: BackendLoader;
}

export { REPORT_FILES } from './report-files.ts';

function modelMetrics(scores: ClassScores, labels: Int32Array): ModelMetrics {
  return { accuracy: accuracy(scores, labels), nll: negativeLogLikelihood(scores, labels), calibration: expectedCalibrationError(scores, labels) };
}

/** Both models' predictions on the clean eval rows. */
interface CleanPredictions {
  rows: EvalRows;
  classes: number;
  sliceColumns: string[];
  backend: BackendChoice;
  student: LoadedStudent;
  /** The student's raw outputs (what the export is checked against). */
  studentRaw: Float32Array;
  studentScores: ClassScores;
  teacherScores: ClassScores;
}

/** Step 2: reads the eval rows and predicts them with the tfjs student and the ONNX teacher. */
async function predictClean(exp: LoadedExperiment, inp: EvaluateInputs, teacher: LoadedTeacher, opts: EvaluateOptions, reporter: Reporter): Promise<CleanPredictions> {
  const { ev, dataset, datasetDir, split, run, baselineRun } = inp;
  const card = teacher.card.card;
  checkDatasetBindings(card, dataset, teacher.card.path, datasetDir);
  const classes = card.classes.count;
  const sliceColumns = columnsWithRole(dataset, 'slice').map((c) => c.name);
  const featureColumns = [...new Set([run.feature, ...(baselineRun ? [baselineRun.feature] : []), ...card.inputs.map((b) => b.column)])];
  const rows = await readEvalRows({ dir: datasetDir, manifest: dataset, split, features: featureColumns, label: inp.label.name, slices: sliceColumns, ...(ev.limitRows ? { limitRows: ev.limitRows } : {}) });
  const n = rows.rows;
  const rel = (p: string): string => relative(exp.workspace, p) || '.';
  reporter.info(`evaluating on ${n} of ${inp.splitInfo.rows} "${split}" rows: teacher ${rel(teacher.modelPath)} (${teacher.opened.executionProvider}), student ${rel(run.modelJson)}`);

  const backend = await selectBackend(exp.config.train!.backend, opts.backendLoader);
  reporter.info(backend.notice);
  const student = await loadStudentModel(run.modelJson);
  const studentRaw = predictLayersModel(student.model, rows.features.get(run.feature)!, n, run.inputScale, ev.batchSize);
  const scores: ClassScores = { rows: n, classes, logits: toLogits(studentRaw, student.model) };
  checkScores(scores, `student ${run.modelJson}`);
  const teacherProgress = reporter.progress('teacher predictions', n, 'rows');
  const teacherScores: ClassScores = { rows: n, classes, logits: await runOnnxModel(teacher.opened.session, card, rows.features, n, ev.batchSize) };
  teacherProgress.tick(n);
  teacherProgress.done();
  checkScores(teacherScores, `teacher ${teacher.modelPath}`);
  return { rows, classes, sliceColumns, backend, student, studentRaw, studentScores: scores, teacherScores };
}

/** Step 3: accuracy, NLL and calibration of teacher, student and (when trained) the hard-label baseline. */
async function modelsMetrics(inp: EvaluateInputs, p: CleanPredictions): Promise<EvaluateReport['models']> {
  const { ev, baselineRun } = inp;
  const labels = p.rows.labels;
  let baseline: EvaluateReport['models']['baseline'] = null;
  const teacher = modelMetrics(p.teacherScores, labels);
  const student = modelMetrics(p.studentScores, labels);
  if (baselineRun) {
    const b = await loadStudentModel(baselineRun.modelJson);
    const scores = studentScores(b.model, p.rows.features.get(baselineRun.feature)!, p.rows.rows, p.classes, baselineRun.inputScale, ev.batchSize);
    b.model.dispose();
    checkScores(scores, `baseline ${baselineRun.modelJson}`);
    baseline = { ...modelMetrics(scores, labels), agreement: top1Agreement(scores, p.teacherScores) };
  }
  return { teacher, student, baseline };
}

/** Step 5: latency, throughput and size of both models in the same ONNX Runtime setup. */
async function measureSpeed(inp: EvaluateInputs, teacher: LoadedTeacher, exported: CheckedExport, p: CleanPredictions, reporter: Reporter): Promise<Pick<EvaluateMeasurements, 'teacherTiming' | 'studentTiming' | 'teacherBytes' | 'teacherParams'>> {
  const { ev } = inp;
  const n = p.rows.rows;
  reporter.info(`timing teacher and student in ONNX Runtime (${teacher.opened.executionProvider}, ${ev.intraOpThreads || 'default'} intra-op threads): ${ev.latencyRuns} runs at batch 1, ${ev.throughputBatches} batches of 256`);
  const timingOpts = { latencyRuns: ev.latencyRuns, throughputRuns: ev.throughputBatches };
  const teacherTiming = await timeOnnxModel(teacher.opened.session, teacher.card.card, p.rows.features, n, timingOpts);
  const studentTiming = await timeOnnxModel(exported.opened!.session, exported.written.card, p.rows.features, n, timingOpts);
  const teacherBytes = (await stat(teacher.modelPath)).size;
  const teacherParams = countOnnxParameters(await readFile(teacher.modelPath), teacher.modelPath);
  return { teacherTiming, studentTiming, teacherBytes, teacherParams };
}

/**
 * Evaluates the student of `train.run` against the teacher on the eval split and writes
 * metrics.json, report.md and report.html into the report folder (evaluate.report, default
 * `<train.run>/report`); the student is exported to ONNX on the way (evaluate.export, default
 * `<train.run>/export`) and checked against tfjs within 1e-4.
 *
 * Steps: resolve the inputs; predict the clean rows with both models; export the student and check
 * it; clean metrics, slices and the corruption suite; speed and size; the cascade; the report.
 * A token dataset (token classification, causal LM) or a sequence student goes to
 * {@link runSequenceEvaluate} instead (the sequence report).
 *
 * @example
 * const exp = await loadExperiment('artifacts/experiments/mnist-kd/experiment.json');
 * const report = await runEvaluate(exp, {}, reporter);
 * report.headline.studentAccuracy; // e.g. 0.975
 */
export async function runEvaluate(exp: LoadedExperiment, opts: EvaluateOptions, reporter: Reporter): Promise<EvaluateReport | SequenceEvaluateReport> {
  if (await isSequenceEvaluation(exp)) return runSequenceEvaluate(exp, opts, reporter);
  const inp = await resolveEvaluateInputs(exp, reporter);
  const { ev, run, split } = inp;
  const cfg = exp.config;
  const splits = [...new Set([split, ...(cfg.dataset.validation !== undefined ? [typeof cfg.dataset.validation === 'string' ? cfg.dataset.validation : cfg.dataset.trainSplit] : [])])];
  const key = await evaluationKey(exp, { run, baselineRun: inp.baselineRun, teacherDir: inp.teacherDir, dataset: inp.dataset, splits });
  const existing = opts.force ? null : await upToDateReport<EvaluateReport>(inp.reportDir, key);
  if (existing) {
    reporter.info(`${existing.outputs.html} is up to date (same resolved config, inputs and code): nothing re-evaluated`, { report: existing.outputs.metrics, upToDate: true });
    return existing;
  }
  const teacher = await loadTeacher(inp.teacherDir, inp.sessionOptions, reporter);
  const card = teacher.card.card;
  const releases: (() => Promise<void>)[] = [() => teacher.opened.session.release()];
  try {
    const p = await predictClean(exp, inp, teacher, opts, reporter);
    const { rows, student } = p;
    const n = rows.rows;
    const labels = rows.labels;
    // The export, checked against tfjs on the same rows; its session is timed below.
    const exported = await exportCheckedStudent(
      { run, model: student.model, dir: inp.exportDir, name: `${exp.config.name}-student`, ...(card.classes.names ? { classNames: card.classes.names } : {}), columns: rows.features, rows: n, tfjsOutputs: p.studentRaw, split, session: inp.sessionOptions, keepSession: true, workspace: exp.workspace },
      reporter,
    );
    const studentSession = exported.opened!.session;
    releases.push(() => studentSession.release());

    const models = await modelsMetrics(inp, p);
    const agreement = top1Agreement(p.studentScores, p.teacherScores);
    const kl = meanKl(p.teacherScores, p.studentScores);
    const slices = p.sliceColumns.map((c) => sliceMetrics(c, rows.slices.get(c)!, p.teacherScores, p.studentScores, labels));
    const featureColumn = inp.dataset.columns.find((c) => c.name === run.feature)!;
    const trainFeature = async (): Promise<{ values: NumericArray; rows: number }> => {
      const t = await readEvalRows({ dir: inp.datasetDir, manifest: inp.dataset, split: exp.config.dataset.trainSplit, features: [run.feature], label: inp.label.name });
      return { values: t.features.get(run.feature)!, rows: t.rows };
    };
    const robustness = await measureRobustness(
      { ev, seed: exp.config.seed, run, featureColumn, card, teacherSession: teacher.opened.session, student: student.model, features: rows.features, labels, rows: n, classes: p.classes, teacherScores: p.teacherScores, studentScores: p.studentScores, trainFeature },
      reporter,
    );
    const validation = await validationScores(exp, inp, teacher, student.model, p.classes, reporter);
    student.model.dispose();
    const speed = await measureSpeed(inp, teacher, exported, p, reporter);
    // Cascade: tau chosen on validation, scored on test, with batch-1 p50 latencies as the time cost.
    const test = { split, rows: n, labels, teacher: p.teacherScores, student: p.studentScores };
    const cascade = chooseCascade(ev, test, validation, { studentMs: speed.studentTiming.latency.p50, teacherMs: speed.teacherTiming.latency.p50 });

    const outputs = reportPaths(inp.reportDir);
    const measured: EvaluateMeasurements = { rows: n, labels, backend: p.backend, teacherScores: p.teacherScores, studentScores: p.studentScores, models, agreement, kl, slices, robustness, cascade, exported, studentTfjsBytes: student.bytes, ...speed };
    const report = { ...buildEvaluateReport(exp, inp, teacher, measured, outputs), key };
    await atomicWriteJson(outputs.metrics, report);
    await atomicWrite(outputs.markdown, renderReportMarkdown(report));
    await atomicWrite(outputs.html, renderReportHtml(report));
    const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
    reporter.info(
      `report ready: ${report.outputs.html} (teacher ${pct(report.headline.teacherAccuracy)}, student ${pct(report.headline.studentAccuracy)}, agreement ${pct(agreement)}, ` +
        `${report.headline.latencySpeedup.toFixed(1)}x faster at batch 1)`,
      { headline: report.headline },
    );
    return report;
  } finally {
    for (const release of releases.reverse()) await release();
  }
}
