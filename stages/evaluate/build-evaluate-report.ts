import { relative } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import type { BackendChoice } from '../../pipeline/engines/tfjs.ts';
import type { CheckedExport } from '../../pipeline/export/export-checked-student.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import type { ReportedCascade } from './choose-on-validation.ts';
import type { ClassScores } from './class-scores.ts';
import { errorAttribution } from './error-attribution.ts';
import type { EvaluateInputs } from './evaluate-inputs.ts';
import type { EvaluateReport, ModelMetrics } from './evaluate-report.ts';
import { perClassAccuracy } from './per-class-accuracy.ts';
import { studentLimits } from './student-limits.ts';
import type { OnnxTiming } from './time-onnx-model.ts';

/** Everything evaluate measured, to be put into the report. */
export interface EvaluateMeasurements {
  rows: number;
  labels: Int32Array;
  backend: BackendChoice;
  teacherScores: ClassScores;
  studentScores: ClassScores;
  models: EvaluateReport['models'];
  agreement: number;
  kl: number;
  slices: EvaluateReport['slices'];
  robustness: EvaluateReport['robustness'];
  cascade: ReportedCascade;
  exported: CheckedExport;
  studentTfjsBytes: number;
  teacherTiming: OnnxTiming;
  studentTiming: OnnxTiming;
  teacherBytes: number;
  teacherParams: number;
}

/** The headline: the few numbers the report leads with. */
function headline(m: EvaluateMeasurements, teacher: ModelMetrics, student: ModelMetrics): EvaluateReport['headline'] {
  const { robustness, cascade } = m;
  return {
    teacherAccuracy: teacher.accuracy,
    studentAccuracy: student.accuracy,
    baselineAccuracy: m.models.baseline?.accuracy ?? null,
    agreement: m.agreement,
    meanKl: m.kl,
    studentEce: student.calibration.ece,
    degradationRatio: robustness.skipped === null ? robustness.summary.dropRatio : null,
    cascadeTau: Number.isFinite(cascade.operatingPoint.tau) ? cascade.operatingPoint.tau : null,
    cascadeDeferredShare: cascade.operatingPoint.deferredShare,
    cascadeAccuracy: cascade.operatingPoint.accuracy,
    latencySpeedup: m.teacherTiming.latency.p50 / m.studentTiming.latency.p50,
    throughputRatio: m.studentTiming.throughput / m.teacherTiming.throughput,
    sizeRatio: m.teacherBytes / m.exported.written.bytes.byteLength,
  };
}

/** Step 6 of evaluate: the report (metrics.json's content), paths relative to the workspace. */
export function buildEvaluateReport(exp: LoadedExperiment, inp: EvaluateInputs, teacher: LoadedTeacher, m: EvaluateMeasurements, outputs: { metrics: string; markdown: string; html: string }): EvaluateReport {
  const rel = (p: string): string => relative(exp.workspace, p) || '.';
  const { ev, run, baselineRun, splitInfo } = inp;
  const card = teacher.card.card;
  const { written } = m.exported;
  const report: EvaluateReport = {
    formatVersion: 1,
    kind: 'distill.evaluation',
    experiment: exp.config.name,
    createdAt: new Date().toISOString(),
    inputs: {
      dataset: { path: rel(inp.datasetDir), split: inp.split, rows: m.rows, splitRows: splitInfo.rows, fingerprint: splitInfo.fingerprint },
      teacher: { path: rel(inp.teacherDir), name: card.name, sha256: teacher.sha256 },
      student: { run: rel(run.dir), modelJson: rel(run.modelJson), feature: run.feature, inputScale: run.inputScale, tfjsBackend: m.backend.backend },
      baseline: baselineRun ? { run: rel(baselineRun.dir), modelJson: rel(baselineRun.modelJson) } : null,
    },
    headline: headline(m, m.models.teacher, m.models.student),
    models: m.models,
    agreement: { top1: m.agreement, meanKl: m.kl, klTemperature: 1 },
    perClass: perClassAccuracy(m.teacherScores, m.studentScores, m.labels, card.classes.names),
    errors: errorAttribution(m.teacherScores, m.studentScores, m.labels),
    slices: m.slices,
    robustness: m.robustness,
    cascade: m.cascade,
    speed: {
      device: ev.device,
      executionProvider: teacher.opened.executionProvider,
      intraOpThreads: ev.intraOpThreads,
      graphOptimization: inp.sessionOptions.graphOptimization,
      onnxruntime: teacher.opened.onnxruntimeVersion,
      teacher: { file: rel(teacher.modelPath), fileBytes: m.teacherBytes, parameters: m.teacherParams, timing: m.teacherTiming },
      student: { file: rel(written.modelPath), fileBytes: written.bytes.byteLength, parameters: written.conversion.parameters, timing: m.studentTiming, tfjsBytes: m.studentTfjsBytes },
    },
    export: { path: rel(written.modelPath), sha256: written.sha256, parity: m.exported.parity },
    limits: [],
    outputs: { metrics: rel(outputs.metrics), markdown: rel(outputs.markdown), html: rel(outputs.html) },
  };
  report.limits = studentLimits(report);
  return report;
}
