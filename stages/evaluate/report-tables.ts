import type { EvaluateReport } from './evaluate-report.ts';
import { bytes, count, ms, num, pct, pts, tau, times } from './format-numbers.ts';

/** A table of text cells, rendered as Markdown or HTML. */
export interface Table {
  headers: string[];
  rows: string[][];
}

/** The report's tables, shared by the Markdown and HTML renderers. */
export interface ReportTables {
  headline: Table;
  models: Table;
  perClass: Table;
  errors: Table;
  slices: { column: string; distinct: number; omitted: number; table: Table }[];
  robustness: Table | null;
  robustnessKinds: Table | null;
  cascade: Table;
  speed: Table;
  inputs: Table;
}

/** The headline figures. */
function headlineTable(r: EvaluateReport): Table {
  const h = r.headline;
  const headline: Table = {
    headers: ['figure', 'value'],
    rows: [
      ['teacher accuracy', pct(h.teacherAccuracy)],
      ['student accuracy', pct(h.studentAccuracy)],
      ...(h.baselineAccuracy !== null ? [['hard-label baseline accuracy', pct(h.baselineAccuracy)]] : []),
      ['top-1 agreement with the teacher', pct(h.agreement)],
      ['mean KL(teacher || student), T = 1', `${num(h.meanKl, 4)} nats`],
      ['student ECE (15 bins)', pct(h.studentEce)],
      ['degradation under corruption (student drop / teacher drop)', times(h.degradationRatio)],
      ['cascade tau for the target', `${tau(h.cascadeTau)} (defers ${pct(h.cascadeDeferredShare)}, accuracy ${pct(h.cascadeAccuracy)})`],
      ['latency speed-up at batch 1 (p50)', times(h.latencySpeedup)],
      ['throughput ratio at batch 256', times(h.throughputRatio)],
      ['size ratio (teacher / student ONNX)', times(h.sizeRatio)],
    ],
  };
  return headline;
}

/** Accuracy, NLL, ECE and agreement of each model. */
function modelsTable(r: EvaluateReport): Table {
  const modelRow = (name: string, m: EvaluateReport['models']['teacher'], agreement: string): string[] => [name, pct(m.accuracy), num(m.nll, 4), pct(m.calibration.ece), agreement];
  const models: Table = {
    headers: ['model', 'accuracy', 'NLL (nats)', 'ECE', 'agreement with teacher'],
    rows: [
      modelRow('teacher', r.models.teacher, '-'),
      modelRow('student (distilled)', r.models.student, pct(r.agreement.top1)),
      ...(r.models.baseline ? [modelRow('hard-label baseline', r.models.baseline, pct(r.models.baseline.agreement))] : []),
    ],
  };
  return models;
}

/** Where the student's errors come from. */
function errorsTable(r: EvaluateReport): Table {
  const e = r.errors;
  const errors: Table = {
    headers: ['student errors', 'count', 'share'],
    rows: [
      ['own (teacher right)', count(e.own), pct(e.ownShare)],
      ['copied (teacher wrong, same class)', count(e.copied), pct(e.copiedShare)],
      ['both wrong, different classes', count(e.bothWrong), pct(e.studentErrors > 0 ? e.bothWrong / e.studentErrors : null)],
      ['total', count(e.studentErrors), pct(e.studentErrors / e.rows) + ' of rows'],
      ['teacher errors the student fixes', `${count(e.teacherErrorsFixed)} of ${count(e.teacherErrors)}`, pct(e.teacherErrors > 0 ? e.teacherErrorsFixed / e.teacherErrors : null)],
    ],
  };
  return errors;
}

/** The corruption suite, one row per kind and severity; null when it was skipped. */
function robustnessTable(r: EvaluateReport): Table | null {
  const rob = r.robustness.skipped === null ? r.robustness : null;
  const robustness: Table | null = rob
    ? {
        headers: ['corruption', 'severity', 'teacher', 'student', 'agreement'],
        rows: [
          ['none (clean)', '0', pct(rob.summary.clean.teacherAccuracy), pct(rob.summary.clean.studentAccuracy), pct(rob.summary.clean.agreement)],
          ...rob.measurements.map((m) => [m.kind, String(m.severity), pct(m.teacherAccuracy), pct(m.studentAccuracy), pct(m.agreement)]),
        ],
      }
    : null;
  return robustness;
}

/** The corruption suite summarised per kind; null when it was skipped. */
function robustnessKindsTable(r: EvaluateReport): Table | null {
  const rob = r.robustness.skipped === null ? r.robustness : null;
  const robustnessKinds: Table | null = rob
    ? {
        headers: ['corruption', 'teacher mean change', 'student mean change', 'ratio', 'mean agreement'],
        rows: [
          ...rob.summary.kinds.map((k) => [k.kind, pts(-k.teacherMeanDrop), pts(-k.studentMeanDrop), times(k.dropRatio), pct(k.meanAgreement)]),
          ['all', pts(-rob.summary.teacherMeanDrop), pts(-rob.summary.studentMeanDrop), times(rob.summary.dropRatio), '-'],
        ],
      }
    : null;
  return robustnessKinds;
}

