/**
 * The token robustness suite inside evaluate: every entry of tokenRobustnessSuite (filtered by
 * evaluate.corruptions and evaluate.severities) applied to the first evaluate.tokenCorruptionRows test
 * rows, both models run on the perturbed rows, each scored with tokenRobustnessMeasurement against
 * the same rows unperturbed; summarised like the image suite (mean accuracy drop per kind, student /
 * teacher ratio).
 */
import type { EvaluateSection } from '../../pipeline/config/experiment-config.ts';
import type { TokenSplit } from '../../pipeline/eval/read-token-split.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { Word } from './diacritic-error-rates.ts';
import { segmentWords } from './diacritic-error-rates.ts';
import { causalLabelsAfterPerturbation, perturbTokens } from './perturb-tokens.ts';
import type { PerturbedRows } from './perturb-tokens.ts';
import { robustnessSummary } from './robustness-summary.ts';
import type { RobustnessSummary } from './robustness-summary.ts';
import type { SequenceTarget } from './sequence-targets.ts';
import { targetLogits } from './sequence-targets.ts';
import type { TokenRobustnessMeasurement } from './token-robustness-measurement.ts';
import { tokenRobustnessMeasurement } from './token-robustness-measurement.ts';
import { tokenRobustnessSuite } from './token-robustness-suite.ts';
import type { TokenSuiteEntry } from './token-robustness-suite.ts';
import type { TokenVocabulary } from './token-vocabulary.ts';

/** The robustness section of a sequence report. */
export type TokenRobustness =
  | {
      featureKind: 'tokens';
      rows: number;
      seed: number;
      kinds: string[];
      severities: number[];
      /** The same rows unperturbed (severity 0). */
      clean: TokenRobustnessMeasurement;
      measurements: TokenRobustnessMeasurement[];
      summary: RobustnessSummary<string>;
      /** Kinds of the suite left out, with why (e.g. unseen without an unknown id). */
      omitted: string[];
      skipped: null;
    }
  | { featureKind: 'tokens'; skipped: string };

/** A model's outputs `[n * L * C]` on n rows of ids and mask. */
export type SequencePredictor = (ids: Int32Array, mask: Uint8Array, n: number) => Promise<Float32Array>;

/** What the suite runs on. */
export interface TokenRobustnessInputs {
  ev: EvaluateSection;
  seed: number;
  test: TokenSplit;
  target: SequenceTarget;
  classes: number;
  vocab: TokenVocabulary;
  /** The label classes' names (teacher card), when known: diacritic classes enable partial-diacritics. */
  classNames?: readonly string[];
  teacher: SequencePredictor;
  student: SequencePredictor;
  /** Token classification with words: the separators (DER on the clean words is added). */
  separators?: ReadonlySet<number>;
  /** Why the suite cannot run (e.g. the teacher reads another column), or null. */
  blocked: string | null;
}

/** The suite's entries to run, and the kinds left out. */
function entriesToRun(ev: EvaluateSection, vocab: TokenVocabulary, classNames: readonly string[] | undefined): { entries: TokenSuiteEntry[]; omitted: string[]; skipped: string | null } {
  const all = tokenRobustnessSuite(vocab.symbols ?? undefined, classNames ? { classNames, unk: vocab.unk } : undefined);
  const omitted: string[] = [];
  let entries = all;
  if (vocab.unk === null) {
    entries = entries.filter((e) => e.kind !== 'unseen');
    omitted.push('unseen (the tokenizer has no unknown-token id)');
  }
  const allKinds = [...new Set(all.map((e) => e.kind))];
  if (ev.corruptions !== undefined && ev.corruptions.length === 0) return { entries: [], omitted, skipped: 'evaluate.corruptions is []' };
  if (ev.corruptions !== undefined) {
    const wanted = new Set<string>(ev.corruptions);
    entries = entries.filter((e) => wanted.has(e.kind));
    if (entries.length === 0) return { entries, omitted, skipped: `none of evaluate.corruptions (${ev.corruptions.join(', ')}) applies to token features; this dataset's token kinds are ${allKinds.join(', ')}` };
  }
  entries = entries.filter((e) => ev.severities.includes(e.severity));
  if (entries.length === 0) return { entries, omitted, skipped: `no token suite entry has a severity in evaluate.severities (${ev.severities.join(', ')})` };
  return { entries, omitted, skipped: null };
}

