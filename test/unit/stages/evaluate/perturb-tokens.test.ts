/**
 * Token perturbations on hand-made rows: masks, lengths, labels and sources stay consistent; rates 0
 * and 1 give what they must; the same seed gives the same rows. Arabic maps on a hand-made char
 * vocabulary (single letters, no text); partially diacritised input on two hand-made words (no verse text).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classMarkIds, confusableIdGroups, remapWords, variantIdMap } from '../../../../stages/evaluate/arabic-char-variants.ts';
import { diacriticErrorRates, segmentWords } from '../../../../stages/evaluate/diacritic-error-rates.ts';
import type { TokenPerturbation, TokenRows } from '../../../../stages/evaluate/perturb-tokens.ts';
import { perturbTokens } from '../../../../stages/evaluate/perturb-tokens.ts';

const X = -100;
const L = 6;
// ids: 0 pad, 1 unk, 2 space, 3..9 letters. Row 0 "34 56" + pad, row 1 "789" + pad.
const DATA: TokenRows = {
  rows: 2,
  L,
  inputIds: Int32Array.from([3, 4, 2, 5, 6, 0, 7, 8, 9, 0, 0, 0]),
  attentionMask: Uint8Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0]),
  labels: Int32Array.from([1, 2, X, 3, 0, X, 1, 1, 2, X, X, X]),
};
const VOCAB = { size: 10, reserved: [0, 1, 2], unk: 1, pad: 0 };

function consistent(p: TokenPerturbation): void {
  const out = perturbTokens(DATA, p, VOCAB, 7);
  for (let r = 0; r < 2; r++) {
    for (let t = 0; t < L; t++) {
      const i = r * L + t;
      assert.equal(out.attentionMask[i], t < out.length[r]! ? 1 : 0, `${p.kind} mask row ${r} pos ${t}`);
      if (out.attentionMask[i] === 0) {
        assert.deepEqual([out.inputIds[i], out.labels![i], out.source[i]], [0, X, -1], `${p.kind} padding`);
        continue;
      }
      const s = out.source[i]!;
      assert.equal(out.labels![i], s >= 0 ? DATA.labels![r * L + s] : X, `${p.kind} label follows source`);
      if (s >= 0) assert.equal(out.changed[i], out.inputIds[i] === DATA.inputIds[r * L + s] ? 0 : 1);
    }
  }
}

test('every perturbation keeps mask, length, labels and source consistent', () => {
  const kinds: TokenPerturbation[] = [
    { kind: 'substitute', rate: 0.5 },
    { kind: 'delete', rate: 0.5 },
    { kind: 'insert', rate: 0.5 },
    { kind: 'unseen', rate: 0.5 },
    { kind: 'truncate', keep: 0.5 },
    { kind: 'confusable', rate: 1, groups: [[3, 4], [7, 8, 9]] },
    { kind: 'normalise', rate: 1, map: new Map([[5, 6]]) },
    { kind: 'drop-space', rate: 1, space: 2 },
    { kind: 'split-word', rate: 1, space: 2 },
    { kind: 'mark-tokens', rate: 0.5, marks: [[], [1], [1, 1], [1]] },
  ];
  for (const p of kinds) consistent(p);
});

test('rates 0 and 1: identity, every token unk, everything deleted, insertions cut at L', () => {
  assert.deepEqual([...perturbTokens(DATA, { kind: 'substitute', rate: 0 }, VOCAB, 1).inputIds], [...DATA.inputIds]);
  const unk = perturbTokens(DATA, { kind: 'unseen', rate: 1 }, VOCAB, 1);
  assert.deepEqual([...unk.inputIds], [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual([...unk.labels!], [...DATA.labels!]);
  assert.deepEqual([...perturbTokens(DATA, { kind: 'delete', rate: 1 }, VOCAB, 1).length], [0, 0]);
  const ins = perturbTokens(DATA, { kind: 'insert', rate: 1 }, VOCAB, 1);
  // Every token gets one inserted before it: row 0 keeps 3 clean tokens of 5 within L = 6.
  assert.deepEqual([...ins.length], [6, 6]);
  assert.deepEqual([...ins.source.slice(0, 6)], [-1, 0, -1, 1, -1, 2]);
  assert.ok([...ins.inputIds].every((id) => id !== 0 && id !== 1));
  const tr = perturbTokens(DATA, { kind: 'truncate', keep: 0.5 }, VOCAB, 1);
  assert.deepEqual([...tr.length], [3, 2]);
});

test('same seed, same rows; another seed, other rows; rows independent of each other', () => {
  const p: TokenPerturbation = { kind: 'substitute', rate: 0.5 };
  const a = perturbTokens(DATA, p, VOCAB, 3);
  assert.deepEqual([...perturbTokens(DATA, p, VOCAB, 3).inputIds], [...a.inputIds]);
  const seeds = [4, 5, 6, 7, 8].map((s) => [...perturbTokens(DATA, p, VOCAB, s).inputIds].join());
  assert.ok(seeds.some((x) => x !== [...a.inputIds].join()));
  // Draws are keyed by row index, not by a running generator: row 0 alone is perturbed as in the pair.
  const one = perturbTokens({ ...DATA, rows: 1, inputIds: DATA.inputIds.slice(0, 6), attentionMask: DATA.attentionMask.slice(0, 6), labels: DATA.labels!.slice(0, 6) }, p, VOCAB, 3);
  assert.deepEqual([...one.inputIds], [...a.inputIds.slice(0, 6)]);
});

test('dropping the space merges two words, but DER/WER score the clean words', () => {
  const out = perturbTokens(DATA, { kind: 'drop-space', rate: 1, space: 2 }, VOCAB, 1);
  assert.deepEqual([...out.inputIds.slice(0, 6)], [3, 4, 5, 6, 0, 0]);
  const words = segmentWords(DATA.inputIds, DATA.attentionMask, DATA.labels!, L, new Set([2]));
  const moved = remapWords(words, out.source, L, 'wrong');
  assert.deepEqual(moved, [[0, 1], [2, 3], [6, 7, 8]]);
  // A model that gets every letter right on the merged row still has DER 0 on the clean words.
  assert.equal(diacriticErrorRates(out.labels!, out.labels!, moved).der, 0);
});

test('a deleted letter is scored wrong (or drops its word under truncation)', () => {
  const words = [[0, 1], [3, 4]];
  const source = Int32Array.from([0, 2, 3, -1, -1, -1]);
  assert.deepEqual(remapWords(words, source, L, 'wrong'), [[0, -1], [2, -1]]);
  assert.deepEqual(remapWords(words, source, L, 'drop-word'), []);
  const r = diacriticErrorRates([1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [[0, -1]]);
  assert.deepEqual([r.der, r.wer, r.derNoCaseEnding], [0.5, 1, 0]);
});

test('Arabic maps through a char vocabulary: alef forms to bare alef, ya <-> alef maqsura, ta marbuta to ha', () => {
  const symbols = ['<pad>', '<unk>', ' ', '\u0627', '\u0623', '\u0625', '\u064a', '\u0649', '\u0629', '\u0647', '\u0628', '\u062a'];
  assert.deepEqual([...variantIdMap(symbols, 'alef')], [[4, 3], [5, 3]]);
  assert.deepEqual([...variantIdMap(symbols, 'ya')], [[6, 7], [7, 6]]);
  assert.deepEqual([...variantIdMap(symbols, 'ta-marbuta')], [[8, 9]]);
  assert.deepEqual(confusableIdGroups(symbols), [[10, 11], [3, 4, 5]]);
});

test('BAD CALL a rate outside [0, 1] is a DataError naming the perturbation', () => {
  assert.throws(() => perturbTokens(DATA, { kind: 'delete', rate: 1.5 }, VOCAB, 1), { name: 'DataError', message: /delete: rate must be in \[0, 1\], but got 1.5/ });
});

test('BAD CALL partially diacritised input on rows without labels is a DataError saying why', () => {
  const unlabelled: TokenRows = { rows: DATA.rows, L, inputIds: DATA.inputIds, attentionMask: DATA.attentionMask };
  assert.throws(() => perturbTokens(unlabelled, { kind: 'mark-tokens', rate: 0.5, marks: [[], [1]] }, VOCAB, 1), { name: 'DataError', message: /mark-tokens: the rows have no labels/ });
});

test('the suite: generic kinds for any tokenizer, the Arabic kinds only with a char vocabulary that has the letters', async () => {
  const { tokenRobustnessSuite } = await import('../../../../stages/evaluate/token-robustness-suite.ts');
  const generic = tokenRobustnessSuite();
  assert.deepEqual([...new Set(generic.map((e) => e.kind))], ['substitute', 'delete', 'insert', 'unseen', 'truncate']);
  assert.equal(generic.length, 4 * 4 + 3);
  const latin = tokenRobustnessSuite(['<pad>', '<unk>', 'a', 'b']);
  assert.equal(latin.length, generic.length);
  const arabic = tokenRobustnessSuite(['<pad>', '<unk>', ' ', '\u0627', '\u0623', '\u064a', '\u0649', '\u0628', '\u062a']);
  const kinds = [...new Set(arabic.map((e) => e.kind))];
  assert.deepEqual(kinds.slice(5), ['confusable', 'normalise-alef', 'normalise-ya', 'drop-space', 'split-word']);
  for (const e of arabic) perturbTokens(DATA, e.perturbation, VOCAB, 1);
  // Diacritic classes as labels add partially diacritised input (the marks unknown to this vocabulary).
  const withMarks = tokenRobustnessSuite(['<pad>', '<unk>', ' ', '\u0627', '\u0623', '\u0628', '\u062a'], { classNames: ['none', 'fatha', 'shadda+damma'], unk: 1 });
  const partial = withMarks.filter((e) => e.kind === 'partial-diacritics');
  assert.deepEqual(partial.map((e) => [e.severity, e.perturbation.kind === 'mark-tokens' ? e.perturbation.rate : -1, e.missing]), [[1, 0.1, 'drop-word'], [2, 0.25, 'drop-word'], [3, 0.5, 'drop-word'], [4, 1, 'drop-word']]);
  assert.deepEqual(partial[0]!.perturbation.kind === 'mark-tokens' && partial[0]!.perturbation.marks, [[], [1], [1, 1]]);
  assert.equal(tokenRobustnessSuite(['<pad>', '<unk>', ' ', '\u0627', '\u0623'], { classNames: ['O', 'B-PER'], unk: 1 }).filter((e) => e.kind === 'partial-diacritics').length, 0);
});

test('partially diacritised input: a letter with marks is followed by one token per mark, labels stay the letters\'', () => {
  // marks per class: 0 none, 1 one mark, 2 two marks, 3 one mark; the marks are all unknown (id 1).
  const p: TokenPerturbation = { kind: 'mark-tokens', rate: 1, marks: [[], [1], [1, 1], [1]] };
  const out = perturbTokens(DATA, p, VOCAB, 1);
  // Row 0 "34 56" (classes 1, 2, -, 3, 0) -> 3 + 1 mark, 4 + 2 marks, space, then cut at L = 6.
  assert.deepEqual([...out.inputIds.slice(0, 6)], [3, 1, 4, 1, 1, 2]);
  assert.deepEqual([...out.source.slice(0, 6)], [0, -1, 1, -1, -1, 2]);
  assert.deepEqual([...out.labels!.slice(0, 6)], [1, X, 2, X, X, X]);
  // Row 1 "789" (classes 1, 1, 2): the last letter's second mark falls past L.
  assert.deepEqual([...out.inputIds.slice(6)], [7, 1, 8, 1, 9, 1]);
  assert.deepEqual([...out.length], [6, 6]);
  // The word pushed past L leaves the score (drop-word); the others keep their clean letters.
  const words = segmentWords(DATA.inputIds, DATA.attentionMask, DATA.labels!, L, new Set([2]));
  assert.deepEqual(remapWords(words, out.source, L, 'drop-word'), [[0, 2], [6, 8, 10]]);
  // Rate 0 is the clean rows; the letters with class 0 ("none") never draw.
  assert.deepEqual([...perturbTokens(DATA, { ...p, rate: 0 }, VOCAB, 1).inputIds], [...DATA.inputIds]);
  assert.deepEqual([...perturbTokens(DATA, { ...p, marks: [[], [], [], []] }, VOCAB, 1).inputIds], [...DATA.inputIds]);
});

test('partially diacritised input is seeded: same seed, same rows; the share of marked letters follows the rate', () => {
  const rows = 200;
  const one = { ids: [3, 4, 5, 6, 7, 8], labels: [1, 0, 2, 0, 1, 0] };
  const data: TokenRows = {
    rows,
    L: 12,
    inputIds: Int32Array.from({ length: rows * 12 }, (_, i) => (i % 12 < 6 ? one.ids[i % 12]! : 0)),
    attentionMask: Uint8Array.from({ length: rows * 12 }, (_, i) => (i % 12 < 6 ? 1 : 0)),
    labels: Int32Array.from({ length: rows * 12 }, (_, i) => (i % 12 < 6 ? one.labels[i % 12]! : X)),
  };
  const p: TokenPerturbation = { kind: 'mark-tokens', rate: 0.25, marks: [[], [1], [1]] };
  const a = perturbTokens(data, p, VOCAB, 11);
  assert.deepEqual([...perturbTokens(data, p, VOCAB, 11).inputIds], [...a.inputIds]);
  assert.notDeepEqual([...perturbTokens(data, p, VOCAB, 12).inputIds], [...a.inputIds]);
  // 3 marked letters per row, one mark each: inserted tokens / (3 * rows) estimates the rate.
  const inserted = a.length.reduce((n, len) => n + len - 6, 0);
  assert.ok(Math.abs(inserted / (3 * rows) - 0.25) < 0.05, `share ${inserted / (3 * rows)}`);
});

test('partially diacritised hand-made words reach the model as the char tokenizer encodes them', async () => {
  const { charRows } = await import('../../../../stages/data/quran/char-rows.ts');
  const { mapVerse, newMappingCounts } = await import('../../../../stages/data/quran/map-verse.ts');
  const { DIACRITIC_CLASSES } = await import('../../../../stages/data/quran/diacritic-tables.ts');
  // kataba, muddatun: fatha x3 / damma, shadda+fatha (typed shadda first), dammatan.
  const diacritised = '\u0643\u064e\u062a\u064e\u0628\u064e \u0645\u064f\u062f\u0651\u064e\u0629\u064c';
  const symbols = ['<pad>', '<unk>', ' ', '\u0628', '\u062a', '\u0629', '\u062f', '\u0643', '\u0645'];
  const ids = new Map(symbols.map((c, i) => [c, i]));
  const clean = mapVerse(diacritised, newMappingCounts());
  const cleanRows = charRows([{ chapter: 1, verse: 1, ...clean }], ids, 16);
  // The same text with every mark left in, through the same tokenizer (NFC, unknown characters -> unk).
  const raw = [...diacritised.normalize('NFC')];
  const rawRows = charRows([{ chapter: 1, verse: 1, chars: raw, classes: raw.map(() => 0) }], ids, 16);
  const marks = classMarkIds(DIACRITIC_CLASSES, symbols, 1)!;
  const data: TokenRows = { rows: 1, L: 16, inputIds: cleanRows.inputIds, attentionMask: cleanRows.attentionMask, labels: Int32Array.from(cleanRows.labels) };
  const out = perturbTokens(data, { kind: 'mark-tokens', rate: 1, marks }, { size: symbols.length, reserved: [0, 1, 2], unk: 1, pad: 0 }, 1);
  assert.deepEqual([...out.inputIds], [...rawRows.inputIds]);
  assert.equal(out.length[0], raw.length);
});

test('class marks as input ids: NFC order, unknown id for marks outside the vocabulary, null for other labels', () => {
  const names = ['none', 'fatha', 'sukun', 'shadda+fatha', 'shadda+kasratan'];
  assert.deepEqual(classMarkIds(names, ['<pad>', '<unk>', '\u0628'], 1), [[], [1], [1], [1, 1], [1, 1]]);
  // A vocabulary that has fatha and shadda: their own ids, fatha first (combining class 30 before 33).
  assert.deepEqual(classMarkIds(names, ['<pad>', '<unk>', '\u0651', '\u064e'], 1), [[], [3], [1], [3, 2], [1, 2]]);
  assert.equal(classMarkIds(['O', 'B-PER'], ['<pad>', '<unk>'], 1), null);
  assert.equal(classMarkIds(names, ['<pad>', '\u0628'], null), null);
});

test('causal LM labels after a perturbation: the clean next token, none after an inserted one', async () => {
  const { causalLabelsAfterPerturbation } = await import('../../../../stages/evaluate/perturb-tokens.ts');
  const lm: TokenRows = { rows: 1, L: 4, inputIds: Int32Array.from([3, 4, 5, 0]), attentionMask: Uint8Array.from([1, 1, 1, 0]) };
  assert.deepEqual([...causalLabelsAfterPerturbation(perturbTokens(lm, { kind: 'substitute', rate: 0 }, VOCAB, 1))], [4, 5, X]);
  const unk = perturbTokens(lm, { kind: 'unseen', rate: 1 }, VOCAB, 1);
  assert.deepEqual([...unk.inputIds], [1, 1, 1, 0]);
  assert.deepEqual([...causalLabelsAfterPerturbation(unk)], [4, 5, X]);
  const ins = perturbTokens(lm, { kind: 'insert', rate: 1 }, VOCAB, 1);
  // [new, 3, new, 4]: position 0 predicts 3 (clean), position 1 an inserted token (none), position 2 predicts 4.
  assert.deepEqual([...causalLabelsAfterPerturbation(ins)], [3, X, 4]);
});

test('a suite measurement scores both models on the perturbed rows; DER on the clean words', async () => {
  const { tokenRobustnessMeasurement } = await import('../../../../stages/evaluate/token-robustness-measurement.ts');
  const entry = { kind: 'drop-space', severity: 3, perturbation: { kind: 'drop-space', rate: 1, space: 2 } as const, missing: 'wrong' as const };
  const out = perturbTokens(DATA, entry.perturbation, VOCAB, 1);
  const oneHot = (cls: (i: number) => number) => ({ rows: 2, positions: L, classes: 4, logits: Float64Array.from({ length: 2 * L * 4 }, (_, j) => (cls(Math.floor(j / 4)) === j % 4 ? 5 : 0)) });
  const gold = (i: number) => Math.max(out.labels![i]!, 0);
  const student = oneHot(gold);
  const teacher = oneHot((i) => (i === 0 ? gold(i) : (gold(i) + 1) % 4));
  const words = segmentWords(DATA.inputIds, DATA.attentionMask, DATA.labels!, L, new Set([2]));
  const m = tokenRobustnessMeasurement(entry, out, out.labels!, teacher, student, words);
  // 7 labelled letters survive (the space had no label); the teacher is right at position 0 only.
  assert.deepEqual([m.positions, m.studentAccuracy, m.teacherAccuracy, m.agreement], [7, 1, 1 / 7, 1 / 7]);
  assert.deepEqual([m.studentDer, m.teacherDer], [0, 6 / 7]);
});
