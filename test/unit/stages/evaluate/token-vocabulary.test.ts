/**
 * The tokenizer facts evaluate reads: a char vocabulary's pad, unk and separators (whitespace and
 * punctuation: what ends a word, never drawn by a perturbation); an hf tokenizer's specials and a
 * missing unknown id (byte-level BPE); a bad vocabulary file named in the error.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DatasetManifest } from '../../../../pipeline/dataset/dataset-manifest.ts';
import { readTokenVocabulary } from '../../../../stages/evaluate/token-vocabulary.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

const manifest = (kind: 'char' | 'hf', file: string, vocabSize: number): DatasetManifest => ({ tokenizer: { kind, file, sha256: 'x', vocabSize }, columns: [] }) as unknown as DatasetManifest;

test('char vocabulary: pad, unk, and the separators (space, Arabic comma, full stop), all reserved', async () => {
  const dir = await tmpDir();
  await writeFile(join(dir, 'vocab.json'), JSON.stringify({ kind: 'char', pad: '<pad>', unk: '<unk>', symbols: ['<pad>', '<unk>', ' ', 'ب', '،', 'ت', '.'] }));
  const v = await readTokenVocabulary(dir, manifest('char', 'vocab.json', 7), 'input_ids');
  assert.deepEqual({ kind: v.kind, size: v.size, pad: v.pad, unk: v.unk, separators: v.separators, reserved: [...v.reserved].sort() }, { kind: 'char', size: 7, pad: 0, unk: 1, separators: [2, 4, 6], reserved: [0, 1, 2, 4, 6] });
  assert.equal(v.symbols![3], 'ب');
});

test('hf tokenizer: specials reserved, no unknown id for byte-level BPE, pad from the card', async () => {
  const dir = await tmpDir();
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ added_tokens: [{ id: 0, content: '<pad>', special: true }, { id: 1, content: '<eos>', special: true }], model: { type: 'BPE', unk_token: null, vocab: {} } }));
  const v = await readTokenVocabulary(dir, manifest('hf', 'tokenizer.json', 2000), 'input_ids', 0);
  assert.deepEqual({ unk: v.unk, reserved: v.reserved, symbols: v.symbols, separators: v.separators }, { unk: null, reserved: [0, 1], symbols: null, separators: [] });
});

test('BAD CALL a char vocabulary without symbols names the file', async () => {
  const dir = await tmpDir();
  await writeFile(join(dir, 'vocab.json'), JSON.stringify({ kind: 'char' }));
  await assert.rejects(readTokenVocabulary(dir, manifest('char', 'vocab.json', 3), 'input_ids'), { name: 'DataError', message: /vocab\.json: a char vocabulary needs "symbols"/ });
});
