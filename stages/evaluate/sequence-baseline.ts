import { argmaxRows } from './class-scores.ts';
import { diacriticErrorRates, segmentWords } from './diacritic-error-rates.ts';
import type { SequenceBaselineMetrics } from './sequence-evaluate-report.ts';
import type { SequenceSplit } from './sequence-report.ts';
import { gatherTargetPositions } from './sequence-scores.ts';
import type { SequenceScores } from './sequence-scores.ts';
import { tokenMetrics } from './token-metrics.ts';

/**
 * The hard-label baseline on the test split's target positions: its token metrics and agreement
 * with the teacher, and DER/WER on the same words as the student (when `separators` are given).
 */
export function sequenceBaselineMetrics(test: SequenceSplit, baseline: SequenceScores, separators?: ReadonlySet<number>): SequenceBaselineMetrics {
  const t = gatherTargetPositions(test.teacher, test.weight, test.labels, 'teacher scores');
  const b = gatherTargetPositions(baseline, test.weight, test.labels, 'baseline scores');
  const m = tokenMetrics(t.scores, b.scores, t.labels);
  const out: SequenceBaselineMetrics = { tokens: m.student, agreement: m.agreement };
  if (separators && test.inputIds && test.attentionMask) {
    const words = segmentWords(test.inputIds, test.attentionMask, test.labels, baseline.positions, separators);
    out.diacritics = diacriticErrorRates(argmaxRows({ rows: baseline.rows * baseline.positions, classes: baseline.classes, logits: baseline.logits }), test.labels, words);
  }
  return out;
}
