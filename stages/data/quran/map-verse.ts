import { isPySpace } from '../../../pipeline/dataset/python-whitespace.ts';
import {
  DIACRITIC_CLASSES, DROP_BASES, DROP_MARKS, DROP_SYMBOLS, IQLAB, MARK_ROLE, REPLACE_CHARS, TATWEEL, TATWEEL_SEAT, VOWEL_ROLES, codePointName,
} from './diacritic-tables.ts';
import type { MarkRole } from './diacritic-tables.ts';

/** What the mapping dropped, replaced and resolved, counted over every verse it saw (data-record.json `mappingCounts`). */
export interface MappingCounts {
  replaced: Record<string, number>;
  droppedSymbols: Record<string, number>;
  droppedBases: Record<string, number>;
  tatweelSeats: Record<string, number>;
  tatweelDropped: number;
  droppedMarks: Record<string, number>;
  marksOnDroppedBases: number;
  iqlabTanween: Record<string, number>;
  iqlabMeemDropped: number;
  conflicts: number;
  unknownMarks: Record<string, number>;
}

/** A verse after the mapping: the undiacritised characters (code points) and a class id per character (0 for spaces). */
export interface MappedVerse {
  chars: string[];
  classes: number[];
}

/** Empty counts. */
export function newMappingCounts(): MappingCounts {
  return {
    replaced: {}, droppedSymbols: {}, droppedBases: {}, tatweelSeats: {}, tatweelDropped: 0, droppedMarks: {},
    marksOnDroppedBases: 0, iqlabTanween: {}, iqlabMeemDropped: 0, conflicts: 0, unknownMarks: {},
  };
}

function bump(counts: Record<string, number>, key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

/** A combining mark (data_spec.md: canonical combining class > 0, which is General_Category Mn on this corpus). */
const COMBINING = /^\p{Mn}$/u;

const VOWELS: ReadonlySet<string> = new Set(VOWEL_ROLES);

/** Class id of one kept letter from its marks (drops and counts every other mark). The twin of ar_data.py's `cluster_class`. */
export function clusterClass(base: string, marks: readonly string[], counts: MappingCounts): number {
  const roles: MarkRole[] = [];
  for (const m of marks) {
    const role = MARK_ROLE.get(m);
    if (role === undefined) {
      if ((TATWEEL_SEAT.has(m) && base !== TATWEEL) || DROP_MARKS.has(m)) bump(counts.droppedMarks, codePointName(m));
      else if (!TATWEEL_SEAT.has(m)) bump(counts.unknownMarks, codePointName(m));
      continue;
    }
    roles.push(role);
  }
  const shadda = roles.includes('shadda');
  let vowels: string[] = roles.filter((r) => VOWELS.has(r));
  if (roles.includes('iqlab-meem')) {
    const tanween = vowels.length === 1 ? IQLAB.get(vowels[0]!) : undefined;
    if (tanween !== undefined) {
      bump(counts.iqlabTanween, tanween);
      vowels = [tanween];
    } else {
      counts.iqlabMeemDropped += 1;
    }
  }
  vowels = [...new Set(vowels)];
  if (vowels.length > 1 || (shadda && vowels.length === 1 && vowels[0] === 'sukun')) {
    counts.conflicts += 1; // the first vowel in NFC order; shadda + sukun -> shadda
    vowels = shadda ? vowels.filter((v) => v !== 'sukun').slice(0, 1) : vowels.slice(0, 1);
  }
  const name = vowels.length === 0 ? (shadda ? 'shadda' : 'none') : `${shadda ? 'shadda+' : ''}${vowels[0]!}`;
  return (DIACRITIC_CLASSES as readonly string[]).indexOf(name);
}

/**
 * One diacritised verse -> undiacritised characters and a class per character (data_spec.md, section 1):
 * NFC; THIN SPACE -> TATWEEL; clusters of a base and its combining marks; symbols, silah letters and bare
 * tatweels dropped with their marks; a tatweel with a seat mark becomes that letter; whitespace becomes one
 * space (runs collapse, none leading or trailing); any other base is kept and labelled by its marks.
 * The twin of ar_data.py's `map_verse`; `counts` accumulates what was dropped.
 */
export function mapVerse(text: string, counts: MappingCounts): MappedVerse {
  let t = text.normalize('NFC');
  for (const [src, dst] of REPLACE_CHARS) {
    const n = t.split(src).length - 1;
    if (n > 0) {
      bump(counts.replaced, codePointName(src), n);
      t = t.split(src).join(dst);
    }
  }
  const cps = Array.from(t);
  const chars: string[] = [];
  const classes: number[] = [];
  for (let i = 0; i < cps.length; ) {
    let base = cps[i]!;
    let j = i + 1;
    while (j < cps.length && COMBINING.test(cps[j]!)) j++;
    let marks = cps.slice(i + 1, j);
    i = j;
    if (DROP_SYMBOLS.has(base) || DROP_BASES.has(base)) {
      bump(DROP_SYMBOLS.has(base) ? counts.droppedSymbols : counts.droppedBases, codePointName(base));
      counts.marksOnDroppedBases += marks.length;
      continue;
    }
    if (base === TATWEEL) {
      const seatAt = marks.findIndex((m) => TATWEEL_SEAT.has(m));
      if (seatAt < 0) {
        counts.tatweelDropped += 1;
        counts.marksOnDroppedBases += marks.length;
        continue;
      }
      bump(counts.tatweelSeats, codePointName(marks[seatAt]!));
      base = TATWEEL_SEAT.get(marks[seatAt]!)!;
      marks = marks.filter((_, k) => k !== seatAt);
    }
    if (isPySpace(base)) {
      counts.marksOnDroppedBases += marks.length;
      if (chars.length > 0 && chars[chars.length - 1] !== ' ') {
        chars.push(' ');
        classes.push(0);
      }
      continue;
    }
    chars.push(base);
    classes.push(clusterClass(base, marks, counts));
  }
  while (chars.length > 0 && chars[chars.length - 1] === ' ') {
    chars.pop();
    classes.pop();
  }
  return { chars, classes };
}
