/**
 * Token perturbations on hand-made rows: masks, lengths, labels and sources stay consistent; rates 0
 * and 1 give what they must; the same seed gives the same rows. Arabic maps on a hand-made char
 * vocabulary (single letters, no text).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confusableIdGroups, remapWords, variantIdMap } from '../../../../stages/evaluate/arabic-char-variants.ts';
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
