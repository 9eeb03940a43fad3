/**
 * The ways real Arabic text differs from the training text, as id maps over a char vocabulary
 * (`symbols`, id = index): letters confused with their look-alikes (same skeleton, different dots),
 * and the variants that writers and tools normalise differently: hamzated alef forms written as bare
 * alef (U+0622/0623/0625 -> U+0627), ya and alef maqsura swapped (U+064A <-> U+0649), ta marbuta
 * written as ha (U+0629 -> U+0647). A letter missing from the vocabulary is left out of every map.
 * And partially diacritised input: the marks of a diacritic class as the input ids the dataset's char
 * tokenizer gives them (a mark missing from the vocabulary becomes the unknown id, as in `charRows`).
 */
import type { Word } from './diacritic-error-rates.ts';

/** Look-alike groups: letters that differ by dots only (or by the hamza seat). */
export const ARABIC_CONFUSABLE_GROUPS: readonly string[] = [
  '\u0628\u062a\u062b\u0646', // ba ta tha nun
  '\u062c\u062d\u062e', // jim ha kha
  '\u062f\u0630', // dal dhal
  '\u0631\u0632', // ra zay
  '\u0633\u0634', // sin shin
  '\u0635\u0636', // sad dad
  '\u0637\u0638', // ta za
  '\u0639\u063a', // ain ghain
  '\u0641\u0642', // fa qaf
  '\u0627\u0623\u0625\u0622', // alef forms
];

/** Variant normalisations, from -> to. */
export const ARABIC_VARIANT_MAPS = {
  alef: [['\u0622', '\u0627'], ['\u0623', '\u0627'], ['\u0625', '\u0627']],
  ya: [['\u064a', '\u0649'], ['\u0649', '\u064a']],
  'ta-marbuta': [['\u0629', '\u0647']],
} as const satisfies Record<string, ReadonlyArray<readonly [string, string]>>;

export type ArabicVariant = keyof typeof ARABIC_VARIANT_MAPS;

/**
 * The standard code point of each mark a diacritic class name is made of (`shadda+fatha` = shadda and
 * fatha): the Arabic block's harakat, as modern text writes them (U+0652 for sukun, not the Quranic
 * U+06E1 of the corpus: the perturbation models text from outside it).
 */
export const ARABIC_MARK_CODE_POINTS: Readonly<Record<string, string>> = {
  fathatan: '\u064b',
  dammatan: '\u064c',
  kasratan: '\u064d',
  fatha: '\u064e',
  damma: '\u064f',
  kasra: '\u0650',
  shadda: '\u0651',
  sukun: '\u0652',
};

/**
 * Each class's marks as input ids, in the order NFC puts them after their letter (by combining class:
 * a vowel or tanween before shadda), for partially diacritised input. A mark is looked up in `symbols`
 * like any character; one missing from it becomes `unk`. Null when a class name is not `none` or marks
 * of {@link ARABIC_MARK_CODE_POINTS} joined by `+` (the labels are not diacritic classes), or when a
 * mark is missing from `symbols` and there is no unknown id.
 */
export function classMarkIds(classNames: readonly string[], symbols: readonly string[], unk: number | null): number[][] | null {
  const ids = idOf(symbols);
  const out: number[][] = [];
  for (const name of classNames) {
    if (name === 'none') {
      out.push([]);
      continue;
    }
    const parts = name.split('+');
    if (!parts.every((m) => ARABIC_MARK_CODE_POINTS[m] !== undefined)) return null;
    const marks = [...parts.map((m) => ARABIC_MARK_CODE_POINTS[m]!).join('').normalize('NFC')];
    const row = marks.map((c) => ids.get(c) ?? unk);
    if (row.some((id) => id === null)) return null;
    out.push(row as number[]);
  }
  return out;
}

function idOf(symbols: readonly string[]): Map<string, number> {
  return new Map(symbols.map((s, i) => [s, i]));
}

/** The confusable groups as ids of `symbols` (groups with fewer than 2 known letters dropped). */
export function confusableIdGroups(symbols: readonly string[]): number[][] {
  const ids = idOf(symbols);
  return ARABIC_CONFUSABLE_GROUPS.map((g) => [...g].flatMap((c) => (ids.has(c) ? [ids.get(c)!] : []))).filter((g) => g.length >= 2);
}

/** One variant normalisation as an id map over `symbols`. */
export function variantIdMap(symbols: readonly string[], variant: ArabicVariant): Map<number, number> {
  const ids = idOf(symbols);
  const out = new Map<number, number>();
  for (const [from, to] of ARABIC_VARIANT_MAPS[variant]) if (ids.has(from) && ids.has(to)) out.set(ids.get(from)!, ids.get(to)!);
  return out;
}

/** What becomes of a letter that is no longer in the perturbed row. */
export type MissingLetter = 'wrong' | 'drop-word';

/**
 * The clean split's words carried to the perturbed rows: each letter moves to where its `source`
 * lands, so a merged or split word and a case ending stay the clean text's. A letter no longer in the
 * row (deleted) is kept as -1 and scored wrong (`'wrong'`: its mark is lost), or its whole word leaves
 * the score (`'drop-word'`, for truncation: the cut text is not input any more). Rule in
 * docs/evaluation.md.
 */
export function remapWords(words: readonly Word[], source: Int32Array, L: number, missing: MissingLetter): Word[] {
  const to = new Map<number, number>();
  source.forEach((s, i) => {
    if (s >= 0) to.set(Math.floor(i / L) * L + s, i);
  });
  const moved = words.map((w) => w.map((i) => to.get(i) ?? -1));
  return missing === 'wrong' ? moved : moved.filter((w) => !w.includes(-1));
}
