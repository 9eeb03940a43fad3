/**
 * `distill data brown` through the real CLI on a hand-made Form-C corpus (hand-made sentences) and a
 * hand-made split, read back by DuckDB: the real tokens of a document's windows are its tokenizer ids
 * (the committed tokenizer.json through @huggingface/tokenizers), with the document and genre slices.
 * The full corpus against the committed record: test/data (make test-data).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import { readSplitWithDuckDb } from '../helpers/duckdb-column-hashes.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

const SENTENCES = ['The/at small/jj cat/nn sat/vbd on/in the/at warm/jj mat/nn ./.', 'A/at dog/nn ran/vbd home/nr ,/, quickly/rb ./.', '``/`` No/rb ,/, \'\'/\'\' she/pps said/vbd ./.'];

/** Document i: i+1 paragraphs of a few hand-made sentences; document 5 repeats document 0 (a cross-split duplicate). */
function formC(i: number): string {
  const k = i === 5 ? 0 : i;
  const paragraphs = Array.from({ length: 1 + (k % 3) * 20 }, (_, p) => `\n\n\t${SENTENCES[(k + p) % 3]}\n\t${SENTENCES[(k + p + 1) % 3]}\n`);
  return `\n\n\tDocument/nn number/nn ${k}/cd ./.\n${paragraphs.join('')}`;
}

const IDS = ['ca01', 'ca02', 'cb01', 'cb02', 'cb03', 'cc01', 'cc02'];
const GENRES: Record<string, string> = { ca: 'news', cb: 'editorial', cc: 'reviews' };

async function handMadeCorpus(dir: string): Promise<{ corpus: string; split: string }> {
  const corpus = join(dir, 'corpus');
  await mkdir(corpus);
  await writeFile(join(corpus, 'cats.txt'), IDS.map((id) => `${id} ${GENRES[id.slice(0, 2)]}`).join('\n') + '\n');
  for (const [i, id] of IDS.entries()) await writeFile(join(corpus, id), formC(i));
  const split = join(dir, 'split.json');
  await writeFile(split, JSON.stringify({ splits: { train: ['ca01', 'ca02', 'cb01', 'cb02'], validation: ['cb03'], test: ['cc01', 'cc02'] } }));
  return { corpus, split };
}

test('distill data brown on a hand-made corpus: windows of the tokenizer ids, slices, the cross-split duplicate removed', async () => {
  const dir = await tmpDir();
  const { corpus, split } = await handMadeCorpus(dir);
  const out = join(dir, 'lm');
  const run = await runCli(['data', 'brown', '--corpus', corpus, '--split', split, '--out', out, '--no-check']);
  assert.equal(run.code, 0, run.stderr);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as DatasetManifest;
  assert.equal(manifest.task, 'causal-lm');
  assert.deepEqual(manifest.sequence?.documents, { train: 4, validation: 1, test: 1 });
  assert.equal(manifest.sequence?.duplicatesRemoved, 1);
  const tokBytes = await readFile(join(projectRoot, 'artifacts/teachers/lm-brown/tokenizer.json'));
  assert.deepEqual(await readFile(join(out, 'tokenizer.json')), tokBytes);
  const tokenizer = new Tokenizer(JSON.parse(tokBytes.toString('utf8')) as object, {});
  const record = JSON.parse(await readFile(join(out, 'data-record.json'), 'utf8')) as { duplicates: unknown[] };
  assert.deepEqual(record.duplicates, [{ id: 'cc01', split: 'test', duplicateOf: 'train' }]);
  const expected: Record<string, string[]> = { train: ['ca01', 'ca02', 'cb01', 'cb02'], validation: ['cb03'], test: ['cc02'] };
  for (const [s, ids] of Object.entries(expected)) {
    const back = await readSplitWithDuckDb(out, s, ['input_ids', 'attention_mask', 'length', 'document', 'genre'], true);
    for (const id of ids) {
      const document = IDS.indexOf(id);
      const rows = back.values.document!.flatMap((d, r) => (d === document ? [r] : []));
      const real = rows.flatMap((r) => (back.values.input_ids![r] as number[]).slice(0, back.values.length![r] as number));
      const text = (await readFile(join(corpus, id), 'utf8')).split(/\n\s*\n/).map((p) => p.trim().split(/\s+/).map((t) => t.slice(0, t.lastIndexOf('/'))).join(' ')).filter((p) => p).join('\n');
      const ids0 = tokenizer.encode(text, { add_special_tokens: false }).ids.map(Number);
      assert.ok(rows.length >= 1 && real.length >= ids0.length - 1, `${id}: ${real.length} tokens in windows for ${ids0.length}`);
      assert.deepEqual(real, ids0.slice(0, real.length), `${id}: the windows' real tokens are the document's ids`);
      for (const r of rows) {
        assert.equal(back.values.genre![r], GENRES[id.slice(0, 2)]);
        const n = back.values.length![r] as number;
        assert.deepEqual(back.values.attention_mask![r], [...new Array<number>(n).fill(1), ...new Array<number>(128 - n).fill(0)]);
        assert.ok((back.values.input_ids![r] as number[]).slice(n).every((v) => v === 0), 'padding is id 0');
      }
    }
    assert.ok(back.values.length!.every((n) => Number(n) >= 2), 'no window with fewer than 2 real tokens');
  }
});

test('BAD INPUT a split file naming a document the corpus does not have is refused; nothing is written', async () => {
  const dir = await tmpDir();
  const { corpus } = await handMadeCorpus(dir);
  const split = join(dir, 'bad-split.json');
  await writeFile(split, JSON.stringify({ splits: { train: ['ca01', 'zz99'], validation: [], test: [] } }));
  const out = join(dir, 'lm');
  const run = await runCli(['data', 'brown', '--corpus', corpus, '--split', split, '--out', out, '--no-check']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /bad-split.json: splits.train names document "zz99", which is not in the corpus/);
  await assert.rejects(stat(out), { code: 'ENOENT' });
});
