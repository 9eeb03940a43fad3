import { ms, num, pct, pts, tau, times } from './format-numbers.ts';
import type { SequenceEvaluateReport } from './sequence-evaluate-report.ts';

/**
 * The plain statement of a sequence student's limits that ends the report, one sentence per entry,
 * built only from measurements: token accuracy and agreement, diacritisation (where the DER gap sits,
 * by word frequency, the word cascade), NLL by token frequency and the LM cascade, slices, error
 * attribution, calibration, perturbations, and speed / size or why there is no export.
 */
export function sequenceLimits(r: Omit<SequenceEvaluateReport, 'limits'>): string[] {
  const out: string[] = [];
  const h = r.headline;
  const t = r.sequence.tokens;
  out.push(
    `On ${t.positions} target positions of ${r.inputs.dataset.rows} "${r.inputs.dataset.split}" rows the student is right ${pct(h.studentAccuracy)} of the time against the teacher's ${pct(h.teacherAccuracy)} (${pts(h.studentAccuracy - h.teacherAccuracy)})` +
      (h.baselineAccuracy !== null ? ` and the hard-label baseline's ${pct(h.baselineAccuracy)} (distillation ${pts(h.studentAccuracy - h.baselineAccuracy)})` : '') +
      `; it gives the teacher's answer at ${pct(h.agreement)} of positions, perplexity ${num(h.studentPerplexity, 3)} against ${num(h.teacherPerplexity, 3)}.`,
  );
  const d = r.sequence.diacritics;
  if (d) {
    out.push(
      `Diacritisation: DER ${pct(d.student.der)} against the teacher's ${pct(d.teacher.der)} (${pct(d.student.derNoCaseEnding)} vs ${pct(d.teacher.derNoCaseEnding)} without case endings); ` +
        (h.caseEndingGapShare !== null ? `${pct(h.caseEndingGapShare, 0)} of its extra letter errors sit on case endings, which are ${pct(d.student.words > 0 ? d.agreement.caseEndingLetters / (d.agreement.caseEndingLetters + d.agreement.internalLetters) : null, 0)} of the letters.` : 'it makes no more letter errors than the teacher.'),
    );
    const u = d.byWordFrequency;
    out.push(`By word frequency in train: DER ${pct(u.student.frequent.der)} on frequent words (teacher ${pct(u.teacher.frequent.der)}), ${pct(u.student.rare.der)} on rare (${pct(u.teacher.rare.der)}), ${pct(u.student.unseen.der)} on unseen (${pct(u.teacher.unseen.der)}).`);
    const c = d.cascade;
    out.push(
      c.threshold.tau === 0
        ? 'The word cascade defers nothing: on the selection rows the student is no worse than the teacher.'
        : `Deferring words whose least sure letter is below ${tau(Number.isFinite(c.threshold.tau) ? c.threshold.tau : null)} (chosen on ${r.selection.on}) sends ${pct(c.wordsDeferredShare)} of test words to the teacher and brings DER from ${pct(c.student.der)} to ${pct(c.cascade.der)} (teacher ${pct(c.teacher.der)}).`,
    );
  }
  const lm = r.sequence.lm;
  if (lm) {
    const gaps = lm.nllByBucket.filter((b) => b.positions > 0).map((b) => `${b.bucket} ${num(b.studentNll - b.teacherNll, 3)}`);
    if (gaps.length > 0) out.push(`Its NLL exceeds the teacher's by (nats, per target-token frequency bucket): ${gaps.join(', ')}.`);
    for (const [column, values] of Object.entries(lm.rowSlices)) {
      const ratio = (v: (typeof values)[number]): number => v.studentPerplexity / v.teacherPerplexity;
      const sorted = [...values].filter((v) => v.positions > 0).sort((a, b) => ratio(a) - ratio(b));
      const lo = sorted[0];
      const hi = sorted[sorted.length - 1];
      if (lo && hi && sorted.length > 1) out.push(`By ${column}: the student's perplexity is ${num(ratio(lo), 3)}x the teacher's at ${column} = ${lo.value} (${num(lo.studentPerplexity, 3)} vs ${num(lo.teacherPerplexity, 3)}) and ${num(ratio(hi), 3)}x at ${column} = ${hi.value} (${num(hi.studentPerplexity, 3)} vs ${num(hi.teacherPerplexity, 3)}).`);
    }
    const w = lm.cascade.window;
    const p = lm.cascade.position;
    out.push(`Deferring positions below the threshold chosen on ${r.selection.on} sends ${pct(p.positionsDeferredShare)} of test positions to the teacher (perplexity ${num(p.studentPerplexity, 3)} -> ${num(p.cascadePerplexity, 3)}); whole windows: ${pct(w.unitsDeferredShare)} of windows (-> ${num(w.cascadePerplexity, 3)}).`);
  }
  for (const [column, values] of Object.entries(r.sequence.slices)) {
    const worst = [...values].sort((a, b) => a.metrics.student.accuracy - a.metrics.teacher.accuracy - (b.metrics.student.accuracy - b.metrics.teacher.accuracy))[0];
    if (worst) out.push(`Among "${column}" slices it loses most at ${column} = ${worst.value} (${worst.metrics.positions} positions: ${pct(worst.metrics.student.accuracy)} vs ${pct(worst.metrics.teacher.accuracy)}).`);
  }
  const e = t.attribution;
  if (e.studentErrors > 0) out.push(`Of its ${e.studentErrors} wrong positions, ${pct(e.ownShare, 0)} are its own (the teacher is right there) and ${pct(e.copiedShare, 0)} copy the teacher's mistake.`);
  out.push(`Token calibration: ECE ${pct(t.student.ece)} (teacher ${pct(t.teacher.ece)}); mean entropy ${num(t.student.entropy, 3)} nats against the teacher's ${num(t.teacher.entropy, 3)} (${t.student.entropy < t.teacher.entropy ? 'more peaked' : 'flatter'}).`);
  const rob = r.robustness;
  if (rob.skipped === null) {
    const worst = rob.summary.kinds.reduce<(typeof rob.summary.kinds)[number] | null>((a, k) => (!a || k.studentMeanDrop > a.studentMeanDrop ? k : a), null);
    out.push(`Under perturbed input (${rob.rows} rows) it loses ${times(rob.summary.dropRatio)} the token accuracy the teacher loses` + (worst ? `; the hardest perturbation for it is ${worst.kind} (${pts(-worst.studentMeanDrop)} on average, teacher ${pts(-worst.teacherMeanDrop)}).` : '.'));
  } else out.push(`Robustness was not measured: ${rob.skipped}.`);
  if (r.speed.student) {
    out.push(`What was bought: ${times(h.latencySpeedup)} lower latency for one row (${ms(r.speed.student.timing.latency.p50)} vs ${ms(r.speed.teacher.timing.latency.p50)}), ${times(h.throughputRatio)} the throughput, ${times(h.sizeRatio)} smaller on disk.`);
  } else if (!r.export.exportable) out.push(`Speed and size of the student were not measured in ONNX Runtime: ${r.export.reason}.`);
  return out;
}
