/**
 * report.html of a sequence evaluation: one self-contained file (inline CSS and SVG, no script) with
 * the tables of report.md and charts: perturbation curves per kind, DER by word frequency, NLL by
 * target-token frequency.
 */
import { pct } from './format-numbers.ts';
import { CSS, html } from './render-report-html.ts';
import type { SequenceEvaluateReport } from './sequence-evaluate-report.ts';
import { sequenceReportTables } from './sequence-report-tables.ts';
import { COLORS, barChartSvg, escapeXml, lineChartSvg } from './svg-charts.ts';

const pctAxis = (v: number): string => `${Math.round(v * 1000) / 10}%`;

function perturbationSvgs(r: SequenceEvaluateReport): string[] {
  if (r.robustness.skipped !== null) return [];
  const rob = r.robustness;
  const all = [rob.clean, ...rob.measurements].flatMap((m) => [m.teacherAccuracy, m.studentAccuracy]);
  const lo = Math.max(0, Math.floor(Math.min(...all) * 10) / 10);
  const hi = Math.min(1, Math.ceil(Math.max(...all) * 10) / 10);
  return rob.kinds.map((kind) => {
    const ms = rob.measurements.filter((m) => m.kind === kind);
    const sev = [0, ...ms.map((m) => m.severity)];
    return lineChartSvg({
      title: kind,
      width: 300,
      height: 220,
      x: { label: 'severity', min: 0, max: Math.max(...sev, 1), ticks: sev, format: (v) => String(v) },
      y: { label: 'token accuracy', min: lo, max: hi > lo ? hi : lo + 0.1, format: pctAxis },
      series: [
        { name: 'teacher', color: COLORS.teacher, points: [[0, rob.clean.teacherAccuracy], ...ms.map((m): [number, number] => [m.severity, m.teacherAccuracy])] },
        { name: 'student', color: COLORS.student, points: [[0, rob.clean.studentAccuracy], ...ms.map((m): [number, number] => [m.severity, m.studentAccuracy])] },
      ],
    });
  });
}

function derByFrequencySvg(r: SequenceEvaluateReport): string {
  const d = r.sequence.diacritics!;
  const buckets = ['frequent', 'rare', 'unseen'] as const;
  const values = buckets.flatMap((b) => [d.byWordFrequency.teacher[b].der, d.byWordFrequency.student[b].der]);
  return barChartSvg({
    title: 'DER by word frequency in train',
    categories: [...buckets],
    series: [
      { name: 'teacher', color: COLORS.teacher, values: buckets.map((b) => (d.byWordFrequency.teacher[b].words > 0 ? d.byWordFrequency.teacher[b].der : null)) },
      { name: 'student', color: COLORS.student, values: buckets.map((b) => (d.byWordFrequency.student[b].words > 0 ? d.byWordFrequency.student[b].der : null)) },
    ],
    y: { label: 'DER', min: 0, max: Math.max(0.05, Math.ceil(Math.max(...values) * 20) / 20), format: pctAxis },
  });
}

function nllByBucketSvg(r: SequenceEvaluateReport): string {
  const b = r.sequence.lm!.nllByBucket;
  const max = Math.max(1, ...b.flatMap((x) => [x.teacherNll, x.studentNll]));
  return barChartSvg({
    title: 'NLL by target-token frequency (nats)',
    categories: b.map((x) => x.bucket),
    series: [
      { name: 'teacher', color: COLORS.teacher, values: b.map((x) => (x.positions > 0 ? x.teacherNll : null)) },
      { name: 'student', color: COLORS.student, values: b.map((x) => (x.positions > 0 ? x.studentNll : null)) },
    ],
    y: { label: 'NLL (nats)', min: 0, max: Math.ceil(max), format: (v) => v.toFixed(1) },
  });
}

