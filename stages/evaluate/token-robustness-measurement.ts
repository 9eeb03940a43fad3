/**
 * One measurement of the token robustness suite: teacher and student scored on the same perturbed
 * rows, in the shape of the image suite's measurements (token accuracy over the perturbed rows' target
 * positions, agreement), plus DER for diacritisation on the clean words carried over (remapWords).
 */
import type { Word } from './diacritic-error-rates.ts';
import { diacriticErrorRates } from './diacritic-error-rates.ts';
import { remapWords } from './arabic-char-variants.ts';
import { argmaxRows } from './class-scores.ts';
import type { PerturbedRows } from './perturb-tokens.ts';
import type { SequenceScores } from './sequence-scores.ts';
import { gatherTargetPositions } from './sequence-scores.ts';
import type { TokenSuiteEntry } from './token-robustness-suite.ts';

/** Token accuracy (and DER) of both models under one perturbation at one severity. */
export interface TokenRobustnessMeasurement {
  kind: string;
  severity: number;
  rows: number;
  /** Target positions scored (those left after the edit). */
  positions: number;
  teacherAccuracy: number;
  studentAccuracy: number;
  agreement: number;
  /** DER on the clean words (token classification with words only). */
  teacherDer?: number;
  studentDer?: number;
}

/**
 * Scores one suite entry. `labels` are the perturbed rows' targets ([rows * P]: `perturbed.labels` for
 * token classification, causalLabelsAfterPerturbation for a causal LM); `cleanWords` (the clean split's
 * words) adds DER.
 */
export function tokenRobustnessMeasurement(
  entry: TokenSuiteEntry,
  perturbed: PerturbedRows,
  labels: ArrayLike<number>,
  teacher: SequenceScores,
  student: SequenceScores,
  cleanWords?: readonly Word[],
): TokenRobustnessMeasurement {
  const weight = Array.from(labels, () => 1);
  const t = gatherTargetPositions(teacher, weight, labels, `teacher scores under ${entry.kind}`);
  const s = gatherTargetPositions(student, weight, labels, `student scores under ${entry.kind}`);
  const pt = argmaxRows(t.scores);
  const ps = argmaxRows(s.scores);
  let tr = 0;
  let sr = 0;
  let agree = 0;
  t.labels.forEach((y, k) => {
    if (pt[k] === y) tr++;
    if (ps[k] === y) sr++;
    if (pt[k] === ps[k]) agree++;
  });
  const n = Math.max(t.labels.length, 1);
  const out: TokenRobustnessMeasurement = {
    kind: entry.kind,
    severity: entry.severity,
    rows: perturbed.rows,
    positions: t.labels.length,
    teacherAccuracy: tr / n,
    studentAccuracy: sr / n,
    agreement: agree / n,
  };
  if (cleanWords && perturbed.labels) {
    const words = remapWords(cleanWords, perturbed.source, perturbed.L, entry.missing);
    const flat = (x: SequenceScores) => argmaxRows({ rows: x.rows * x.positions, classes: x.classes, logits: x.logits });
    out.teacherDer = diacriticErrorRates(flat(teacher), perturbed.labels, words).der;
    out.studentDer = diacriticErrorRates(flat(student), perturbed.labels, words).der;
  }
  return out;
}
