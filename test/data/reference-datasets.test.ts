/**
 * The two sequence reference datasets built from the full corpora through the real CLI (`make data-lm`,
 * `make data-ar` do the same), then read back by DuckDB: every split's hashes equal the committed
 * data-record.json, computed here from the Parquet values rather than taken from the stage. Run by
 * `make test-data` (each build reads a whole corpus; see docs/datasets.md for the durations).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import { readSplitWithDuckDb } from '../helpers/duckdb-column-hashes.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

const SPLITS = ['train', 'validation', 'test'] as const;

async function json<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

test('distill data brown on the full corpus reproduces lm-brown/data-record.json (input_ids, length, document per split)', async () => {
  const out = join(await tmpDir(), 'lm-brown');
  const t0 = Date.now();
  const run = await runCli(['data', 'brown', '--out', out], { timeoutMs: 900_000 });
  assert.equal(run.code, 0, run.stderr);
  const seconds = (Date.now() - t0) / 1000;
  const record = await json<{ splits: Record<string, { windows: number; documents: number; inputIdsSha256: string; lengthSha256: string; documentSha256: string }> }>(join(projectRoot, 'artifacts/experiments/lm-brown/data-record.json'));
  const manifest = await json<DatasetManifest>(join(out, 'manifest.json'));
  assert.equal(manifest.task, 'causal-lm');
  for (const s of SPLITS) {
    const back = await readSplitWithDuckDb(out, s, ['input_ids', 'length', 'document']);
    assert.equal(back.rows, record.splits[s]!.windows, `${s} windows`);
    assert.equal(manifest.sequence?.documents?.[s], record.splits[s]!.documents, `${s} documents`);
    assert.equal(back.int32Sha256.input_ids, record.splits[s]!.inputIdsSha256, `${s} input_ids`);
    assert.equal(back.int32Sha256.length, record.splits[s]!.lengthSha256, `${s} length`);
    assert.equal(back.int32Sha256.document, record.splits[s]!.documentSha256, `${s} document`);
  }
  process.stdout.write(`# data brown (full corpus, CLI): ${seconds.toFixed(1)} s\n`);
});

test('distill data quran on the full corpus reproduces ar-diacritics/data-record.json (input_ids, labels, word_final, attention_mask, length per split)', async () => {
  const out = join(await tmpDir(), 'ar-diacritics');
  const t0 = Date.now();
  const run = await runCli(['data', 'quran', '--out', out], { timeoutMs: 900_000 });
  assert.equal(run.code, 0, run.stderr);
  const seconds = (Date.now() - t0) / 1000;
  const record = await json<{ splits: Record<string, { windows: number; verses: number; sha256: Record<string, string> }> }>(join(projectRoot, 'artifacts/experiments/ar-diacritics/data-record.json'));
  const manifest = await json<DatasetManifest>(join(out, 'manifest.json'));
  assert.equal(manifest.task, 'token-classification');
  const columns = ['input_ids', 'labels', 'word_final', 'attention_mask', 'length'];
  for (const s of SPLITS) {
    const back = await readSplitWithDuckDb(out, s, columns);
    assert.equal(back.rows, record.splits[s]!.windows, `${s} windows`);
    assert.equal(manifest.sequence?.documents?.[s], record.splits[s]!.verses, `${s} verses`);
    for (const c of columns) assert.equal(back.int32Sha256[c], record.splits[s]!.sha256[c], `${s} ${c}`);
  }
  process.stdout.write(`# data quran (full corpus, CLI): ${seconds.toFixed(1)} s\n`);
});
