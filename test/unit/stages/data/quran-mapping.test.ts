/**
 * The Arabic diacritic mapping on hand-made words (never corpus text): ar_data.py's --selftest cases,
 * ported, plus the rules of data_spec.md section 1 one by one. Letters are written as escapes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DIACRITIC_CLASSES } from '../../../../stages/data/quran/diacritic-tables.ts';
import { mapVerse, newMappingCounts } from '../../../../stages/data/quran/map-verse.ts';
import type { MappingCounts } from '../../../../stages/data/quran/map-verse.ts';

const KAF = '\u0643';
const TEH = '\u062a';
const BEH = '\u0628';
const REH = '\u0631';
const DAL = '\u062f';
const LAM = '\u0644';
const MEEM = '\u0645';
const ALEF = '\u0627';
const NOON = '\u0646';
const FATHA = '\u064e';
const DAMMA = '\u064f';
const KASRA = '\u0650';
const SHADDA = '\u0651';
const SUKUN = '\u06e1';

const cls = (name: (typeof DIACRITIC_CLASSES)[number]): number => DIACRITIC_CLASSES.indexOf(name);

function map(text: string, counts: MappingCounts = newMappingCounts()): { s: string; labels: number[]; counts: MappingCounts } {
  const m = mapVerse(text, counts);
  return { s: m.chars.join(''), labels: m.classes, counts };
}

test('selftest 1: kataba, a vowel on each letter', () => {
  const { s, labels } = map(`${KAF}${FATHA}${TEH}${FATHA}${BEH}${FATHA}`);
  assert.equal(s, `${KAF}${TEH}${BEH}`);
  assert.deepEqual(labels, [1, 1, 1]);
});

test('selftest 2: shadda+fatha in either order, open dammatan, iqlab fatha + small high meem -> fathatan', () => {
  const { s, labels, counts } = map(`${REH}${SHADDA}${FATHA} ${DAL}\u065e ${BEH}${FATHA}\u06e2`);
  assert.equal(s, `${REH} ${DAL} ${BEH}`);
  assert.deepEqual(labels, [9, 0, 6, 0, 5]);
  assert.deepEqual(counts.iqlabTanween, { fathatan: 1 });
  assert.deepEqual(map(`${REH}${FATHA}${SHADDA}`).labels, [cls('shadda+fatha')], 'NFC puts shadda first either way');
});

test('selftest 3: tatweel + hamza above + kasra -> HAMZA with kasra; tatweel + superscript alef dropped', () => {
  const { s, labels, counts } = map(`${LAM}\u0640\u0670${KAF}\u0640\u0654${KASRA}`);
  assert.equal(s, `${LAM}${KAF}\u0621`);
  assert.deepEqual(labels, [0, 0, 3]);
  assert.equal(counts.tatweelDropped, 1);
  assert.equal(counts.marksOnDroppedBases, 1);
  assert.deepEqual(counts.tatweelSeats, { 'U+0654': 1 });
});

test('selftest 4: pause mark and rub el hizb dropped, spaces collapse, silent-letter U+0652 -> none', () => {
  const { s, labels, counts } = map(`\u06de ${MEEM}${SUKUN}\u06d6 ${ALEF}\u0652`);
  assert.equal(s, `${MEEM} ${ALEF}`);
  assert.deepEqual(labels, [4, 0, 0]);
  assert.deepEqual(counts.droppedSymbols, { 'U+06DE': 1 });
  assert.deepEqual(counts.droppedMarks, { 'U+06D6': 1, 'U+0652': 1 });
});

test('the other tatweel seats: small high yeh -> YEH, small high noon -> NOON; they are dropped marks elsewhere', () => {
  assert.equal(map(`${LAM}\u0640\u06e7${FATHA}`).s, `${LAM}\u064a`);
  assert.equal(map(`${LAM}\u0640\u06e8`).s, `${LAM}${NOON}`);
  const { s, labels, counts } = map(`${LAM}\u06e7${FATHA}`);
  assert.equal(s, LAM);
  assert.deepEqual(labels, [cls('fatha')]);
  assert.deepEqual(counts.droppedMarks, { 'U+06E7': 1 });
});

test('silah letters (small waw, small yeh) are dropped with their marks and counted', () => {
  const { s, counts } = map(`${LAM}${DAMMA}\u06e5${FATHA} ${BEH}${KASRA}\u06e6`);
  assert.equal(s, `${LAM} ${BEH}`);
  assert.deepEqual(counts.droppedBases, { 'U+06E5': 1, 'U+06E6': 1 });
  assert.equal(counts.marksOnDroppedBases, 1);
});

test('THIN SPACE is a tatweel seat, not a space', () => {
  const { s, counts } = map(`${LAM}\u2009\u0654${FATHA}`);
  assert.equal(s, `${LAM}\u0621`);
  assert.deepEqual(counts.replaced, { 'U+2009': 1 });
});

test('open tanween code points and the KFGQPC sukun', () => {
  assert.deepEqual(map(`${BEH}\u0657 ${BEH}\u065e ${BEH}\u0656 ${BEH}${SUKUN}`).labels, [5, 0, 6, 0, 7, 0, 4]);
});

test('iqlab: damma/kasra + small meem -> dammatan/kasratan; a meem without one vowel is dropped and counted', () => {
  const { labels, counts } = map(`${BEH}${DAMMA}\u06e2 ${BEH}${KASRA}\u06ed ${NOON}\u06e2`);
  assert.deepEqual(labels, [cls('dammatan'), 0, cls('kasratan'), 0, cls('none')]);
  assert.deepEqual(counts.iqlabTanween, { dammatan: 1, kasratan: 1 });
  assert.equal(counts.iqlabMeemDropped, 1);
});

test('shadda with each vowel and tanween; shadda alone', () => {
  const vowels = [['\u064e', 'shadda+fatha'], ['\u064f', 'shadda+damma'], ['\u0650', 'shadda+kasra'], ['\u064b', 'shadda+fathatan'], ['\u064c', 'shadda+dammatan'], ['\u064d', 'shadda+kasratan']] as const;
  for (const [mark, name] of vowels) assert.deepEqual(map(`${DAL}${SHADDA}${mark}`).labels, [cls(name)], name);
  assert.deepEqual(map(`${DAL}${SHADDA}`).labels, [cls('shadda')]);
});

test('conflicts: two vowels take the first in NFC order; shadda + sukun -> shadda; both counted', () => {
  const two = map(`${DAL}${KASRA}${FATHA}`);
  assert.deepEqual(two.labels, [cls('fatha')], 'NFC orders fatha (ccc 30) before kasra (ccc 32)');
  assert.equal(two.counts.conflicts, 1);
  const shaddaSukun = map(`${DAL}${SHADDA}${SUKUN}`);
  assert.deepEqual(shaddaSukun.labels, [cls('shadda')]);
  assert.equal(shaddaSukun.counts.conflicts, 1);
  assert.equal(map(`${DAL}${FATHA}${FATHA}`).counts.conflicts, 0, 'the same vowel twice is one vowel');
});

test('a mark in no table is dropped and counted as unknown; other letters are kept as they are', () => {
  const { s, labels, counts } = map(`${DAL}\u0610${FATHA}`);
  assert.equal(s, DAL);
  assert.deepEqual(labels, [cls('fatha')]);
  assert.deepEqual(counts.unknownMarks, { 'U+0610': 1 });
});

test('NFC composes alef + hamza/madda into letters of the input (not marks)', () => {
  const { s } = map(`${ALEF}\u0654${FATHA}${ALEF}\u0653`);
  assert.equal(s, '\u0623\u0622');
});

test('whitespace: Python isspace (tab, newline, NBSP) becomes one space; none leading or trailing', () => {
  assert.equal(map(` \t${DAL}\u00a0\n ${LAM} \u06de `).s, `${DAL} ${LAM}`);
  assert.equal(map('\u06de').s, '');
  assert.equal(map(`${DAL}\ufeff`).s, `${DAL}\ufeff`, 'U+FEFF is whitespace for JavaScript, not for Python: kept as a letter');
});

test('counts accumulate over calls', () => {
  const counts = newMappingCounts();
  map(`${DAL}\u0670`, counts);
  map(`${LAM}\u0670`, counts);
  assert.deepEqual(counts.droppedMarks, { 'U+0670': 2 });
});
