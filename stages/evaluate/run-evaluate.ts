/**
 * The evaluate stage: what the student kept, what it lost and what it bought. The only stage that
 * loads both models: the student with TensorFlow.js, the teacher (and the exported student) with ONNX
 * Runtime through pipeline/engines/onnxruntime.ts. See docs/evaluation.md for every metric.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import { columnsWithRole, getSplit, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { selectBackend } from '../../pipeline/engines/tfjs.ts';
import type { BackendLoader } from '../../pipeline/engines/tfjs.ts';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import { atomicWrite, atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { checkDatasetBindings } from '../../pipeline/teacher/check-bindings.ts';
import { loadTeacher } from '../../pipeline/teacher/load-teacher.ts';
import { exportCheckedStudent } from '../../pipeline/export/export-checked-student.ts';
import { findModelJson, loadStudentModel } from '../../pipeline/student/load-student-model.ts';
import { predictLayersModel } from '../../pipeline/student/predict-layers-model.ts';
import { resolveStudentRun } from '../../pipeline/student/resolve-student-run.ts';
import type { StudentRun } from '../../pipeline/student/resolve-student-run.ts';
import { cascadeCurve } from './cascade-curve.ts';
import type { ClassScores } from './class-scores.ts';
import { checkScores, headRows } from './class-scores.ts';
import { accuracy, meanKl, negativeLogLikelihood, top1Agreement } from './classification-metrics.ts';
import { corruptImages, imageGeometry } from './corrupt-images.ts';
import { countOnnxParameters } from './count-onnx-parameters.ts';
import { errorAttribution } from './error-attribution.ts';
import type { EvaluateReport, ModelMetrics } from './evaluate-report.ts';
import { expectedCalibrationError } from './expected-calibration-error.ts';
import { perClassAccuracy } from './per-class-accuracy.ts';
import { readEvalRows } from '../../pipeline/eval/read-eval-rows.ts';
import { renderReportHtml } from './render-report-html.ts';
import { renderReportMarkdown } from './render-report-markdown.ts';
import { resolveEvaluateSection } from '../../pipeline/eval/resolve-evaluate-section.ts';
import type { CorruptionMeasurement } from './robustness-summary.ts';
import { robustnessSummary } from './robustness-summary.ts';
import { runOnnxModel } from '../../pipeline/eval/run-onnx-model.ts';
import { sliceMetrics } from './slice-metrics.ts';
import { studentLimits } from './student-limits.ts';
import { timeOnnxModel } from './time-onnx-model.ts';

/** Options of {@link runEvaluate}. */
export interface EvaluateOptions {
  /** How tfjs backends are loaded (tests pass a fake). Default the real loader. */
  backendLoader?: BackendLoader;
}

/** File names in the report folder. */
export const REPORT_FILES = { metrics: 'metrics.json', markdown: 'report.md', html: 'report.html' } as const;

function modelMetrics(scores: ClassScores, labels: Int32Array): ModelMetrics {
  return { accuracy: accuracy(scores, labels), nll: negativeLogLikelihood(scores, labels), calibration: expectedCalibrationError(scores, labels) };
}

/**
 * Evaluates the student of `train.run` against the teacher on the eval split and writes
 * metrics.json, report.md and report.html into the report folder (evaluate.report, default
 * `<train.run>/report`); the student is exported to ONNX on the way (evaluate.export, default
 * `<train.run>/export`) and checked against tfjs within 1e-4.
 *
 * @example
 * const exp = await loadExperiment('artifacts/experiments/mnist-kd/experiment.json');
 * const report = await runEvaluate(exp, {}, reporter);
 * report.headline.studentAccuracy; // e.g. 0.975
 */