/** The cascade curve (distinct deferral shares) and its operating point. */
function cascadeTable(r: EvaluateReport): Table {
  const op = r.cascade.operatingPoint;
  const cascade: Table = {
    headers: ['tau', 'deferred', 'accuracy', 'mean time per input'],
    rows: r.cascade.points
      .filter((p, i, all) => i === 0 || p.deferredShare !== all[i - 1]!.deferredShare)
      .map((p) => [tau(Number.isFinite(p.tau) ? p.tau : null), pct(p.deferredShare), pct(p.accuracy), p.timeMs !== null ? ms(p.timeMs) : 'n/a']),
  };
  cascade.rows.push([`**${tau(Number.isFinite(op.tau) ? op.tau : null)}** (operating point, chosen on ${r.cascade.selection.on})`, pct(op.deferredShare), pct(op.accuracy), op.timeMs !== null ? ms(op.timeMs) : 'n/a']);
  return cascade;
}

/** Latency, throughput, parameters and file size of both models. */
function speedTable(r: EvaluateReport): Table {
  const sp = r.speed;
  const speed: Table = {
    headers: ['', 'teacher', 'student', 'ratio'],
    rows: [
      ['latency p50, batch 1', ms(sp.teacher.timing.latency.p50), ms(sp.student.timing.latency.p50), times(sp.teacher.timing.latency.p50 / sp.student.timing.latency.p50)],
      ['latency p95, batch 1', ms(sp.teacher.timing.latency.p95), ms(sp.student.timing.latency.p95), times(sp.teacher.timing.latency.p95 / sp.student.timing.latency.p95)],
      ['throughput, batch 256', `${count(sp.teacher.timing.throughput)} rows/s`, `${count(sp.student.timing.throughput)} rows/s`, times(sp.student.timing.throughput / sp.teacher.timing.throughput)],
      ['parameters', count(sp.teacher.parameters), count(sp.student.parameters), times(sp.teacher.parameters / sp.student.parameters)],
      ['ONNX file size', bytes(sp.teacher.fileBytes), bytes(sp.student.fileBytes), times(sp.teacher.fileBytes / sp.student.fileBytes)],
    ],
  };
  return speed;
}

/** What the report was computed from. */
function inputsTable(r: EvaluateReport): Table {
  const sp = r.speed;
  const inputs: Table = {
    headers: ['input', 'value'],
    rows: [
      ['dataset', `${r.inputs.dataset.path} split "${r.inputs.dataset.split}", ${count(r.inputs.dataset.rows)} of ${count(r.inputs.dataset.splitRows)} rows, fingerprint ${r.inputs.dataset.fingerprint.slice(0, 16)}…`],
      ['teacher', `${r.inputs.teacher.path} (${r.inputs.teacher.name}), sha256 ${r.inputs.teacher.sha256.slice(0, 16)}…`],
      ['student', `${r.inputs.student.modelJson} (feature "${r.inputs.student.feature}" x ${num(r.inputs.student.inputScale, 6)}, tfjs ${r.inputs.student.tfjsBackend})`],
      ...(r.inputs.baseline ? [['baseline', r.inputs.baseline.modelJson]] : []),
      ['export', `${r.export.path}, sha256 ${r.export.sha256.slice(0, 16)}…; ONNX Runtime vs tfjs max abs diff ${r.export.parity.maxAbsDiff.toExponential(2)} on ${count(r.export.parity.rows)} rows (tolerance ${r.export.parity.tolerance})`],
      ['timing setup', `ONNX Runtime ${sp.onnxruntime}, ${sp.executionProvider}, intra-op threads ${sp.intraOpThreads || 'ORT default'}, graph optimization ${sp.graphOptimization}; ${sp.teacher.timing.latency.runs} batch-1 runs, ${sp.teacher.timing.throughputRuns} batches of ${sp.teacher.timing.throughputBatch}`],
      ['created', r.createdAt],
    ],
  };
  return inputs;
}

/** Builds every table of the report from the measurements. */
export function reportTables(r: EvaluateReport): ReportTables {
  const perClass: Table = {
    headers: ['class', 'rows', 'teacher', 'student', 'delta'],
    rows: r.perClass.map((c) => [c.name, count(c.count), pct(c.teacher), pct(c.student), pts(c.delta)]),
  };
  const slices = r.slices.map((s) => ({
    column: s.column,
    distinct: s.distinctValues,
    omitted: s.omitted,
    table: { headers: ['value', 'rows', 'teacher', 'student', 'delta', 'agreement'], rows: s.values.map((v) => [v.value, count(v.rows), pct(v.teacherAccuracy), pct(v.studentAccuracy), pts(v.delta), pct(v.agreement)]) },
  }));
  return {
    headline: headlineTable(r),
    models: modelsTable(r),
    perClass,
    errors: errorsTable(r),
    slices,
    robustness: robustnessTable(r),
    robustnessKinds: robustnessKindsTable(r),
    cascade: cascadeTable(r),
    speed: speedTable(r),
    inputs: inputsTable(r),
  };
}
