import { DataError } from '../../pipeline/errors.ts';
import { diacriticErrorRates, segmentWords } from './diacritic-error-rates.ts';
import type { SequenceBaselineMetrics } from './sequence-evaluate-report.ts';
import type { SplitPositions } from './split-positions.ts';
import { agreementOn, modelTokenMetrics } from './token-metrics.ts';

/**
 * The hard-label baseline on the test split's target positions (scored with the teacher and the
 * student, split-positions.ts): its token metrics and agreement with the teacher, and DER/WER on the
 * same words as the student (when `separators` are given).
 * @throws DataError when the split has no baseline positions.
 */
export function sequenceBaselineMetrics(test: SplitPositions, separators?: ReadonlySet<number>): SequenceBaselineMetrics {
  const b = test.baseline;
  if (!b) throw new DataError('baseline metrics: the test positions were scored without a baseline');
  const out: SequenceBaselineMetrics = { tokens: modelTokenMetrics(b, test.labels, test.targets), agreement: agreementOn(test.teacher, b, test.targets) };
  if (separators && test.inputIds && test.attentionMask) {
    const words = segmentWords(test.inputIds, test.attentionMask, test.labels, test.positions, separators);
    out.diacritics = diacriticErrorRates(b.pred, test.labels, words);
  }
  return out;
}
