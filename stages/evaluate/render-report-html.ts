/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no external asset) with the
 * tables of report.md and four charts: reliability diagram, per-class accuracy, corruption curves
 * (teacher vs student per kind) and the cascade curve.
 */
import { cascadeChoiceLine } from './student-limits.ts';
import type { EvaluateReport } from './evaluate-report.ts';
import { pct, tau } from './format-numbers.ts';
import { reportTables } from './report-tables.ts';
import type { Table } from './report-tables.ts';
import { COLORS, barChartSvg, escapeXml, lineChartSvg } from './svg-charts.ts';
import type { Series } from './svg-charts.ts';

/** A table as HTML (`**bold**` markers dropped). */
export function html(t: Table, cls = ''): string {
  const cell = (s: string): string => escapeXml(s.replace(/\*\*/g, ''));
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${t.headers.map((h) => `<th>${cell(h)}</th>`).join('')}</tr></thead><tbody>${t.rows
    .map((r) => `<tr>${r.map((c, i) => `<td${i > 0 ? ' class="num"' : ''}>${cell(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const pctAxis = (v: number): string => `${Math.round(v * 1000) / 10}%`;

function reliabilitySvg(r: EvaluateReport): string {
  const series = (name: string, color: string, m: EvaluateReport['models']['teacher']): Series => ({
    name: `${name} (ECE ${pct(m.calibration.ece)})`,
    color,
    points: m.calibration.bins.filter((b) => b.count > 0).map((b) => [b.confidence!, b.accuracy!]),
  });
  return lineChartSvg({
    title: 'Reliability diagram (15 bins)',
    x: { label: 'confidence (top probability)', min: 0, max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], format: pctAxis },
    y: { label: 'accuracy', min: 0, max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], format: pctAxis },
    series: [
      { name: 'perfect calibration', color: COLORS.reference, points: [[0, 0], [1, 1]], dashed: true, markers: false },
      series('teacher', COLORS.teacher, r.models.teacher),
      series('student', COLORS.student, r.models.student),
    ],
  });
}

function perClassSvg(r: EvaluateReport): string {
  const values = r.perClass.flatMap((c) => [c.teacher, c.student]).filter((v): v is number => v !== null);
  const lo = Math.max(0, Math.floor((Math.min(...values) - 0.02) * 20) / 20);
  return barChartSvg({
    title: 'Accuracy per class',
    categories: r.perClass.map((c) => c.name),
    series: [
      { name: 'teacher', color: COLORS.teacher, values: r.perClass.map((c) => c.teacher) },
      { name: 'student', color: COLORS.student, values: r.perClass.map((c) => c.student) },
    ],
    y: { label: 'accuracy', min: lo, max: 1, format: pctAxis },
  });
}

function corruptionSvgs(r: EvaluateReport): string[] {
  if (r.robustness.skipped !== null) return [];
  const rob = r.robustness;
  const all = rob.measurements.flatMap((m) => [m.teacherAccuracy, m.studentAccuracy]);
  const lo = Math.max(0, Math.floor(Math.min(...all, rob.summary.clean.studentAccuracy) * 10) / 10);
  const sev = [0, ...rob.severities];
  return rob.kinds.map((kind) => {
    const ms = rob.measurements.filter((m) => m.kind === kind);
    return lineChartSvg({
      title: kind,
      width: 300,
      height: 220,
      x: { label: 'severity', min: 0, max: Math.max(...sev), ticks: sev, format: (v) => String(v) },
      y: { label: 'accuracy', min: lo, max: 1, format: pctAxis },
      series: [
        { name: 'teacher', color: COLORS.teacher, points: [[0, rob.summary.clean.teacherAccuracy], ...ms.map((m): [number, number] => [m.severity, m.teacherAccuracy])] },
        { name: 'student', color: COLORS.student, points: [[0, rob.summary.clean.studentAccuracy], ...ms.map((m): [number, number] => [m.severity, m.studentAccuracy])] },
      ],
    });
  });
}

function cascadeSvg(r: EvaluateReport): string {
  const pts = r.cascade.points.map((p): [number, number] => [p.deferredShare, p.accuracy]);
  const op = r.cascade.operatingPoint;
  const maxShare = Math.min(1, Math.max(0.2, op.deferredShare * 2, ...r.cascade.points.filter((p) => p.accuracy < r.cascade.target).map((p) => p.deferredShare)));
  const inRange = pts.filter(([x]) => x <= maxShare);
  const ys = [...inRange.map(([, y]) => y), r.cascade.target, r.headline.teacherAccuracy];
  const lo = Math.floor(Math.min(...ys) * 200) / 200;
  const hi = Math.min(1, Math.ceil(Math.max(...ys) * 200) / 200 + 0.005);
  return lineChartSvg({
    title: 'Cascade: accuracy vs share deferred to the teacher',
    width: 520,
    height: 300,
    x: { label: 'share of inputs deferred to the teacher', min: 0, max: maxShare, format: pctAxis },
    y: { label: 'accuracy', min: lo, max: hi, format: pctAxis },
    series: [{ name: 'student -> teacher cascade', color: COLORS.student, points: inRange }],
    hlines: [
      { y: r.cascade.target, label: `target ${pct(r.cascade.target)}`, color: COLORS.target },
      { y: r.headline.teacherAccuracy, label: `teacher alone ${pct(r.headline.teacherAccuracy)}`, color: COLORS.teacher },
    ],
    highlights: op.deferredShare <= maxShare ? [{ x: op.deferredShare, y: op.accuracy, label: `tau ${Number.isFinite(op.tau) ? op.tau.toPrecision(4) : 'all'}: ${pct(op.deferredShare)} deferred`, color: COLORS.target }] : [],
  });
}

/** The report's inline style sheet. */
export const CSS = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#212529;padding:0 16px}
h1{font-size:24px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #dee2e6;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}th,td{border:1px solid #dee2e6;padding:4px 8px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f1f3f5}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{border:1px solid #dee2e6;border-radius:6px;padding:10px 14px;min-width:150px}
.card .v{font-size:22px;font-weight:700}.card .k{font-size:12px;color:#495057}.charts{display:flex;flex-wrap:wrap;gap:12px}.limits li{margin:6px 0}
.teacher{color:${COLORS.teacher}}.student{color:${COLORS.student}}`;

/** Renders the self-contained report.html. */
export function renderReportHtml(r: EvaluateReport): string {
  const t = reportTables(r);
  const h = r.headline;
  const card = (k: string, v: string, cls = '', id = ''): string => `<div class="card"${id ? ` id="${id}"` : ''}><div class="v ${cls}">${escapeXml(v)}</div><div class="k">${escapeXml(k)}</div></div>`;
  const times = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'n/a' : `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x`);
  const body: string[] = [];
  body.push(`<h1>${escapeXml(r.experiment)}: what the student kept, what it lost, what it bought</h1>`);
  body.push(`<p>Evaluated on ${r.inputs.dataset.rows} rows of "${escapeXml(r.inputs.dataset.split)}" (${escapeXml(r.inputs.dataset.path)}). All numbers are in metrics.json; definitions in docs/evaluation.md.</p>`);
  body.push('<div class="cards">');
  body.push(card('teacher accuracy', pct(h.teacherAccuracy), 'teacher', 'teacher-accuracy'));
  body.push(card('student accuracy', pct(h.studentAccuracy), 'student', 'student-accuracy'));
  if (h.baselineAccuracy !== null) body.push(card('hard-label baseline', pct(h.baselineAccuracy), '', 'baseline-accuracy'));
  body.push(card('agreement with teacher', pct(h.agreement), '', 'agreement'));
  body.push(card('degrades vs teacher', times(h.degradationRatio), '', 'degradation'));
  body.push(card(`cascade tau (defers ${pct(h.cascadeDeferredShare)})`, tau(h.cascadeTau), '', 'cascade-tau'));
  body.push(card('faster at batch 1', times(h.latencySpeedup), '', 'speedup'));
  body.push(card('smaller on disk', times(h.sizeRatio), '', 'size'));
  body.push('</div>');
  body.push('<h2>Headline</h2>', html(t.headline));
  body.push('<h2>Accuracy, agreement, calibration</h2>', html(t.models), `<div class="charts">${reliabilitySvg(r)}</div>`);
  body.push('<h2>Per class</h2>', `<div class="charts">${perClassSvg(r)}</div>`, html(t.perClass));
  body.push('<h2>Where the student errors come from</h2>', html(t.errors));
  if (t.slices.length > 0) {
    body.push('<h2>Slices</h2>');
    for (const s of t.slices) body.push(`<h3>${escapeXml(s.column)} (${s.distinct} values${s.omitted > 0 ? `, ${s.omitted} with the smallest losses not shown` : ''})</h3>`, html(s.table));
  }
  body.push('<h2>Outside the expected inputs: corruptions</h2>');
  if (r.robustness.skipped === null && t.robustness && t.robustnessKinds) {
    body.push(`<p>${r.robustness.rows} rows, seed ${r.robustness.seed}; severity 0 is the clean input.</p>`, `<div class="charts">${corruptionSvgs(r).join('')}</div>`, html(t.robustnessKinds), html(t.robustness));
  } else if (r.robustness.skipped !== null) body.push(`<p>Not measured: ${escapeXml(r.robustness.skipped)}.</p>`);
  body.push(
    '<h2>Cascade: deferring to the teacher</h2>',
    `<p>Defer an input to the teacher when the student's top probability is below tau. Target ${pct(r.cascade.target)} (${escapeXml(r.cascade.targetRule)}); time = student latency + deferred share x teacher latency (batch-1 p50). ${escapeXml(cascadeChoiceLine(r))}</p>`,
    `<div class="charts">${cascadeSvg(r)}</div>`,
    html(t.cascade),
  );
  body.push('<h2>Speed and size (same ONNX Runtime setup)</h2>', html(t.speed));
  body.push('<h2>Inputs</h2>', html(t.inputs));
  body.push(`<h2 id="limits">The student's limits</h2>`, `<ul class="limits">${r.limits.map((l) => `<li>${escapeXml(l)}</li>`).join('')}</ul>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(r.experiment)} - distill evaluation</title><style>${CSS}</style></head>
<body>${body.join('\n')}</body></html>
`;
}
