import type { EvaluateReport } from './evaluate-report.ts';
import { ms, pct, pts, tau, times } from './format-numbers.ts';

/**
 * The plain statement of the student's limits that ends the report: overall loss, where it loses
 * most (classes, slices), how its errors relate to the teacher's, calibration, corruptions, when to
 * defer to the teacher, and what was bought. One sentence per entry, built only from measurements.
 */
export function studentLimits(r: Omit<EvaluateReport, 'limits'>): string[] {
  const out: string[] = [];
  const h = r.headline;
  const gap = h.studentAccuracy - h.teacherAccuracy;
  out.push(
    `On ${r.inputs.dataset.rows} "${r.inputs.dataset.split}" inputs the student is right ${pct(h.studentAccuracy)} of the time against the teacher's ${pct(h.teacherAccuracy)} (${pts(gap)})` +
      (h.baselineAccuracy !== null ? ` and the hard-label baseline's ${pct(h.baselineAccuracy)} (distillation ${pts(h.studentAccuracy - h.baselineAccuracy)})` : '') +
      `, and gives the teacher's answer on ${pct(h.agreement)} of inputs.`,
  );
  const losing = r.perClass.filter((c) => c.delta !== null && c.delta < 0).sort((a, b) => a.delta! - b.delta!).slice(0, 3);
  if (losing.length > 0) {
    out.push(`It loses most on class${losing.length > 1 ? 'es' : ''} ${losing.map((c) => `${c.name} (${pct(c.student)} vs ${pct(c.teacher)}, ${pts(c.delta)})`).join(', ')}.`);
  } else {
    out.push('It is at least as accurate as the teacher on every class.');
  }
  for (const s of r.slices) {
    const worst = s.values[0];
    if (worst && worst.delta < 0) out.push(`Among "${s.column}" slices it loses most on ${s.column} = ${worst.value} (${worst.rows} rows: ${pct(worst.studentAccuracy)} vs ${pct(worst.teacherAccuracy)}, ${pts(worst.delta)}).`);
  }
  const e = r.errors;
  if (e.studentErrors > 0) {
    out.push(
      `Of its ${e.studentErrors} errors, ${e.own} (${pct(e.ownShare, 0)}) are its own (the teacher is right there) and ${e.copied} (${pct(e.copiedShare, 0)}) copy the teacher's mistake exactly` +
        (e.bothWrong > 0 ? `; on ${e.bothWrong} more both are wrong with different answers` : '') +
        `; it corrects ${e.teacherErrorsFixed} of the teacher's ${e.teacherErrors} errors.`,
    );
  }
  const bins = r.models.student.calibration.bins.filter((b) => b.count > 0);
  const gapSum = bins.reduce((s, b) => s + b.count * (b.confidence! - b.accuracy!), 0);
  out.push(
    `Its confidence is off by ECE ${pct(r.models.student.calibration.ece)} (teacher ${pct(r.models.teacher.calibration.ece)}); on average it is ${gapSum >= 0 ? 'over' : 'under'}confident.`,
  );
  if (r.robustness.skipped === null) {
    const sum = r.robustness.summary;
    const worst = sum.kinds.find((k) => k.kind === sum.worstKind);
    const top = Math.max(...r.robustness.severities);
    const worstTop = r.robustness.measurements.find((m) => m.kind === sum.worstKind && m.severity === top);
    out.push(
      `Outside the expected inputs it degrades ${times(sum.dropRatio)} as fast as the teacher (mean accuracy change ${pts(-sum.studentMeanDrop)} vs the teacher's ${pts(-sum.teacherMeanDrop)} over ${r.robustness.kinds.length} corruptions x ${r.robustness.severities.length} severities)` +
        (worst && worstTop
          ? `; it suffers most under ${worst.kind} (severity ${top}: ${pct(worstTop.studentAccuracy)} vs the teacher's ${pct(worstTop.teacherAccuracy)}).`
          : '.'),
    );
  } else {
    out.push(`Robustness to corrupted inputs was not measured: ${r.robustness.skipped}.`);
  }
  const op = r.cascade.operatingPoint;
  const sel = r.cascade.selection;
  if (sel.chosen.unreachable) {
    out.push(`Deferring to the teacher cannot reach the target accuracy ${pct(r.cascade.target)} on the ${sel.on} rows: even deferring every input gives ${pct(sel.chosen.accuracy)} there (${pct(op.accuracy)} on test).`);
  } else if (op.unreachable) {
    out.push(
      `The threshold tau = ${tau(op.tau)} chosen on the ${sel.on} rows (${pct(sel.chosen.accuracy)} there) gives ${pct(op.accuracy)} on the test split, below the target ${pct(r.cascade.target)}, ` +
        `deferring ${pct(op.deferredShare)} of inputs: a threshold set on other data does not carry over exactly.`,
    );
  } else if (op.deferredShare === 0) {
    out.push(`The student alone already reaches the target accuracy ${pct(r.cascade.target)}; no input needs the teacher.`);
  } else {
    out.push(
      `To keep accuracy at ${pct(r.cascade.target)} or better, defer to the teacher every input whose top probability is below tau = ${tau(op.tau)} (chosen on the ${sel.on} rows): ` +
        `that sends ${pct(op.deferredShare)} of inputs to the teacher, gives ${pct(op.accuracy)}, and costs ${op.timeMs !== null ? ms(op.timeMs) : 'n/a'} per input on average ` +
        `(student alone ${ms(r.speed.student.timing.latency.p50)}, teacher alone ${ms(r.speed.teacher.timing.latency.p50)}).`,
    );
  }
  const faster = h.latencySpeedup >= 1 ? `${times(h.latencySpeedup)} faster` : `${times(1 / h.latencySpeedup)} slower`;
  const smaller = h.sizeRatio >= 1 ? `${times(h.sizeRatio)} smaller` : `${times(1 / h.sizeRatio)} larger`;
  out.push(
    `In exchange it is ${faster} than the teacher at batch 1 (p50), has ${times(h.throughputRatio)} the teacher's throughput at batch 256, and is ${smaller} on disk ` +
      `(${r.speed.student.parameters.toLocaleString('en-US')} vs ${r.speed.teacher.parameters.toLocaleString('en-US')} parameters).`,
  );
  return out;
}

/** Where the cascade threshold was chosen and scored, one sentence (report.md, report.html). */
export function cascadeChoiceLine(r: EvaluateReport): string {
  const sel = r.cascade.selection;
  return sel.on === 'validation'
    ? `tau was chosen on the validation rows (${sel.description}, ${sel.rows} rows) and scored once on the test split; the curve below is the test split's, for reading only.`
    : `tau was chosen on ${sel.description}.`;
}
