/** The tables of a sequence report, shared by the Markdown and HTML renderers. */
import type { DiacriticErrorRates } from './diacritic-error-rates.ts';
import { bytes, count, ms, num, pct, pts, tau, times } from './format-numbers.ts';
import type { Table } from './report-tables.ts';
import type { SequenceEvaluateReport } from './sequence-evaluate-report.ts';
import type { TokenModelMetrics } from './token-metrics.ts';

/** Every table of a sequence report; null where the section does not apply. */
export interface SequenceTables {
  headline: Table;
  tokens: Table;
  errors: Table;
  slices: { column: string; table: Table }[];
  diacritics: Table | null;
  caseEndings: Table | null;
  wordFrequency: Table | null;
  wordCascade: Table | null;
  lmBuckets: Table | null;
  /** Perplexity and KL per value of each per-row slice (e.g. genre); [] without the LM section. */
  lmSlices: { column: string; table: Table }[];
  lmCascade: Table | null;
  robustness: Table | null;
  robustnessKinds: Table | null;
  speed: Table;
  inputs: Table;
}

const tauText = (x: number): string => tau(Number.isFinite(x) ? x : null);

function headlineTable(r: SequenceEvaluateReport): Table {
  const h = r.headline;
  const rows: string[][] = [
    ['teacher token accuracy', pct(h.teacherAccuracy)],
    ['student token accuracy', pct(h.studentAccuracy)],
    ...(h.baselineAccuracy !== null ? [['hard-label baseline token accuracy', pct(h.baselineAccuracy)]] : []),
    ['perplexity, teacher / student', `${num(h.teacherPerplexity, 3)} / ${num(h.studentPerplexity, 3)}`],
    ['top-1 agreement with the teacher (per position)', pct(h.agreement)],
    ['mean KL(teacher || student), T = 1', `${num(h.klTeacherStudent, 4)} nats`],
    ['student token ECE (15 bins)', pct(h.studentEce)],
  ];
  if (h.studentDer !== null) {
    rows.push(['DER, teacher / student' + (h.baselineDer !== null ? ' / hard-label' : ''), [h.teacherDer, h.studentDer, ...(h.baselineDer !== null ? [h.baselineDer] : [])].map((x) => pct(x)).join(' / ')]);
    rows.push(["share of the student's extra letter errors on case endings", pct(h.caseEndingGapShare)]);
  }
  rows.push(
    ['degradation under perturbation (student drop / teacher drop)', times(h.degradationRatio)],
    ['latency speed-up at batch 1 (p50)', times(h.latencySpeedup)],
    ['throughput ratio', times(h.throughputRatio)],
    ['size ratio (teacher / student ONNX)', times(h.sizeRatio)],
  );
  return { headers: ['figure', 'value'], rows };
}

function tokensTable(r: SequenceEvaluateReport): Table {
  const t = r.sequence.tokens;
  const row = (name: string, m: TokenModelMetrics, agreement: string): string[] => [name, pct(m.accuracy), num(m.nll, 4), num(m.perplexity, 3), num(m.entropy, 4), pct(m.ece), agreement];
  return {
    headers: ['model', 'accuracy', 'NLL (nats)', 'perplexity', 'entropy (nats)', 'ECE', 'agreement with teacher'],
    rows: [row('teacher', t.teacher, '-'), row('student (distilled)', t.student, pct(t.agreement)), ...(r.baseline ? [row('hard-label baseline', r.baseline.tokens, pct(r.baseline.agreement))] : [])],
  };
}

function errorsTable(r: SequenceEvaluateReport): Table {
  const e = r.sequence.tokens.attribution;
  return {
    headers: ['student errors (positions)', 'count', 'share'],
    rows: [
      ['own (teacher right)', count(e.own), pct(e.ownShare)],
      ['copied (teacher wrong, same class)', count(e.copied), pct(e.copiedShare)],
      ['both wrong, different classes', count(e.bothWrong), pct(e.studentErrors > 0 ? e.bothWrong / e.studentErrors : null)],
      ['total', count(e.studentErrors), pct(e.studentErrors / e.rows) + ' of positions'],
      ['teacher errors the student fixes', `${count(e.teacherErrorsFixed)} of ${count(e.teacherErrors)}`, pct(e.teacherErrors > 0 ? e.teacherErrorsFixed / e.teacherErrors : null)],
    ],
  };
}

function slicesTables(r: SequenceEvaluateReport): { column: string; table: Table }[] {
  return Object.entries(r.sequence.slices).map(([column, values]) => ({
    column,
    table: {
      headers: ['value', 'positions', 'teacher', 'student', 'delta', 'agreement', 'NLL teacher', 'NLL student'],
      rows: values.map((v) => [v.value, count(v.metrics.positions), pct(v.metrics.teacher.accuracy), pct(v.metrics.student.accuracy), pts(v.metrics.student.accuracy - v.metrics.teacher.accuracy), pct(v.metrics.agreement), num(v.metrics.teacher.nll, 4), num(v.metrics.student.nll, 4)]),
    },
  }));
}

