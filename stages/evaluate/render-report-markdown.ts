import { cascadeChoiceLine } from './student-limits.ts';
import type { EvaluateReport } from './evaluate-report.ts';
import { pct } from './format-numbers.ts';
import { reportTables } from './report-tables.ts';
import type { Table } from './report-tables.ts';

/** A table as Markdown. */
export function md(t: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [`| ${t.headers.map(esc).join(' | ')} |`, `|${t.headers.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** report.md: the same sections and numbers as report.html, without charts. */
export function renderReportMarkdown(r: EvaluateReport): string {
  const t = reportTables(r);
  const out: string[] = [];
  out.push(`# ${r.experiment}: what the student kept, what it lost, what it bought`, '');
  out.push(`Evaluated on ${r.inputs.dataset.rows} rows of "${r.inputs.dataset.split}". Charts: report.html. All numbers: metrics.json. Definitions: docs/evaluation.md.`, '');
  out.push('## Headline', '', md(t.headline), '');
  out.push('## Accuracy, agreement, calibration', '', md(t.models), '');
  out.push('Reliability (student): ' + r.models.student.calibration.bins.filter((b) => b.count > 0).map((b) => `(${b.lo.toFixed(2)}, ${b.hi.toFixed(2)}]: conf ${pct(b.confidence, 1)}, acc ${pct(b.accuracy, 1)}, n ${b.count}`).join('; '), '');
  out.push('## Per class', '', md(t.perClass), '');
  out.push('## Where the student errors come from', '', md(t.errors), '');
  if (t.slices.length > 0) {
    out.push('## Slices', '');
    for (const s of t.slices) out.push(`### ${s.column} (${s.distinct} values${s.omitted > 0 ? `, ${s.omitted} with the smallest losses not shown` : ''})`, '', md(s.table), '');
  }
  out.push('## Outside the expected inputs: corruptions', '');
  if (t.robustness && t.robustnessKinds && r.robustness.skipped === null) {
    out.push(`The ${r.robustness.featureKind} suite on ${r.robustness.rows} rows, seed ${r.robustness.seed}.`, '', md(t.robustnessKinds), '', md(t.robustness), '');
  } else if (r.robustness.skipped !== null) out.push(`Not measured: ${r.robustness.skipped}.`, '');
  out.push('## Cascade: deferring to the teacher', '', `Defer an input to the teacher when the student's top probability < tau. Target ${pct(r.cascade.target)} (${r.cascade.targetRule}). ${cascadeChoiceLine(r)}`, '', md(t.cascade), '');
  out.push('## Speed and size (same ONNX Runtime setup)', '', md(t.speed), '');
  out.push('## Inputs', '', md(t.inputs), '');
  out.push("## The student's limits", '', ...r.limits.map((l) => `- ${l}`), '');
  return out.join('\n');
}