/** The first m rows of a split. */
function headSplit(s: TokenSplit, m: number): TokenSplit {
  const k = m * s.L;
  return { ...s, rows: m, inputIds: s.inputIds.subarray(0, k), attentionMask: s.attentionMask.subarray(0, k), labels: s.labels ? s.labels.subarray(0, k) : null };
}

/** Scores one perturbed copy (or the clean rows) with both models' outputs. */
function measure(inp: TokenRobustnessInputs, entry: TokenSuiteEntry, p: PerturbedRows, teacher: Float32Array, student: Float32Array, words: readonly Word[] | undefined): TokenRobustnessMeasurement {
  const { target, classes: C } = inp;
  const P = target === 'token' ? p.L : p.L - 1;
  const labels = target === 'token' ? p.labels! : causalLabelsAfterPerturbation(p);
  const scores = (logits: Float32Array) => ({ rows: p.rows, positions: P, classes: C, logits: targetLogits(logits, p.rows, p.L, C, target) });
  return tokenRobustnessMeasurement(entry, p, labels, scores(teacher), scores(student), words);
}

/**
 * Runs the suite; a section saying why it was not measured when it cannot run (evaluate.corruptions
 * [], no entry left, or `blocked`), never a failed evaluation.
 */
export async function measureTokenRobustness(inp: TokenRobustnessInputs, reporter: Reporter): Promise<TokenRobustness> {
  if (inp.blocked !== null) return { featureKind: 'tokens', skipped: inp.blocked };
  const { entries, omitted, skipped } = entriesToRun(inp.ev, inp.vocab, inp.classNames);
  if (skipped !== null) return { featureKind: 'tokens', skipped };
  const m = Math.min(inp.ev.tokenCorruptionRows, inp.test.rows);
  const rows = headSplit(inp.test, m);
  const L = rows.L;
  const data = { rows: m, L, inputIds: rows.inputIds, attentionMask: rows.attentionMask, ...(rows.labels ? { labels: rows.labels } : {}) };
  const pv = { size: inp.vocab.size, reserved: inp.vocab.reserved, unk: inp.vocab.unk ?? inp.vocab.pad, pad: inp.vocab.pad };
  const words = inp.separators && rows.labels ? segmentWords(rows.inputIds, rows.attentionMask, rows.labels, L, inp.separators) : undefined;
  const identity = perturbTokens(data, { kind: 'substitute', rate: 0 }, pv, inp.seed);
  // Severity 0: the same rows unperturbed, run again here (the evaluation keeps no logits of its own).
  const clean = measure(inp, { kind: 'none', severity: 0, perturbation: { kind: 'substitute', rate: 0 }, missing: 'wrong' }, identity, await inp.teacher(rows.inputIds, rows.attentionMask, m), await inp.student(rows.inputIds, rows.attentionMask, m), words);
  const progress = reporter.progress('token robustness suite', entries.length, 'passes');
  const measurements: TokenRobustnessMeasurement[] = [];
  for (const entry of entries) {
    const p = perturbTokens(data, entry.perturbation, pv, inp.seed);
    measurements.push(measure(inp, entry, p, await inp.teacher(p.inputIds, p.attentionMask, m), await inp.student(p.inputIds, p.attentionMask, m), words));
    progress.tick(1);
  }
  progress.done();
  const summary = robustnessSummary<string>({ teacherAccuracy: clean.teacherAccuracy, studentAccuracy: clean.studentAccuracy, agreement: clean.agreement }, measurements);
  const kinds = [...new Set(entries.map((e) => e.kind))];
  const severities = [...new Set(entries.map((e) => e.severity))].sort((a, b) => a - b);
  return { featureKind: 'tokens', rows: m, seed: inp.seed, kinds, severities, clean, measurements, summary, omitted, skipped: null };
}
