import { relative } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import type { BackendChoice } from '../../pipeline/engines/tfjs.ts';
import type { CheckedSequenceExport } from '../../pipeline/export/export-checked-sequence.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import type { DiacriticErrorRates } from './diacritic-error-rates.ts';
import type { SequenceEvaluateInputs } from './sequence-evaluate-inputs.ts';
import type { SequenceBaselineMetrics, SequenceEvaluateReport, SequenceSelection } from './sequence-evaluate-report.ts';
import { sequenceLimits } from './sequence-limits.ts';
import type { SequenceReport } from './sequence-report.ts';
import type { OnnxTiming } from './time-onnx-model.ts';
import type { TokenRobustness } from './token-robustness.ts';

/** Everything a sequence evaluation measured, to be put into the report. */
export interface SequenceMeasurements {
  rows: number;
  context: number;
  positions: number;
  backend: BackendChoice;
  student: { arch: string; params: number; macsPerToken: number; tfjsBytes: number };
  sequence: SequenceReport;
  slicesSkipped: { column: string; values: number }[];
  selection: SequenceSelection;
  baseline: SequenceBaselineMetrics | null;
  robustness: TokenRobustness;
  exported: CheckedSequenceExport;
  teacherTiming: OnnxTiming;
  studentTiming: OnnxTiming | null;
  teacherBytes: number;
  teacherParams: number;
}

/**
 * Share of the student's extra letter errors (student minus teacher) that sit on case endings;
 * null when the student makes no more errors than the teacher.
 */
export function caseEndingGapShare(teacher: DiacriticErrorRates, student: DiacriticErrorRates): number | null {
  const errors = (d: DiacriticErrorRates): { all: number; internal: number } => ({ all: Math.round(d.der * d.letters), internal: Math.round(d.derNoCaseEnding * d.lettersNoCaseEnding) });
  const t = errors(teacher);
  const s = errors(student);
  const gap = s.all - t.all;
  return gap > 0 ? (s.all - s.internal - (t.all - t.internal)) / gap : null;
}

function headline(m: SequenceMeasurements): SequenceEvaluateReport['headline'] {
  const t = m.sequence.tokens;
  const d = m.sequence.diacritics;
  const st = m.studentTiming;
  return {
    teacherAccuracy: t.teacher.accuracy,
    studentAccuracy: t.student.accuracy,
    baselineAccuracy: m.baseline?.tokens.accuracy ?? null,
    teacherPerplexity: t.teacher.perplexity,
    studentPerplexity: t.student.perplexity,
    agreement: t.agreement,
    klTeacherStudent: t.klTeacherStudent,
    studentEce: t.student.ece,
    teacherDer: d?.teacher.der ?? null,
    studentDer: d?.student.der ?? null,
    baselineDer: m.baseline?.diacritics?.der ?? null,
    caseEndingGapShare: d ? caseEndingGapShare(d.teacher, d.student) : null,
    degradationRatio: m.robustness.skipped === null ? m.robustness.summary.dropRatio : null,
    latencySpeedup: st ? m.teacherTiming.latency.p50 / st.latency.p50 : null,
    throughputRatio: st ? st.throughput / m.teacherTiming.throughput : null,
    sizeRatio: m.exported.exportable ? m.teacherBytes / m.exported.written.bytes.byteLength : null,
  };
}

/** The last step of a sequence evaluation: metrics.json's content, paths relative to the workspace. */
export function buildSequenceEvaluateReport(exp: LoadedExperiment, inp: SequenceEvaluateInputs, teacher: LoadedTeacher, m: SequenceMeasurements, outputs: { metrics: string; markdown: string; html: string }): SequenceEvaluateReport {
  const rel = (p: string): string => relative(exp.workspace, p) || '.';
  const { ev, run, baselineRun, splitInfo } = inp;
  const card = teacher.card.card;
  const ex = m.exported;
  const report: Omit<SequenceEvaluateReport, 'limits'> = {
    formatVersion: 1,
    kind: 'distill.evaluation',
    report: 'sequence',
    task: inp.task,
    experiment: exp.config.name,
    createdAt: new Date().toISOString(),
    inputs: {
      dataset: { path: rel(inp.datasetDir), split: inp.split, rows: m.rows, splitRows: splitInfo.rows, fingerprint: splitInfo.fingerprint, context: m.context, positions: m.positions },
      teacher: { path: rel(inp.teacherDir), name: card.name, sha256: teacher.sha256 },
      student: { run: rel(run.dir), modelJson: rel(run.modelJson), arch: m.student.arch, params: m.student.params, macsPerToken: m.student.macsPerToken, tfjsBackend: m.backend.backend },
      baseline: baselineRun ? { run: rel(baselineRun.dir), modelJson: rel(baselineRun.modelJson) } : null,
    },
    headline: headline(m),
    sequence: m.sequence,
    slicesSkipped: m.slicesSkipped,
    selection: m.selection,
    baseline: m.baseline,
    robustness: m.robustness,
    speed: {
      device: ev.device,
      executionProvider: teacher.opened.executionProvider,
      intraOpThreads: ev.intraOpThreads,
      graphOptimization: inp.sessionOptions.graphOptimization,
      onnxruntime: teacher.opened.onnxruntimeVersion,
      tokensPerRow: m.context,
      teacher: { file: rel(teacher.modelPath), fileBytes: m.teacherBytes, parameters: m.teacherParams, timing: m.teacherTiming },
      student: ex.exportable && m.studentTiming ? { file: rel(ex.written.modelPath), fileBytes: ex.written.bytes.byteLength, parameters: ex.written.parameters, timing: m.studentTiming, tfjsBytes: m.student.tfjsBytes } : null,
    },
    export: ex.exportable ? { exportable: true, path: rel(ex.written.modelPath), sha256: ex.written.sha256, parity: ex.parity } : { exportable: false, reason: ex.reason },
    outputs: { metrics: rel(outputs.metrics), markdown: rel(outputs.markdown), html: rel(outputs.html) },
  };
  return { ...report, limits: sequenceLimits(report) };
}
