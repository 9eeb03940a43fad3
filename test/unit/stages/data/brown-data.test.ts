/**
 * The lm-brown data rules (artifacts/experiments/lm-brown/data_spec.md) on hand-made Form-C text:
 * tag stripping, paragraphs, the cross-split dedup, the causal windows, and the committed tokenizer
 * against its Python fixture (hand-made sentences).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { parseCats } from '../../../../stages/data/brown/brown-corpus.ts';
import type { BrownDocument } from '../../../../stages/data/brown/brown-corpus.ts';
import { dedupAcrossSplits } from '../../../../stages/data/brown/brown-split.ts';
import { brownDocumentText } from '../../../../stages/data/brown/brown-text.ts';
import { causalWindows } from '../../../../stages/data/brown/causal-windows.ts';
import { sha256Bytes } from '../../../../pipeline/io/sha256.ts';
import { projectRoot } from '../../../../pipeline/provenance.ts';

test('text: words before the last "/", lines of a paragraph joined by a space, paragraphs by a newline', () => {
  const raw = '\n\n\tThe/at cat/nn sat/vbd ./.\n\tIt/pps was/bedz 1-1/2/cd feet/nns ./.\n\n\n\t``/`` Yes/rb ,/, \'\'/\'\' she/pps said/vbd ./.\n \t \n';
  assert.equal(brownDocumentText(raw, 'hand'), 'The cat sat . It was 1-1/2 feet .\n`` Yes , \'\' she said .');
});

test('text: a line of only spaces or tabs ends a paragraph; CRLF reads like LF; tabs inside a line separate words', () => {
  assert.equal(brownDocumentText('a/x\tb/y\r\n  \t\r\nc/z', 'hand'), 'a b\nc');
  assert.equal(brownDocumentText('', 'hand'), '');
});

test('BAD INPUT a token without a tag, or with nothing before the "/", names file, line and token', () => {
  assert.throws(() => brownDocumentText('ok/x\nword', 'cz99'), { name: 'DataError', message: /cz99:2: token "word" is not word\/tag/ });
  assert.throws(() => brownDocumentText('/x', 'cz99'), { message: /cz99:1: token "\/x"/ });
});

test('cats.txt: one "<file> <genre>" per line, blank lines skipped, anything else refused', () => {
  assert.deepEqual(parseCats('ca01 news\n\ncb02 editorial\n', 'cats.txt'), [{ id: 'ca01', genre: 'news' }, { id: 'cb02', genre: 'editorial' }]);
  assert.throws(() => parseCats('ca01 news extra\n', 'cats.txt'), { name: 'DataError', message: /cats.txt:1: expected "<file> <genre>", got 3 fields/ });
});

function doc(id: string, text: string, document: number): BrownDocument {
  return { id, genre: 'news', text, document };
}

test('dedup: a text already in an earlier split (train, validation, test) is removed from the later one; duplicates inside a split stay', () => {
  const { splits, duplicates } = dedupAcrossSplits({
    train: [doc('a', 'same', 0), doc('b', 'same', 1), doc('c', 'other', 2)],
    validation: [doc('d', 'same', 3), doc('e', 'new', 4), doc('f', 'new', 5)],
    test: [doc('g', 'new', 6), doc('h', 'other', 7), doc('i', 'last', 8)],
  });
  assert.deepEqual(Object.fromEntries(Object.entries(splits).map(([s, d]) => [s, d.map((x) => x.id)])), { train: ['a', 'b', 'c'], validation: ['e', 'f'], test: ['i'] });
  assert.deepEqual(duplicates, [
    { id: 'd', split: 'validation', duplicateOf: 'train' },
    { id: 'g', split: 'test', duplicateOf: 'validation' },
    { id: 'h', split: 'test', duplicateOf: 'train' },
  ]);
});

const RULE = { context: 4, stride: 4, minTokens: 2, padId: 0 };
const windows = (n: number): { ids: number[]; length: number }[] =>
  causalWindows(Array.from({ length: n }, (_, i) => i + 1), RULE).map((w) => ({ ids: [...w.ids], length: w.length }));

test('windows: non-overlapping, the last partial one right-padded with the pad id', () => {
  assert.deepEqual(windows(6), [{ ids: [1, 2, 3, 4], length: 4 }, { ids: [5, 6, 0, 0], length: 2 }]);
});

test('windows: a document of exactly k*L tokens has no padded window; a one-token tail is dropped; a one-token document has none', () => {
  assert.deepEqual(windows(8).map((w) => w.length), [4, 4]);
  assert.deepEqual(windows(9).map((w) => w.length), [4, 4]);
  assert.deepEqual(windows(1), []);
  assert.deepEqual(windows(0), []);
  assert.deepEqual(windows(2), [{ ids: [1, 2, 0, 0], length: 2 }]);
});

test('windows with a stride shorter than the context overlap and stop after the window that reaches the end', () => {
  const w = causalWindows([1, 2, 3, 4, 5, 6], { context: 4, stride: 2, minTokens: 2, padId: 9 }).map((x) => [...x.ids]);
  assert.deepEqual(w, [[1, 2, 3, 4], [3, 4, 5, 6]]);
});

test('the committed tokenizer gives the Python ids of its hand-made fixture (@huggingface/tokenizers 0.2.0)', async () => {
  const dir = `${projectRoot}/artifacts/teachers/lm-brown`;
  const bytes = await readFile(`${dir}/tokenizer.json`);
  const fixture = JSON.parse(await readFile(`${dir}/tokenizer-fixture.json`, 'utf8')) as { tokenizerSha256: string; cases: { text: string; ids: number[] }[] };
  assert.equal(sha256Bytes(bytes), fixture.tokenizerSha256);
  const tok = new Tokenizer(JSON.parse(bytes.toString('utf8')) as object, {});
  for (const c of fixture.cases) assert.deepEqual(tok.encode(c.text, { add_special_tokens: false }).ids.map(Number), c.ids, JSON.stringify(c.text));
});
