import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CharEncoder, PAD_ID, UNK_ID, buildCharVocabulary, parseCharVocabulary } from '../../../../pipeline/dataset/char-vocabulary.ts';
import { removeCrossSplitDuplicates, splitDocuments, textKey } from '../../../../pipeline/dataset/split-documents.ts';

test('char vocabulary: <pad>, <unk>, then code points sorted, with counts', () => {
  const { vocabulary, counts } = buildCharVocabulary(['banana', 'cab']);
  assert.deepEqual(vocabulary.symbols, ['<pad>', '<unk>', 'a', 'b', 'c', 'n']);
  assert.deepEqual(counts, [0, 0, 4, 2, 1, 2]);
  assert.equal(PAD_ID, 0);
  assert.equal(UNK_ID, 1);
  const enc = new CharEncoder(vocabulary);
  assert.deepEqual([...enc.encode('cabx')], [4, 2, 3, UNK_ID]);
  assert.equal(enc.unknown, 1);
});

test('NFC: a decomposed e + combining acute is one symbol, the same as the precomposed é', () => {
  const decomposed = 'cafe\u0301';
  const precomposed = 'caf\u00e9';
  const { vocabulary } = buildCharVocabulary([decomposed]);
  assert.ok(vocabulary.symbols.includes('\u00e9'));
  assert.ok(!vocabulary.symbols.includes('\u0301'));
  const enc = new CharEncoder(vocabulary);
  assert.deepEqual([...enc.encode(decomposed)], [...enc.encode(precomposed)]);
  assert.equal(enc.encode(decomposed).length, 4);
});

test('an astral character is one symbol (code points, not UTF-16 units)', () => {
  const { vocabulary } = buildCharVocabulary(['a\u{1F600}b']);
  assert.deepEqual(vocabulary.symbols, ['<pad>', '<unk>', 'a', 'b', '\u{1F600}']);
  assert.equal(new CharEncoder(vocabulary).encode('\u{1F600}').length, 1);
});

test('BAD CALL: a vocabulary file without <pad>/<unk> first is a DataError naming the file', () => {
  assert.throws(() => parseCharVocabulary({ kind: 'char', normalization: 'NFC', pad: '<pad>', unk: '<unk>', symbols: ['a', '<pad>'] }, 'v.json'), { name: 'DataError', message: /v\.json.*<pad>/ });
});

test('document split: seeded, by fractions, every id once, reproducible', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `d${String(i).padStart(2, '0')}`);
  const a = splitDocuments(ids, 7, { train: 0.8, validation: 0.1, test: 0.1 });
  assert.deepEqual(Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.length])), { train: 40, validation: 5, test: 5 });
  assert.deepEqual([...a.train!, ...a.validation!, ...a.test!].sort(), ids);
  assert.deepEqual(splitDocuments([...ids].reverse(), 7, { train: 0.8, validation: 0.1, test: 0.1 }), a);
  assert.notDeepEqual(splitDocuments(ids, 8, { train: 0.8, validation: 0.1, test: 0.1 }), a);
  assert.throws(() => splitDocuments(ids, 7, { train: 0.8, test: 0.1 }), { name: 'ConfigError' });
});

test('dedup: a text repeated in a later split is removed and counted; inside one split it stays', () => {
  const doc = (id: string, text: string) => ({ id, text });
  const { kept, removed } = removeCrossSplitDuplicates(
    { train: [doc('a', 'one'), doc('b', 'two'), doc('b2', 'two')], validation: [doc('c', 'two'), doc('d', 'three')], test: [doc('e', 'three'), doc('f', 'one'), doc('g', 'four')] },
    (d) => textKey(d.text),
  );
  assert.deepEqual(Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, v.map((d) => d.id)])), { train: ['a', 'b', 'b2'], validation: ['d'], test: ['g'] });
  assert.deepEqual(removed, [
    { split: 'validation', id: 'c', sameAs: 'b' },
    { split: 'test', id: 'e', sameAs: 'd' },
    { split: 'test', id: 'f', sameAs: 'a' },
  ]);
  assert.equal(textKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
