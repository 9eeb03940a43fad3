/**
 * `distill data quran` through the real CLI on a hand-made quran.json (hand-made words, never corpus
 * text; letters as escapes), read back by DuckDB: every row's ids, labels and word_final are those of
 * the words it was made from. The full corpus against the committed record: test/data (make test-data).
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import { readSplitWithDuckDb } from '../helpers/duckdb-column-hashes.ts';
import { jsonLines, runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

const CHAPTERS = 12;
const VERSES = 2;

// A hand-made word: letters with one mark each (or none) and the class the mark stands for.
type Letter = [letter: string, mark: string, cls: number];
const FATHA: [string, number] = ['\u064e', 1];
const DAMMA: [string, number] = ['\u064f', 2];
const KASRA: [string, number] = ['\u0650', 3];
const SUKUN: [string, number] = ['\u06e1', 4];
const NONE: [string, number] = ['', 0];
const w = (...parts: [string, [string, number]][]): Letter[] => parts.map(([l, [m, c]]) => [l, m, c]);
const WORDS: Letter[][] = [
  w(['\u0643', FATHA], ['\u062a', FATHA], ['\u0628', FATHA]),
  w(['\u0645', DAMMA], ['\u0646', SUKUN]),
  w(['\u0628', KASRA]),
  w(['\u0644', NONE], ['\u062f', FATHA]),
  w(['\u0631', DAMMA], ['\u0633', KASRA], ['\u0644', SUKUN]),
];

/** Verse k of chapter c: two or three of the words, a different combination for every (c, k) (base-5 digits of its index). */
function verseWords(c: number, k: number): Letter[][] {
  const n = (c - 1) * VERSES + (k - 1);
  return [WORDS[n % 5]!, WORDS[Math.floor(n / 5) % 5]!, ...(n % 2 === 1 ? [WORDS[2]!] : [])];
}


async function handMadeQuran(dir: string): Promise<string> {
  const chapters = Array.from({ length: CHAPTERS }, (_, ci) => ({
    id: ci + 1,
    name: `chapter ${ci + 1}`,
    verses: Array.from({ length: VERSES }, (_, k) => ({ id: k + 1, text: verseWords(ci + 1, k + 1).map((word) => word.map(([l, m]) => l + m).join('')).join(' ') })),
  }));
  const path = join(dir, 'quran.json');
  await writeFile(path, JSON.stringify(chapters));
  return path;
}

test('distill data quran on hand-made verses: ids, labels (-100 on spaces and padding), word_final, chapter and verse read back by DuckDB', async () => {
  const dir = await tmpDir();
  const quran = await handMadeQuran(dir);
  const out = join(dir, 'ar');
  const args = ['data', 'quran', '--quran', quran, '--out', out, '--no-check'];
  const run = await runCli(args);
  assert.equal(run.code, 0, run.stderr);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as DatasetManifest;
  const vocab = JSON.parse(await readFile(join(projectRoot, 'artifacts/teachers/ar-diacritics/vocab.json'), 'utf8')) as { symbols: string[] };
  assert.equal(manifest.task, 'token-classification');
  assert.deepEqual(manifest.tokenizer, { kind: 'char', file: 'vocab.json', sha256: manifest.tokenizer?.sha256, vocabSize: vocab.symbols.length, normalization: 'NFC' });
  assert.equal(await readFile(join(out, 'vocab.json'), 'utf8'), await readFile(join(projectRoot, 'artifacts/teachers/ar-diacritics/vocab.json'), 'utf8'));
  const L = 128;
  let rows = 0;
  for (const split of Object.keys(manifest.splits)) {
    const back = await readSplitWithDuckDb(out, split, ['chapter', 'verse', 'length', 'input_ids', 'labels', 'word_final', 'attention_mask'], true);
    rows += back.rows;
    for (let r = 0; r < back.rows; r++) {
      const words = verseWords(back.values.chapter![r] as number, back.values.verse![r] as number);
      const ids: number[] = [];
      const labels: number[] = [];
      const final: number[] = [];
      words.forEach((word, wi) => {
        if (wi > 0) {
          ids.push(vocab.symbols.indexOf(' '));
          labels.push(-100);
          final.push(0);
        }
        word.forEach(([l, , c], li) => {
          ids.push(vocab.symbols.indexOf(l));
          labels.push(c);
          final.push(li === word.length - 1 ? 1 : 0);
        });
      });
      const pad = (a: number[], v: number): number[] => [...a, ...new Array<number>(L - a.length).fill(v)];
      assert.equal(back.values.length![r], ids.length);
      assert.deepEqual(back.values.input_ids![r], pad(ids, 0), `${split} row ${r} input_ids`);
      assert.deepEqual(back.values.labels![r], pad(labels, -100), `${split} row ${r} labels`);
      assert.deepEqual(back.values.word_final![r], pad(final, 0), `${split} row ${r} word_final`);
      assert.deepEqual(back.values.attention_mask![r], pad(ids.map(() => 1), 0), `${split} row ${r} attention_mask`);
    }
  }
  const seq = manifest.sequence!;
  assert.equal(seq.context, L);
  assert.equal(rows + (seq.duplicatesRemoved ?? 0), CHAPTERS * VERSES, 'every verse is one row (all are shorter than L) unless removed as a duplicate');
  assert.equal(Object.values(seq.documents ?? {}).reduce((a, b) => a + b, 0), rows);

  const mtime = (await stat(join(out, 'manifest.json'))).mtimeMs;
  const again = await runCli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(jsonLines(again.stdout).some((l) => l.changed === false), again.stdout);
  assert.equal((await stat(join(out, 'manifest.json'))).mtimeMs, mtime);
});

test('BAD INPUT a corpus that does not reproduce the committed record is refused and nothing is written', async () => {
  const dir = await tmpDir();
  const out = join(dir, 'ar');
  const run = await runCli(['data', 'quran', '--quran', await handMadeQuran(dir), '--out', out]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /the ar-diacritics build does not reproduce artifacts\/experiments\/ar-diacritics \(nothing was written\)/);
  assert.match(run.stderr, /data-record.json corpus.sha256: built "[0-9a-f]{64}", recorded "d8a8adff/);
  await assert.rejects(stat(out), { code: 'ENOENT' });
});

test('BAD INPUT a verse without text names chapter and position, never text', async () => {
  const dir = await tmpDir();
  const path = join(dir, 'quran.json');
  await writeFile(path, JSON.stringify([{ id: 1, verses: [{ id: 1, text: '\u0628\u064e' }, { id: 2 }] }]));
  const run = await runCli(['data', 'quran', '--quran', path, '--out', join(dir, 'ar'), '--no-check']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /quran.json: chapter 1 verse \[1\] needs an integer "id" and a string "text"/);
});