const derRow = (name: string, d: DiacriticErrorRates): string[] => [name, pct(d.der), pct(d.derNoCaseEnding), pct(d.wer), pct(d.werNoCaseEnding)];
const DER_HEADERS = ['model', 'DER', 'DER w/o case endings', 'WER', 'WER w/o case endings'];

function diacriticTables(r: SequenceEvaluateReport): Pick<SequenceTables, 'diacritics' | 'caseEndings' | 'wordFrequency' | 'wordCascade'> {
  const d = r.sequence.diacritics;
  if (!d) return { diacritics: null, caseEndings: null, wordFrequency: null, wordCascade: null };
  const c = d.cascade;
  return {
    diacritics: {
      headers: DER_HEADERS,
      rows: [derRow('teacher', d.teacher), derRow('student (distilled)', d.student), ...(r.baseline?.diacritics ? [derRow('hard-label baseline', r.baseline.diacritics)] : []), ['letters / words scored', `${count(d.student.letters)} letters`, `${count(d.student.lettersNoCaseEnding)}`, `${count(d.student.words)} words`, `${count(d.student.wordsNoCaseEnding)}`]],
    },
    caseEndings: {
      headers: ['letters', 'count', 'student agrees with teacher'],
      rows: [
        ['case endings (word-final)', count(d.agreement.caseEndingLetters), pct(d.agreement.caseEnding)],
        ['word-internal', count(d.agreement.internalLetters), pct(d.agreement.internal)],
      ],
    },
    wordFrequency: {
      headers: ['words (train count)', 'words', 'teacher DER', 'student DER', 'teacher WER', 'student WER'],
      rows: (['frequent', 'rare', 'unseen'] as const).map((b) => [b, count(d.byWordFrequency.student[b].words), pct(d.byWordFrequency.teacher[b].der), pct(d.byWordFrequency.student[b].der), pct(d.byWordFrequency.teacher[b].wer), pct(d.byWordFrequency.student[b].wer)]),
    },
    wordCascade: {
      headers: ['', 'DER', 'DER w/o case endings', 'WER', 'WER w/o case endings'],
      rows: [
        derRow('student alone', c.student),
        derRow(`cascade (tau ${tauText(c.threshold.tau)}: ${pct(c.wordsDeferredShare)} of words, ${pct(c.lettersDeferredShare)} of letters to the teacher)`, c.cascade),
        derRow('teacher alone', c.teacher),
      ],
    },
  };
}

function lmTables(r: SequenceEvaluateReport): Pick<SequenceTables, 'lmBuckets' | 'lmSlices' | 'lmCascade'> {
  const lm = r.sequence.lm;
  if (!lm) return { lmBuckets: null, lmSlices: [], lmCascade: null };
  const baseline = r.baseline !== null;
  return {
    lmSlices: Object.entries(lm.rowSlices).map(([column, values]) => ({
      column,
      table: {
        headers: [column, 'tokens (targets)', 'teacher perplexity', 'student perplexity', ...(baseline ? ['hard-label perplexity'] : []), 'student / teacher', 'KL(teacher || student), nats'],
        rows: values.map((v) => [v.value, count(v.positions), num(v.teacherPerplexity, 3), num(v.studentPerplexity, 3), ...(baseline ? [v.baselinePerplexity === null ? '-' : num(v.baselinePerplexity, 3)] : []), num(v.studentPerplexity / v.teacherPerplexity, 3), num(v.klTeacherStudent, 4)]),
      },
    })),
    lmBuckets: {
      headers: ['target token (train frequency)', 'positions', 'teacher NLL', 'student NLL', 'gap'],
      rows: lm.nllByBucket.map((b) => [b.bucket, count(b.positions), num(b.teacherNll, 4), num(b.studentNll, 4), num(b.studentNll - b.teacherNll, 4)]),
    },
    lmCascade: {
      headers: ['unit', 'tau', 'units deferred', 'positions deferred', 'perplexity student', 'cascade', 'teacher', 'gap recovered'],
      rows: [lm.cascade.position, lm.cascade.window].map((c) => [c.level, `${tauText(c.threshold.tau)}${c.threshold.unreachable ? ' (target unreachable)' : ''}`, pct(c.unitsDeferredShare), pct(c.positionsDeferredShare), num(c.studentPerplexity, 3), num(c.cascadePerplexity, 3), num(c.teacherPerplexity, 3), pct(c.perplexityRecovered)]),
    },
  };
}

