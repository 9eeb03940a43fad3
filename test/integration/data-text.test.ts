/**
 * `distill data text` through the real CLI on tiny hand-made text, read back with DuckDB (an
 * independent Parquet reader): windows, padding, masks and ids against values computed here with
 * plain loops; BPE ids against the Python `tokenizers` fixture; dedup counts; idempotency; bad input.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBListValue } from '@duckdb/node-api';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import { jsonLines, runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

async function duckRows(glob: string, columns: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const reader = await conn.runAndReadAll(`SELECT ${columns} FROM read_parquet('${glob}') ORDER BY row`);
  const rows = reader.getRows();
  conn.closeSync();
  return rows.map((r) => r.map((v) => (v && typeof v === 'object' && 'items' in v ? (v as DuckDBListValue).items.map(Number) : typeof v === 'bigint' ? Number(v) : v)));
}

const TEXTS: Record<string, string> = {
  a: 'the cat sat on the mat',
  b: 'a dog ran far away',
  c: 'the cat sat on the mat', // the same text as a: removed from its later split
  d: 'birds sing at dawn',
  e: 'x', // one character: no causal-LM window (needs two tokens)
};

test('char tokenizer: split file, dedup, windows and padding read back by DuckDB; a second run changes nothing', async () => {
  const dir = await tmpDir();
  await mkdir(join(dir, 'corpus'));
  for (const [id, text] of Object.entries(TEXTS)) await writeFile(join(dir, 'corpus', `${id}.txt`), text);
  await writeFile(join(dir, 'split.json'), JSON.stringify({ splits: { train: ['a', 'b'], test: ['c', 'd', 'e'] } }));
  const out = join(dir, 'ds');
  const args = ['data', 'text', join(dir, 'corpus'), '--out', out, '--context', '8', '--stride', '8', '--split-file', join(dir, 'split.json')];
  const first = await runCli(args);
  assert.equal(first.code, 0, first.stderr);
  const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as DatasetManifest;
  assert.equal(m.task, 'causal-lm');
  assert.equal(m.sequence!.duplicatesRemoved, 1);
  assert.deepEqual(m.sequence!.documents, { train: 2, test: 2 });
  const vocab = JSON.parse(await readFile(join(out, 'vocab.json'), 'utf8')) as { symbols: string[] };
  const trainChars = [...new Set([...(TEXTS.a! + TEXTS.b!)])].sort();
  assert.deepEqual(vocab.symbols, ['<pad>', '<unk>', ...trainChars]);
  assert.equal(m.tokenizer!.vocabSize, vocab.symbols.length);
  assert.deepEqual(m.columns.map((c) => [c.name, c.type, c.role]), [
    ['row', 'int64', 'row'],
    ['input_ids', 'fixed_size_list<int32>[8]', 'feature'],
    ['attention_mask', 'fixed_size_list<uint8>[8]', 'mask'],
    ['length', 'int32', 'length'],
    ['document', 'int32', 'slice'],
  ]);
  assert.equal(m.columns[1]!.kind, 'tokens');

  // expected rows, computed here: documents in id order, windows of 8, last partial padded with 0
  const id = (ch: string): number => (vocab.symbols.indexOf(ch) < 0 ? 1 : vocab.symbols.indexOf(ch));
  const expected = (docs: string[]) =>
    docs.flatMap((d) => {
      const text = TEXTS[d]!;
      const rows: unknown[][] = [];
      for (let s = 0; s < text.length; s += 8) {
        const piece = [...text.slice(s, s + 8)];
        if (piece.length < 2) continue;
        const ids = [...piece.map(id), ...new Array<number>(8 - piece.length).fill(0)];
        rows.push([ids, ids.map((_, t) => (t < piece.length ? 1 : 0)), piece.length, Object.keys(TEXTS).indexOf(d)]);
      }
      return rows;
    });
  for (const [split, docs] of [['train', ['a', 'b']], ['test', ['d']]] as const) {
    const got = await duckRows(join(out, split, '*.parquet'), 'input_ids, attention_mask, length, document');
    assert.deepEqual(got, expected([...docs]), split);
    assert.equal(m.splits[split]!.rows, got.length);
  }
  assert.ok(vocab.symbols.indexOf('w') >= 0 && !vocab.symbols.includes('i'), 'test-only characters are <unk>');

  const second = await runCli(args);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(jsonLines(second.stdout).some((l) => l.changed === false), second.stdout);
});

test('BPE tokenizer.json: ids equal the Python tokenizers ids, genre slice kept', async () => {
  const dir = await tmpDir();
  const fixture = JSON.parse(readFileSync(join(projectRoot, 'artifacts/teachers/lm-brown/tokenizer-fixture.json'), 'utf8')) as { cases: { text: string; ids: number[] }[] };
  const cases = fixture.cases.filter((c) => c.ids.length >= 2);
  await writeFile(join(dir, 'docs.jsonl'), cases.map((c, i) => JSON.stringify({ id: `s${String(i).padStart(2, '0')}`, text: c.text, genre: i % 2 ? 'odd' : 'even' })).join('\n') + '\n');
  const out = join(dir, 'ds');
  const run = await runCli(['data', 'text', join(dir, 'docs.jsonl'), '--out', out, '--tokenizer', join(projectRoot, 'artifacts/teachers/lm-brown/tokenizer.json'), '--context', '64', '--id-field', 'id', '--slices', 'genre', '--split', 'train=1']);
  assert.equal(run.code, 0, run.stderr);
  const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as DatasetManifest;
  assert.equal(m.tokenizer!.sha256, 'd9bde594359f0772ef4b5f0366be162a86613bb2d8445dea59fe05eccb1e382d');
  assert.equal(m.tokenizer!.kind, 'hf');
  const got = await duckRows(join(out, 'train', '*.parquet'), 'input_ids, length, genre');
  assert.deepEqual(
    got.map((r) => [(r[0] as number[]).slice(0, r[1] as number), r[2]]),
    cases.map((c, i) => [c.ids, i % 2 ? 'odd' : 'even']),
  );
});

test('BAD INPUT through the CLI: empty document, non-UTF-8 text; a DataError naming the file, nothing written', async () => {
  const dir = await tmpDir();
  const cases: [string, Buffer, RegExp][] = [
    ['empty.jsonl', Buffer.from('{"text":"fine text"}\n{"text":"   "}\n'), /empty\.jsonl line 2: empty document/],
    ['latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), /latin1\.txt: line 1 \(byte 3\) is not valid UTF-8/],
  ];
  for (const [name, bytes, message] of cases) {
    await writeFile(join(dir, name), bytes);
    const out = join(dir, `out-${name}`);
    const r = await runCli(['data', 'text', join(dir, name), '--out', out, '--context', '8', '--split', 'train=1']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, message);
    assert.ok(!(await readdir(dir)).some((f) => f.startsWith(`out-${name}`)), 'nothing written');
  }
});
