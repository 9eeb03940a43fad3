/**
 * The tables of the Arabic diacritic mapping (artifacts/experiments/ar-diacritics/data_spec.md, section 1;
 * the twin of ar_data.py's tables). Code points are written as escapes: this file holds no text.
 */

/** The 15 diacritic classes, ids 0..14 (artifacts/teachers/ar-diacritics/classes.json). */
export const DIACRITIC_CLASSES = [
  'none', 'fatha', 'damma', 'kasra', 'sukun', 'fathatan', 'dammatan', 'kasratan', 'shadda',
  'shadda+fatha', 'shadda+damma', 'shadda+kasra', 'shadda+fathatan', 'shadda+dammatan', 'shadda+kasratan',
] as const;

/** Vowel roles, in the order the class rule sees them. */
export const VOWEL_ROLES = ['fatha', 'damma', 'kasra', 'sukun', 'fathatan', 'dammatan', 'kasratan'] as const;

/** Role of a combining mark on a kept letter. */
export type MarkRole = (typeof VOWEL_ROLES)[number] | 'shadda' | 'iqlab-meem';

/** Corpus-level replacements before clustering: THIN SPACE (the seat of one superscript alef + hamza) -> TATWEEL. */
export const REPLACE_CHARS: ReadonlyMap<string, string> = new Map([['\u2009', '\u0640']]);

/** Symbols dropped with their marks: rub el hizb, place of sajdah. */
export const DROP_SYMBOLS: ReadonlySet<string> = new Set(['\u06de', '\u06e9']);

/** Base characters dropped with their marks: small waw, small yeh (Uthmani silah letters). */
export const DROP_BASES: ReadonlySet<string> = new Set(['\u06e5', '\u06e6']);

/** TATWEEL, the seat of a mark. */
export const TATWEEL = '\u0640';

/** A tatweel holding one of these marks becomes the letter: hamza above -> HAMZA, small high yeh -> YEH, small high noon -> NOON. */
export const TATWEEL_SEAT: ReadonlyMap<string, string> = new Map([
  ['\u0654', '\u0621'],
  ['\u06e7', '\u064a'],
  ['\u06e8', '\u0646'],
]);

/** Role of each mark that counts (KFGQPC encoding: U+06E1 is sukun, U+0657/U+065E/U+0656 are "open" tanween). */
export const MARK_ROLE: ReadonlyMap<string, MarkRole> = new Map<string, MarkRole>([
  ['\u064e', 'fatha'],
  ['\u064f', 'damma'],
  ['\u0650', 'kasra'],
  ['\u06e1', 'sukun'],
  ['\u064b', 'fathatan'],
  ['\u0657', 'fathatan'],
  ['\u064c', 'dammatan'],
  ['\u065e', 'dammatan'],
  ['\u064d', 'kasratan'],
  ['\u0656', 'kasratan'],
  ['\u0651', 'shadda'],
  ['\u06e2', 'iqlab-meem'],
  ['\u06ed', 'iqlab-meem'],
]);

/** Marks dropped from a kept letter (counted per code point in `droppedMarks`). */
export const DROP_MARKS: ReadonlySet<string> = new Set([
  '\u0652', // SUKUN code point: a silent letter (round zero) in this encoding
  '\u06e0', // small high upright rectangular zero
  '\u0670', // superscript (dagger) alef
  '\u0653', // maddah above
  '\u0654', // hamza above (not on a tatweel seat)
  '\u0655', // hamza below
  '\u065c', // vowel sign dot below
  '\u06d6', '\u06d7', '\u06d8', '\u06d9', '\u06da', '\u06db', // pause marks
  '\u06dc', // small high seen
  '\u06df', // small high rounded zero
  '\u06e3', // small low seen
  '\u06e4', // small high madda
  '\u06e7', // small high yeh (not on a tatweel seat)
  '\u06e8', // small high noon (not on a tatweel seat)
  '\u06ea', '\u06eb', '\u06ec', // stops
]);

/** Iqlab: a vowel plus a small meem is the tanween of that vowel. */
export const IQLAB: ReadonlyMap<string, MarkRole> = new Map<string, MarkRole>([
  ['fatha', 'fathatan'],
  ['damma', 'dammatan'],
  ['kasra', 'kasratan'],
]);

/** `U+064E` style name of a character (counts are keyed by it; no text is ever recorded). */
export function codePointName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