export async function runEvaluate(exp: LoadedExperiment, opts: EvaluateOptions, reporter: Reporter): Promise<EvaluateReport> {
  const cfg = exp.config;
  if (!cfg.teacher) throw new ConfigError('the experiment has no teacher section: evaluate compares the student with teacher.path');
  if (!cfg.train) throw new ConfigError('the experiment has no train section: evaluate reads the student of train.run');
  const ev = resolveEvaluateSection(cfg.evaluate);
  const split = cfg.dataset.evalSplit;
  const rel = (p: string): string => relative(exp.workspace, p) || '.';

  // Inputs: dataset, student run, teacher.
  const datasetDir = resolveInWorkspace(exp.workspace, 'dataset.path', cfg.dataset.path);
  const dataset = await readDatasetManifest(datasetDir);
  const splitInfo = getSplit(dataset, split, `${datasetDir} (dataset.evalSplit)`);
  const label = columnsWithRole(dataset, 'label')[0];
  if (!label) throw new DataError(`the dataset ${datasetDir} has no label column; evaluation needs labels`);
  const run = await resolveStudentRun(exp, cfg.train.run, 'train.run', dataset);
  const baselineRun = ev.baselineRun ? await resolveBaseline(exp, ev.baselineRun, dataset, reporter) : null;
  const reportDir = ev.report ? resolveInWorkspace(exp.workspace, 'evaluate.report', ev.report) : join(run.dir, 'report');
  const exportDir = ev.export ? resolveInWorkspace(exp.workspace, 'evaluate.export', ev.export) : join(run.dir, 'export');
  const teacherDir = resolveInWorkspace(exp.workspace, 'teacher.path', cfg.teacher.path);
  const sessionOptions = { device: ev.device, intraOpThreads: ev.intraOpThreads, graphOptimization: 'all' as const };
  const teacher = await loadTeacher(teacherDir, sessionOptions, reporter);
  const card = teacher.card.card;
  const releases: (() => Promise<void>)[] = [() => teacher.opened.session.release()];
  try {
    checkDatasetBindings(card, dataset, teacher.card.path, datasetDir);
    const classes = card.classes.count;
    const sliceColumns = columnsWithRole(dataset, 'slice').map((c) => c.name);
    const featureColumns = [...new Set([run.feature, ...(baselineRun ? [baselineRun.feature] : []), ...card.inputs.map((b) => b.column)])];
    const rows = await readEvalRows({ dir: datasetDir, manifest: dataset, split, features: featureColumns, label: label.name, slices: sliceColumns, ...(ev.limitRows ? { limitRows: ev.limitRows } : {}) });
    const n = rows.rows;
    const labels = rows.labels;
    reporter.info(`evaluating on ${n} of ${splitInfo.rows} "${split}" rows: teacher ${rel(teacher.modelPath)} (${teacher.opened.executionProvider}), student ${rel(run.modelJson)}`);

    // Predictions on the clean rows.
    const backend = await selectBackend(cfg.train.backend, opts.backendLoader);
    reporter.info(backend.notice);
    const student = await loadStudentModel(run.modelJson);
    const studentRaw = predictLayersModel(student.model, rows.features.get(run.feature)!, n, run.inputScale, ev.batchSize);
    const studentLogits = toLogits(studentRaw, student.model);
    const studentScores: ClassScores = { rows: n, classes, logits: studentLogits };
    checkScores(studentScores, `student ${run.modelJson}`);
    const teacherProgress = reporter.progress('teacher predictions', n, 'rows');
    const teacherScores: ClassScores = { rows: n, classes, logits: await runOnnxModel(teacher.opened.session, card, rows.features, n, ev.batchSize) };
    teacherProgress.tick(n);
    teacherProgress.done();
    checkScores(teacherScores, `teacher ${teacher.modelPath}`);

    // The export, checked against tfjs on the same rows; its session is timed below.
    const exported = await exportCheckedStudent(
      { run, model: student.model, dir: exportDir, name: `${cfg.name}-student`, ...(card.classes.names ? { classNames: card.classes.names } : {}), columns: rows.features, rows: n, tfjsOutputs: studentRaw, split, session: sessionOptions, keepSession: true, workspace: exp.workspace },
      reporter,
    );
    const studentSession = exported.opened!.session;
    releases.push(() => studentSession.release());

    // Clean metrics.
    const teacherMetrics = modelMetrics(teacherScores, labels);
    const studentMetrics = modelMetrics(studentScores, labels);
    const agreement = top1Agreement(studentScores, teacherScores);
    const kl = meanKl(teacherScores, studentScores);
    let baseline: EvaluateReport['models']['baseline'] = null;
    if (baselineRun) {
      const b = await loadStudentModel(baselineRun.modelJson);
      const raw = predictLayersModel(b.model, rows.features.get(baselineRun.feature)!, n, baselineRun.inputScale, ev.batchSize);
      const scores: ClassScores = { rows: n, classes, logits: toLogits(raw, b.model) };
      b.model.dispose();
      checkScores(scores, `baseline ${baselineRun.modelJson}`);
      baseline = { ...modelMetrics(scores, labels), agreement: top1Agreement(scores, teacherScores) };
    }
    const slices = sliceColumns.map((c) => sliceMetrics(c, rows.slices.get(c)!, teacherScores, studentScores, labels));

    // Corruption suite on the first corruptionRows rows.
    let robustness: EvaluateReport['robustness'];
    const featureColumn = dataset.columns.find((c) => c.name === run.feature)!;
    const teacherColumnsOk = card.inputs.every((b) => b.column === run.feature);
    const isUint8 = rows.features.get(run.feature) instanceof Uint8Array;
    if (ev.corruptions.length === 0) robustness = { skipped: 'evaluate.corruptions is []' };
    else if (!isUint8) robustness = { skipped: `feature "${run.feature}" is ${featureColumn.type}; the corruption suite works on uint8 images` };
    else if (!teacherColumnsOk) robustness = { skipped: `the teacher reads columns ${card.inputs.map((b) => b.column).join(', ')}; the corruption suite needs teacher and student to read the same image column "${run.feature}"` };
    else {
      const geometry = imageGeometry(run.feature, featureColumn.shape);
      const m = Math.min(ev.corruptionRows, n);
      const clean = rows.features.get(run.feature)!.subarray(0, m * geometry.height * geometry.width * geometry.channels) as Uint8Array;
      const cleanT = headRows(teacherScores, m);
      const cleanS = headRows(studentScores, m);
      const lab = labels.subarray(0, m);
      const measurements: CorruptionMeasurement[] = [];
      const progress = reporter.progress('corruption suite', ev.corruptions.length * ev.severities.length, 'passes');
      for (const kind of ev.corruptions) {
        for (const severity of [...ev.severities].sort((a, b) => a - b)) {
          const corrupted = corruptImages(clean, geometry, { kind, severity, seed: cfg.seed });
          const cols = new Map<string, NumericArray>([[run.feature, corrupted]]);
          const s: ClassScores = { rows: m, classes, logits: toLogits(predictLayersModel(student.model, corrupted, m, run.inputScale, ev.batchSize), student.model) };
          const t: ClassScores = { rows: m, classes, logits: await runOnnxModel(teacher.opened.session, card, cols, m, ev.batchSize) };
          measurements.push({ kind, severity, rows: m, teacherAccuracy: accuracy(t, lab), studentAccuracy: accuracy(s, lab), agreement: top1Agreement(s, t) });
          progress.tick(1);
        }
      }
      progress.done();
      const summary = robustnessSummary({ teacherAccuracy: accuracy(cleanT, lab), studentAccuracy: accuracy(cleanS, lab), agreement: top1Agreement(cleanS, cleanT) }, measurements);
      robustness = { rows: m, seed: cfg.seed, kinds: [...ev.corruptions], severities: [...ev.severities].sort((a, b) => a - b), measurements, summary, skipped: null };
    }
    student.model.dispose();

    // Speed and size, both models in the same ONNX Runtime setup.
    reporter.info(`timing teacher and student in ONNX Runtime (${teacher.opened.executionProvider}, ${ev.intraOpThreads || 'default'} intra-op threads): ${ev.latencyRuns} runs at batch 1, ${ev.throughputBatches} batches of 256`);
    const timingOpts = { latencyRuns: ev.latencyRuns, throughputRuns: ev.throughputBatches };
    const teacherTiming = await timeOnnxModel(teacher.opened.session, card, rows.features, n, timingOpts);
    const studentTiming = await timeOnnxModel(studentSession, exported.written.card, rows.features, n, timingOpts);
    const teacherBytes = (await stat(teacher.modelPath)).size;
    const teacherParams = countOnnxParameters(await readFile(teacher.modelPath), teacher.modelPath);

    // Cascade, with batch-1 p50 latencies as the time cost.
    const target = ev.cascadeTarget ?? Math.max(0, teacherMetrics.accuracy - 0.001);
    const cascade = cascadeCurve(teacherScores, studentScores, labels, { target, latency: { studentMs: studentTiming.latency.p50, teacherMs: teacherTiming.latency.p50 } });

    const outputs = { metrics: join(reportDir, REPORT_FILES.metrics), markdown: join(reportDir, REPORT_FILES.markdown), html: join(reportDir, REPORT_FILES.html) };
    const report: EvaluateReport = {
      formatVersion: 1,
      kind: 'distill.evaluation',
      experiment: cfg.name,
      createdAt: new Date().toISOString(),
      inputs: {
        dataset: { path: rel(datasetDir), split, rows: n, splitRows: splitInfo.rows, fingerprint: splitInfo.fingerprint },
        teacher: { path: rel(teacherDir), name: card.name, sha256: teacher.sha256 },
        student: { run: rel(run.dir), modelJson: rel(run.modelJson), feature: run.feature, inputScale: run.inputScale, tfjsBackend: backend.backend },
        baseline: baselineRun ? { run: rel(baselineRun.dir), modelJson: rel(baselineRun.modelJson) } : null,
      },
      headline: {
        teacherAccuracy: teacherMetrics.accuracy,
        studentAccuracy: studentMetrics.accuracy,
        baselineAccuracy: baseline?.accuracy ?? null,
        agreement,
        meanKl: kl,
        studentEce: studentMetrics.calibration.ece,
        degradationRatio: robustness.skipped === null ? robustness.summary.dropRatio : null,
        cascadeTau: Number.isFinite(cascade.operatingPoint.tau) ? cascade.operatingPoint.tau : null,
        cascadeDeferredShare: cascade.operatingPoint.deferredShare,
        cascadeAccuracy: cascade.operatingPoint.accuracy,
        latencySpeedup: teacherTiming.latency.p50 / studentTiming.latency.p50,
        throughputRatio: studentTiming.throughput / teacherTiming.throughput,
        sizeRatio: teacherBytes / exported.written.bytes.byteLength,
      },
      models: { teacher: teacherMetrics, student: studentMetrics, baseline },
      agreement: { top1: agreement, meanKl: kl, klTemperature: 1 },
      perClass: perClassAccuracy(teacherScores, studentScores, labels, card.classes.names),
      errors: errorAttribution(teacherScores, studentScores, labels),
      slices,
      robustness,
      cascade: { ...cascade, targetRule: ev.cascadeTarget !== undefined ? 'evaluate.cascadeTarget' : "the teacher's accuracy minus 0.001 (default)" },
      speed: {
        device: ev.device,
        executionProvider: teacher.opened.executionProvider,
        intraOpThreads: ev.intraOpThreads,
        graphOptimization: sessionOptions.graphOptimization,
        onnxruntime: teacher.opened.onnxruntimeVersion,
        teacher: { file: rel(teacher.modelPath), fileBytes: teacherBytes, parameters: teacherParams, timing: teacherTiming },
        student: { file: rel(exported.written.modelPath), fileBytes: exported.written.bytes.byteLength, parameters: exported.written.conversion.parameters, timing: studentTiming, tfjsBytes: student.bytes },
      },
      export: { path: rel(exported.written.modelPath), sha256: exported.written.sha256, parity: exported.parity },
      limits: [],
      outputs: { metrics: rel(outputs.metrics), markdown: rel(outputs.markdown), html: rel(outputs.html) },
    };
    report.limits = studentLimits(report);
    await atomicWriteJson(outputs.metrics, report);
    await atomicWrite(outputs.markdown, renderReportMarkdown(report));
    await atomicWrite(outputs.html, renderReportHtml(report));
    const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
    reporter.info(
      `report ready: ${rel(outputs.html)} (teacher ${pct(report.headline.teacherAccuracy)}, student ${pct(report.headline.studentAccuracy)}, agreement ${pct(agreement)}, ` +
        `${report.headline.latencySpeedup.toFixed(1)}x faster at batch 1)`,
      { headline: report.headline },
    );
    return report;
  } finally {
    for (const release of releases.reverse()) await release();
  }
}

/** The baseline run, or null with a warning when its folder holds no trained model yet. */
async function resolveBaseline(exp: LoadedExperiment, path: string, dataset: DatasetManifest, reporter: Reporter): Promise<StudentRun | null> {
  try {
    await findModelJson(resolveInWorkspace(exp.workspace, 'evaluate.baselineRun', path));
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    reporter.warn(`evaluate.baselineRun ${path} holds no trained student yet: the report has no hard-label baseline (train it with train.alpha = 1 into that folder, e.g. distill train-student -c <experiment dir>/hard-label.json)`);
    return null;
  }
  return resolveStudentRun(exp, path, 'evaluate.baselineRun', dataset);
}

/** The model's outputs as logits: a softmax head's probabilities become log p (floored like the store). */
function toLogits(outputs: Float32Array, model: { layers: { getConfig(): Record<string, unknown> }[] }): Float32Array {
  const last = model.layers[model.layers.length - 1];
  if (last?.getConfig().activation !== 'softmax') return outputs;
  return outputs.map((p) => (p > 0 ? Math.log(p) : Math.log(2 ** -149)));
}
