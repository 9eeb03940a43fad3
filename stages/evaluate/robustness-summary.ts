/**
 * Summary of the corruption suite: how much accuracy teacher and student lose under each corruption,
 * and the headline "degradation ratio" = student's mean accuracy drop / teacher's mean accuracy drop
 * (over every kind and severity run). 2 means the student loses twice the accuracy the teacher loses.
 */
import type { CorruptionKind } from './corrupt-images.ts';
import type { VectorCorruptionKind } from './corrupt-vectors.ts';

/** A corruption kind of any suite (images, numeric vectors). */
export type RobustnessKind = CorruptionKind | VectorCorruptionKind;

/** Measured accuracy and agreement under one corruption at one severity. */
export interface CorruptionMeasurement {
  kind: RobustnessKind;
  severity: number;
  rows: number;
  teacherAccuracy: number;
  studentAccuracy: number;
  /** Top-1 agreement of student and teacher on the corrupted inputs. */
  agreement: number;
}

/** Per-kind summary (K: the suite's kind names; the token suite's are plain strings). */
export interface CorruptionKindSummary<K extends string = RobustnessKind> {
  kind: K;
  /** Mean over severities of (clean accuracy - corrupted accuracy), teacher. */
  teacherMeanDrop: number;
  /** Same for the student. */
  studentMeanDrop: number;
  /** studentMeanDrop / teacherMeanDrop; null when the teacher loses nothing (drop <= 1e-9). */
  dropRatio: number | null;
  /** Mean agreement over severities. */
  meanAgreement: number;
}

/** What {@link robustnessSummary} returns. */
export interface RobustnessSummary<K extends string = RobustnessKind> {
  /** Accuracies on the same rows uncorrupted. */
  clean: { teacherAccuracy: number; studentAccuracy: number; agreement: number };
  kinds: CorruptionKindSummary<K>[];
  /** Mean over every (kind, severity) of the teacher's accuracy drop. */
  teacherMeanDrop: number;
  studentMeanDrop: number;
  /** Headline: studentMeanDrop / teacherMeanDrop (null when the teacher loses nothing). */
  dropRatio: number | null;
  /** The kind with the largest student drop (null without measurements). */
  worstKind: K | null;
}

const EPS = 1e-9;

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Summarises corruption measurements against the clean accuracies of the same rows. */
export function robustnessSummary<K extends string = RobustnessKind>(
  clean: RobustnessSummary['clean'],
  measurements: readonly (Omit<CorruptionMeasurement, 'kind'> & { kind: K })[],
): RobustnessSummary<K> {
  const kinds: K[] = [];
  for (const m of measurements) if (!kinds.includes(m.kind)) kinds.push(m.kind);
  const summaries = kinds.map((kind): CorruptionKindSummary<K> => {
    const ms = measurements.filter((m) => m.kind === kind);
    const t = mean(ms.map((m) => clean.teacherAccuracy - m.teacherAccuracy));
    const s = mean(ms.map((m) => clean.studentAccuracy - m.studentAccuracy));
    return { kind, teacherMeanDrop: t, studentMeanDrop: s, dropRatio: t > EPS ? s / t : null, meanAgreement: mean(ms.map((m) => m.agreement)) };
  });
  const t = mean(measurements.map((m) => clean.teacherAccuracy - m.teacherAccuracy));
  const s = mean(measurements.map((m) => clean.studentAccuracy - m.studentAccuracy));
  let worst: CorruptionKindSummary<K> | null = null;
  for (const k of summaries) if (!worst || k.studentMeanDrop > worst.studentMeanDrop) worst = k;
  return { clean, kinds: summaries, teacherMeanDrop: t, studentMeanDrop: s, dropRatio: t > EPS ? s / t : null, worstKind: worst?.kind ?? null };
}
