/**
 * Which hard-label variant (alpha = 1) each distilled variant of a reference is compared with, and
 * whether it beats it by more than the seed spread. The baseline is, in order of preference, the
 * hard-label variant of the same student on the same views (or on none) and epochs; else that of the
 * same student and epochs without views (the plain baseline of the budget); else of the same student;
 * else the first hard-label variant.
 */
import { beatsBySpread } from './summarize.ts';
import type { Summary } from './summarize.ts';

/** What a variant's comparison needs: its alpha, its test errors, and what it trains. */
export interface ComparedVariant {
  alpha: number;
  testErrors: Summary;
  /** The student config, the teacherLogits.views config (null without views) and train.epochs. */
  setup: { student: unknown; views: unknown; epochs: number | null };
}

export type Comparisons = Record<string, { against: string; gap: number; spread: number; beats: boolean }>;

export function hardLabelComparisons(variants: Record<string, ComparedVariant>): Comparisons {
  const key = (v: unknown): string => JSON.stringify(v ?? null);
  const hards = Object.entries(variants).filter(([, v]) => v.alpha === 1);
  const out: Comparisons = {};
  for (const [name, v] of Object.entries(variants)) {
    if (v.alpha === 1 || hards.length === 0) continue;
    const student = ([, h]: [string, ComparedVariant]): boolean => key(h.setup.student) === key(v.setup.student);
    const epochs = ([, h]: [string, ComparedVariant]): boolean => h.setup.epochs === v.setup.epochs;
    const views = (want: unknown) => ([, h]: [string, ComparedVariant]): boolean => key(h.setup.views) === key(want);
    const hard =
      hards.find((h) => student(h) && epochs(h) && views(v.setup.views)(h)) ??
      hards.find((h) => student(h) && epochs(h) && views(null)(h)) ??
      hards.find(student) ??
      hards[0]!;
    out[name] = { against: hard[0], ...beatsBySpread(v.testErrors, hard[1].testErrors) };
  }
  return out;
}
