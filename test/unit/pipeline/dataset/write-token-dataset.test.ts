import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDatasetManifest } from '../../../../pipeline/dataset/dataset-manifest.ts';
import { SplitReader } from '../../../../pipeline/dataset/split-reader.ts';
import { checkDatasetContent } from '../../../../pipeline/dataset/verify-dataset.ts';
import { writeTokenDataset } from '../../../../pipeline/dataset/write-token-dataset.ts';
import { columnValues } from '../../../../pipeline/io/column-values.ts';
import { sha256Bytes } from '../../../../pipeline/io/sha256.ts';
import { silentReporter } from '../../../../pipeline/reporter.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

// A token-classification dataset the way the Arabic diacritics builder makes one: hand-made ids,
// labels with -100 on spaces, a per-position word_final slice and per-row chapter/verse slices.
const vocab = Buffer.from('{"kind":"char","normalization":"NFC","pad":"<pad>","unk":"<unk>","symbols":["<pad>","<unk>"," ","a","b"]}\n');
const rows = [
  { inputIds: [3, 4, 2, 3], labels: [1, 0, -100, 2], positionSlices: { word_final: [0, 1, 0, 1] }, slices: { chapter: 1, verse: 1 } },
  { inputIds: [4], labels: [3], positionSlices: { word_final: [1] }, slices: { chapter: 1, verse: 2 } },
];

test('writeTokenDataset: token-classification columns padded (labels -100, mask 0), manifest records task, tokenizer and sequence', async () => {
  const dir = join(await tmpDir(), 'ds');
  const m = await writeTokenDataset(dir, { name: 't', task: 'token-classification', context: 6, stride: 6, classes: 4, tokenizer: { kind: 'char', fileName: 'vocab.json', bytes: vocab, vocabSize: 5, normalization: 'NFC' }, splits: { train: rows }, documents: { train: 2 }, duplicatesRemoved: 0 }, silentReporter);
  assert.equal(m.task, 'token-classification');
  assert.deepEqual(m.tokenizer, { kind: 'char', file: 'vocab.json', sha256: sha256Bytes(vocab), vocabSize: 5, normalization: 'NFC' });
  assert.deepEqual(m.sequence, { context: 6, stride: 6, lengths: { min: 1, mean: 2.5, max: 4 }, documents: { train: 2 }, duplicatesRemoved: 0 });
  assert.deepEqual(m.columns.map((c) => [c.name, c.type, c.role]), [
    ['row', 'int64', 'row'],
    ['input_ids', 'fixed_size_list<int32>[6]', 'feature'],
    ['labels', 'fixed_size_list<int16>[6]', 'label'],
    ['attention_mask', 'fixed_size_list<uint8>[6]', 'mask'],
    ['length', 'int32', 'length'],
    ['word_final', 'fixed_size_list<uint8>[6]', 'slice'],
    ['chapter', 'int32', 'slice'],
    ['verse', 'int32', 'slice'],
  ]);
  assert.equal(m.columns.find((c) => c.name === 'labels')!.classes, 4);
  assert.equal(m.splits.train!.labelCounts, undefined, 'no per-row histogram for per-position labels');
  const t = await new SplitReader(dir, await readDatasetManifest(dir), 'train').readRows(0, 2);
  assert.deepEqual([...columnValues(t.getChild('input_ids')!, 6)], [3, 4, 2, 3, 0, 0, 4, 0, 0, 0, 0, 0]);
  assert.deepEqual([...columnValues(t.getChild('labels')!, 6)], [1, 0, -100, 2, -100, -100, 3, -100, -100, -100, -100, -100]);
  assert.deepEqual([...columnValues(t.getChild('attention_mask')!, 6)], [1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual([...columnValues(t.getChild('word_final')!, 6)], [0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual([...columnValues(t.getChild('length')!, 1)], [4, 1]);
  assert.deepEqual(await checkDatasetContent(dir, m), []);
});

test('BAD CALL: a label outside the classes, an id outside the vocabulary, a row longer than the context', async () => {
  const base = { name: 't', task: 'token-classification' as const, context: 6, stride: 6, classes: 4, tokenizer: { kind: 'char' as const, fileName: 'vocab.json', bytes: vocab, vocabSize: 5 } };
  const bad = async (r: typeof rows, message: RegExp) =>
    assert.rejects(writeTokenDataset(join(await tmpDir(), 'ds'), { ...base, splits: { train: r } }, silentReporter), { name: 'DataError', message });
  await bad([{ ...rows[0]!, labels: [1, 0, -100, 4] }], /row 0 position 3 has label 4, outside 0\.\.3 and not -100 .*"labels"/);
  await bad([{ ...rows[0]!, inputIds: [3, 4, 5, 3] }], /row 0 position 2 of column "input_ids" has token id 5, outside the vocabulary 0\.\.4/);
  await bad([{ ...rows[0]!, inputIds: [1, 1, 1, 1, 1, 1, 1], labels: [0, 0, 0, 0, 0, 0, 0], positionSlices: { word_final: [0, 0, 0, 0, 0, 0, 0] } }], /token row 0: 7 tokens, expected 1\.\.6/);
});
