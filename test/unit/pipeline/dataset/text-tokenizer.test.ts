import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadHfTokenizer } from '../../../../pipeline/dataset/text-tokenizer.ts';
import { sha256Bytes } from '../../../../pipeline/io/sha256.ts';
import { projectRoot } from '../../../../pipeline/provenance.ts';

// The fixture holds hand-made sentences and the ids the Python `tokenizers` library gave for them
// (written by artifacts/experiments/lm-brown/build_data.py with Python `tokenizers`; see data_spec.md there).
const dir = join(projectRoot, 'artifacts/teachers/lm-brown');
const fixture = JSON.parse(readFileSync(join(dir, 'tokenizer-fixture.json'), 'utf8')) as { tokenizerSha256: string; cases: { text: string; ids: number[] }[] };

test('BPE tokenizer.json through @huggingface/tokenizers gives the Python tokenizers ids on the fixture', async () => {
  const tok = await loadHfTokenizer(join(dir, 'tokenizer.json'));
  assert.equal(sha256Bytes(tok.file.bytes), fixture.tokenizerSha256);
  assert.equal(tok.file.vocabSize, 2000);
  assert.ok(fixture.cases.length >= 10);
  for (const [i, c] of fixture.cases.entries()) assert.deepEqual([...tok.encode(c.text)], c.ids, `case ${i}`);
});

test('BAD CALL: a file that is not a tokenizer.json is a DataError naming it', async () => {
  await assert.rejects(loadHfTokenizer(join(dir, 'card.json')), { name: 'DataError', message: /card\.json/ });
});
