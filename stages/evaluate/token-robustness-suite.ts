/**
 * The token robustness suite: which perturbations run, at which severities. Every token dataset gets
 * the generic kinds (substitution, deletion, insertion, unseen tokens at rates 0.02 / 0.05 / 0.1 / 0.2,
 * truncation keeping 75% / 50% / 25% of each row); a char vocabulary that holds Arabic letters adds
 * confusable-letter substitution (same rates), the three variant normalisations (applied to every
 * occurrence, severity 1), dropped spaces and split words (rates 0.1 / 0.25 / 0.5); with diacritic
 * class names as labels, partially diacritised input (`partial-diacritics`: the marks of a share 0.1 /
 * 0.25 / 0.5 / 1 of the marked letters kept in the text, each mark reaching the model as the id the char
 * tokenizer gives it, the unknown id when the vocabulary has no such symbol; words pushed past L leave
 * the score, as under truncation).
 * Severity is the perturbation's 1-based index in its list, as in the image suite.
 */
import type { ArabicVariant, MissingLetter } from './arabic-char-variants.ts';
import { ARABIC_VARIANT_MAPS, classMarkIds, confusableIdGroups, variantIdMap } from './arabic-char-variants.ts';
import type { TokenPerturbation } from './perturb-tokens.ts';

/** One run of the suite. */
export interface TokenSuiteEntry {
  /** Kind as reported (`normalise-alef`, `normalise-ya`, `normalise-ta-marbuta` for the variants). */
  kind: string;
  /** 1-based severity within the kind. */
  severity: number;
  perturbation: TokenPerturbation;
  /** What a letter no longer in the row counts as in DER/WER (remapWords). */
  missing: MissingLetter;
}

/** Token rates of the substitution-like kinds. */
export const TOKEN_RATES: readonly number[] = [0.02, 0.05, 0.1, 0.2];
/** Share of each row kept by truncation. */
export const TRUNCATION_KEEP: readonly number[] = [0.75, 0.5, 0.25];
/** Rates of the space kinds (per space / per word-internal gap). */
export const SPACE_RATES: readonly number[] = [0.1, 0.25, 0.5];
/** Share of the marked letters whose marks partially diacritised input keeps. */
export const MARK_RATES: readonly number[] = [0.1, 0.25, 0.5, 1];

/** What partially diacritised input needs besides the symbols: the label classes and the unknown id. */
export interface TokenSuiteLabels {
  /** The label classes' names (the teacher card's classes.names). */
  classNames: readonly string[];
  /** The char vocabulary's unknown-token id (what a mark outside the vocabulary becomes), or null. */
  unk: number | null;
}

function series(kind: string, values: readonly number[], make: (v: number) => TokenPerturbation, missing: MissingLetter = 'wrong'): TokenSuiteEntry[] {
  return values.map((v, i) => ({ kind, severity: i + 1, perturbation: make(v), missing }));
}

/**
 * The suite for a dataset. `symbols` is the char vocabulary (absent for an `hf` tokenizer); its
 * space symbol `' '`, when present, enables the space kinds; `labels` with diacritic class names
 * (`none`, `fatha`, `shadda+kasra`, ...) enable `partial-diacritics`.
 */
export function tokenRobustnessSuite(symbols?: readonly string[], labels?: TokenSuiteLabels): TokenSuiteEntry[] {
  const out = [
    ...series('substitute', TOKEN_RATES, (rate) => ({ kind: 'substitute', rate })),
    ...series('delete', TOKEN_RATES, (rate) => ({ kind: 'delete', rate })),
    ...series('insert', TOKEN_RATES, (rate) => ({ kind: 'insert', rate })),
    ...series('unseen', TOKEN_RATES, (rate) => ({ kind: 'unseen', rate })),
    ...series('truncate', TRUNCATION_KEEP, (keep) => ({ kind: 'truncate', keep }), 'drop-word'),
  ];
  if (!symbols) return out;
  const groups = confusableIdGroups(symbols);
  if (groups.length > 0) out.push(...series('confusable', TOKEN_RATES, (rate) => ({ kind: 'confusable', rate, groups })));
  for (const variant of Object.keys(ARABIC_VARIANT_MAPS) as ArabicVariant[]) {
    const map = variantIdMap(symbols, variant);
    if (map.size > 0) out.push({ kind: `normalise-${variant}`, severity: 1, perturbation: { kind: 'normalise', rate: 1, map }, missing: 'wrong' });
  }
  const space = symbols.indexOf(' ');
  if (space >= 0) {
    out.push(...series('drop-space', SPACE_RATES, (rate) => ({ kind: 'drop-space', rate, space })));
    out.push(...series('split-word', SPACE_RATES, (rate) => ({ kind: 'split-word', rate, space })));
  }
  const marks = labels ? classMarkIds(labels.classNames, symbols, labels.unk) : null;
  if (marks && groups.length > 0) out.push(...series('partial-diacritics', MARK_RATES, (rate) => ({ kind: 'mark-tokens', rate, marks }), 'drop-word'));
  return out;
}