/** Renders the self-contained report.html of a sequence evaluation. */
export function renderSequenceHtml(r: SequenceEvaluateReport): string {
  const t = sequenceReportTables(r);
  const h = r.headline;
  const card = (k: string, v: string, cls = '', id = ''): string => `<div class="card"${id ? ` id="${id}"` : ''}><div class="v ${cls}">${escapeXml(v)}</div><div class="k">${escapeXml(k)}</div></div>`;
  const times = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'n/a' : `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x`);
  const body: string[] = [];
  body.push(`<h1>${escapeXml(r.experiment)}: what the student kept, what it lost, what it bought</h1>`);
  body.push(`<p>A ${r.task === 'causal-lm' ? 'causal language model' : 'token classification'} evaluated on ${r.inputs.dataset.rows} rows of "${escapeXml(r.inputs.dataset.split)}" (${escapeXml(r.inputs.dataset.path)}), ${r.sequence.tokens.positions} target positions. All numbers are in metrics.json; definitions in docs/evaluation.md.</p>`);
  body.push('<div class="cards">');
  body.push(card('teacher token accuracy', pct(h.teacherAccuracy), 'teacher', 'teacher-accuracy'));
  body.push(card('student token accuracy', pct(h.studentAccuracy), 'student', 'student-accuracy'));
  if (h.baselineAccuracy !== null) body.push(card('hard-label baseline', pct(h.baselineAccuracy), '', 'baseline-accuracy'));
  if (h.studentDer !== null) body.push(card(`student DER (teacher ${pct(h.teacherDer)})`, pct(h.studentDer), 'student', 'student-der'));
  body.push(card('agreement with teacher', pct(h.agreement), '', 'agreement'));
  body.push(card('degrades vs teacher', times(h.degradationRatio), '', 'degradation'));
  body.push(card('faster at batch 1', times(h.latencySpeedup), '', 'speedup'));
  body.push(card('smaller on disk', times(h.sizeRatio), '', 'size'));
  body.push('</div>');
  body.push('<h2>Headline</h2>', html(t.headline));
  body.push('<h2>Token accuracy, perplexity, agreement, calibration</h2>', html(t.tokens));
  body.push('<h2>Where the student errors come from</h2>', html(t.errors));
  if (t.diacritics && t.caseEndings && t.wordFrequency && t.wordCascade) {
    body.push('<h2>Diacritisation: DER and WER</h2>', html(t.diacritics));
    body.push('<h3>Case endings vs word-internal letters</h3>', html(t.caseEndings));
    body.push('<h3>By word frequency in train</h3>', `<div class="charts">${derByFrequencySvg(r)}</div>`, html(t.wordFrequency));
    body.push(`<h3>Cascade: words deferred to the teacher (threshold chosen on ${escapeXml(r.selection.description)})</h3>`, html(t.wordCascade));
  }
  if (t.lmBuckets && t.lmCascade) {
    body.push('<h2>Language model: NLL by target-token frequency</h2>', `<div class="charts">${nllByBucketSvg(r)}</div>`, html(t.lmBuckets));
    for (const s of t.lmSlices) body.push(`<h3 id="lm-${escapeXml(s.column)}">Perplexity and KL by ${escapeXml(s.column)}</h3>`, html(s.table));
    body.push(`<h3>Cascade: positions or windows deferred to the teacher (threshold chosen on ${escapeXml(r.selection.description)})</h3>`, html(t.lmCascade));
  }
  if (t.slices.length > 0 || r.slicesSkipped.length > 0) {
    body.push('<h2>Slices</h2>');
    for (const s of t.slices) body.push(`<h3>${escapeXml(s.column)}</h3>`, html(s.table));
    for (const s of r.slicesSkipped) body.push(`<p>Not broken down: ${escapeXml(s.column)} (${s.values} distinct values).</p>`);
  }
  body.push('<h2>Outside the expected inputs: perturbed tokens</h2>');
  if (r.robustness.skipped === null && t.robustness && t.robustnessKinds) {
    body.push(`<p>${r.robustness.rows} rows, seed ${r.robustness.seed}; severity 0 is the clean input.${r.robustness.omitted.length > 0 ? ` Left out: ${escapeXml(r.robustness.omitted.join('; '))}.` : ''}</p>`, `<div class="charts">${perturbationSvgs(r).join('')}</div>`, html(t.robustnessKinds), html(t.robustness));
  } else if (r.robustness.skipped !== null) body.push(`<p>Not measured: ${escapeXml(r.robustness.skipped)}.</p>`);
  body.push('<h2>Speed and size (same ONNX Runtime setup)</h2>', html(t.speed));
  if (!r.export.exportable) body.push(`<p id="no-export">The student has no ONNX export: ${escapeXml(r.export.reason)}.</p>`);
  body.push('<h2>Inputs</h2>', html(t.inputs));
  body.push(`<h2 id="limits">The student's limits</h2>`, `<ul class="limits">${r.limits.map((l) => `<li>${escapeXml(l)}</li>`).join('')}</ul>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(r.experiment)} - distill evaluation</title><style>${CSS}</style></head>
<body>${body.join('\n')}</body></html>
`;
}