function robustnessTables(r: SequenceEvaluateReport): Pick<SequenceTables, 'robustness' | 'robustnessKinds'> {
  const rob = r.robustness.skipped === null ? r.robustness : null;
  if (!rob) return { robustness: null, robustnessKinds: null };
  const der = rob.clean.studentDer !== undefined;
  const row = (kind: string, m: (typeof rob.measurements)[number]): string[] => [kind, String(m.severity), count(m.positions), pct(m.teacherAccuracy), pct(m.studentAccuracy), pct(m.agreement), ...(der ? [pct(m.teacherDer), pct(m.studentDer)] : [])];
  return {
    robustness: {
      headers: ['perturbation', 'severity', 'positions', 'teacher', 'student', 'agreement', ...(der ? ['teacher DER', 'student DER'] : [])],
      rows: [row('none (clean)', rob.clean), ...rob.measurements.map((m) => row(m.kind, m))],
    },
    robustnessKinds: {
      headers: ['perturbation', 'teacher mean change', 'student mean change', 'ratio', 'mean agreement'],
      rows: [...rob.summary.kinds.map((k) => [k.kind, pts(-k.teacherMeanDrop), pts(-k.studentMeanDrop), times(k.dropRatio), pct(k.meanAgreement)]), ['all', pts(-rob.summary.teacherMeanDrop), pts(-rob.summary.studentMeanDrop), times(rob.summary.dropRatio), '-']],
    },
  };
}

function speedTable(r: SequenceEvaluateReport): Table {
  const sp = r.speed;
  const t = sp.teacher;
  const s = sp.student;
  const ratio = (a: number, b: number | undefined): string => (b === undefined ? 'n/a' : times(a / b));
  const na = 'not exported';
  return {
    headers: ['', 'teacher', 'student', 'ratio'],
    rows: [
      [`latency p50, batch 1 (one row of ${sp.tokensPerRow} tokens)`, ms(t.timing.latency.p50), s ? ms(s.timing.latency.p50) : na, ratio(t.timing.latency.p50, s?.timing.latency.p50)],
      ['latency p95, batch 1', ms(t.timing.latency.p95), s ? ms(s.timing.latency.p95) : na, ratio(t.timing.latency.p95, s?.timing.latency.p95)],
      [`throughput, batch ${t.timing.throughputBatch}`, `${count(t.timing.throughput * sp.tokensPerRow)} tokens/s`, s ? `${count(s.timing.throughput * sp.tokensPerRow)} tokens/s` : na, s ? times(s.timing.throughput / t.timing.throughput) : 'n/a'],
      ['parameters', count(t.parameters), s ? count(s.parameters) : count(r.inputs.student.params), ratio(t.parameters, s?.parameters ?? r.inputs.student.params)],
      ['ONNX file size', bytes(t.fileBytes), s ? bytes(s.fileBytes) : na, ratio(t.fileBytes, s?.fileBytes)],
    ],
  };
}

function inputsTable(r: SequenceEvaluateReport): Table {
  const i = r.inputs;
  const sp = r.speed;
  return {
    headers: ['input', 'value'],
    rows: [
      ['dataset', `${i.dataset.path} split "${i.dataset.split}", ${count(i.dataset.rows)} of ${count(i.dataset.splitRows)} rows (context ${i.dataset.context}, ${i.dataset.positions} target positions per row), fingerprint ${i.dataset.fingerprint.slice(0, 16)}…`],
      ['thresholds chosen on', `${r.selection.description} (${count(r.selection.rows)} rows)`],
      ['teacher', `${i.teacher.path} (${i.teacher.name}), sha256 ${i.teacher.sha256.slice(0, 16)}…`],
      ['student', `${i.student.modelJson} (${i.student.arch}, ${count(i.student.params)} parameters, ${count(i.student.macsPerToken)} MACs per token, tfjs ${i.student.tfjsBackend})`],
      ...(i.baseline ? [['baseline', i.baseline.modelJson]] : []),
      ['export', r.export.exportable ? `${r.export.path}, sha256 ${r.export.sha256.slice(0, 16)}…; ONNX Runtime vs tfjs max abs diff ${r.export.parity.maxAbsDiff.toExponential(2)} at every position of ${count(r.export.parity.rows)} rows (tolerance ${r.export.parity.tolerance})` : `none: ${r.export.reason}`],
      ['timing setup', `ONNX Runtime ${sp.onnxruntime}, ${sp.executionProvider}, intra-op threads ${sp.intraOpThreads || 'ORT default'}, graph optimization ${sp.graphOptimization}; ${sp.teacher.timing.latency.runs} batch-1 runs, ${sp.teacher.timing.throughputRuns} batches of ${sp.teacher.timing.throughputBatch} rows`],
      ['created', r.createdAt],
    ],
  };
}

/** Builds every table of a sequence report. */
export function sequenceReportTables(r: SequenceEvaluateReport): SequenceTables {
  return { headline: headlineTable(r), tokens: tokensTable(r), errors: errorsTable(r), slices: slicesTables(r), ...diacriticTables(r), ...lmTables(r), ...robustnessTables(r), speed: speedTable(r), inputs: inputsTable(r) };
}
