import { md } from './render-report-markdown.ts';
import type { SequenceEvaluateReport } from './sequence-evaluate-report.ts';
import { sequenceReportTables } from './sequence-report-tables.ts';

/** report.md of a sequence evaluation: the same sections and numbers as its report.html, without charts. */
export function renderSequenceMarkdown(r: SequenceEvaluateReport): string {
  const t = sequenceReportTables(r);
  const out: string[] = [];
  const task = r.task === 'causal-lm' ? 'causal language model' : 'token classification';
  out.push(`# ${r.experiment}: what the student kept, what it lost, what it bought`, '');
  out.push(`A ${task} evaluated on ${r.inputs.dataset.rows} rows of "${r.inputs.dataset.split}" (${r.sequence.tokens.positions} target positions). Charts: report.html. All numbers: metrics.json. Definitions: docs/evaluation.md.`, '');
  out.push('## Headline', '', md(t.headline), '');
  out.push('## Token accuracy, perplexity, agreement, calibration', '', md(t.tokens), '');
  out.push('## Where the student errors come from', '', md(t.errors), '');
  if (t.diacritics && t.caseEndings && t.wordFrequency && t.wordCascade) {
    out.push('## Diacritisation: DER and WER', '', md(t.diacritics), '');
    out.push('### Case endings vs word-internal letters', '', md(t.caseEndings), '');
    out.push('### By word frequency in train', '', md(t.wordFrequency), '');
    out.push(`### Cascade: words deferred to the teacher (threshold chosen on ${r.selection.description})`, '', md(t.wordCascade), '');
  }
  if (t.lmBuckets && t.lmCascade) {
    out.push('## Language model: NLL by target-token frequency', '', md(t.lmBuckets), '');
    for (const s of t.lmSlices) out.push(`### Perplexity and KL by ${s.column}`, '', md(s.table), '');
    out.push(`### Cascade: positions or windows deferred to the teacher (threshold chosen on ${r.selection.description})`, '', md(t.lmCascade), '');
  }
  if (t.slices.length > 0 || r.slicesSkipped.length > 0) {
    out.push('## Slices', '');
    for (const s of t.slices) out.push(`### ${s.column}`, '', md(s.table), '');
    for (const s of r.slicesSkipped) out.push(`Not broken down: ${s.column} (${s.values} distinct values).`, '');
  }
  out.push('## Outside the expected inputs: perturbed tokens', '');
  if (r.robustness.skipped === null && t.robustness && t.robustnessKinds) {
    out.push(`The token suite on ${r.robustness.rows} rows, seed ${r.robustness.seed}.${r.robustness.omitted.length > 0 ? ` Left out: ${r.robustness.omitted.join('; ')}.` : ''}`, '', md(t.robustnessKinds), '', md(t.robustness), '');
  } else if (r.robustness.skipped !== null) out.push(`Not measured: ${r.robustness.skipped}.`, '');
  out.push('## Speed and size (same ONNX Runtime setup)', '', md(t.speed), '');
  if (!r.export.exportable) out.push(`The student has no ONNX export: ${r.export.reason}.`, '');
  out.push('## Inputs', '', md(t.inputs), '');
  out.push("## The student's limits", '', ...r.limits.map((l) => `- ${l}`), '');
  return out.join('\n');
}
