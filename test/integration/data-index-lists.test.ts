/**
 * List columns in `data index`: Parquet written by DuckDB (list<int32>, the way DuckDB, pandas/pyarrow,
 * Polars and Hugging Face datasets store arrays) and by apache-arrow (fixed_size_list<int32>) index to
 * the same content fingerprints; ragged lists are padded as declared and read back padded; bad input
 * through the CLI names file, row and column and writes no manifest.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Field, FixedSizeList, Int32, Int64, RecordBatch, Schema, Struct, Table, Uint8, makeData } from 'apache-arrow';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { indexDataset } from '../../pipeline/dataset/index-dataset.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import { checkDatasetContent } from '../../pipeline/dataset/verify-dataset.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import { encodeParquet } from '../../pipeline/io/table-files.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { pathExists } from '../../pipeline/io/path-exists.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

const N = 20;
/** Row i's list: lengths 1..4 when ragged, else 3 values; values i*10 + k. */
const rowValues = (i: number, ragged: boolean): number[] => Array.from({ length: ragged ? (i % 4) + 1 : 3 }, (_, k) => i * 10 + k);

async function duckdbParquet(path: string, ragged: boolean): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const len = ragged ? '(i % 4) + 1' : '3';
  await conn.run(
    `COPY (SELECT i::BIGINT AS row, list_transform(range(${len}), k -> (i * 10 + k)::INTEGER) AS x, (i % 3)::UTINYINT AS label FROM range(${N}) t(i) ORDER BY i) TO '${path}' (FORMAT parquet)`,
  );
  conn.closeSync();
}

/** The same rows as fixed_size_list<int32>[L] written by apache-arrow (ragged rows right-padded with `pad`). */
function arrowParquet(L: number, ragged: boolean, pad: number): Uint8Array {
  const fields = [new Field('row', new Int64(), false), new Field('x', new FixedSizeList(L, new Field('item', new Int32(), false)), false), new Field('label', new Uint8(), false)];
  const values = new Int32Array(N * L).fill(pad);
  for (let i = 0; i < N; i++) values.set(rowValues(i, ragged), i * L);
  const children = [
    makeData({ type: new Int64(), length: N, data: BigInt64Array.from({ length: N }, (_, i) => BigInt(i)) }),
    makeData({ type: fields[1]!.type as FixedSizeList<Int32>, length: N, nullCount: 0, child: makeData({ type: new Int32(), length: N * L, data: values }) }),
    makeData({ type: new Uint8(), length: N, data: Uint8Array.from({ length: N }, (_, i) => i % 3) }),
  ];
  const schema = new Schema(fields);
  return encodeParquet(new Table([new RecordBatch(schema, makeData({ type: new Struct(fields), length: N, nullCount: 0, children }))]));
}

test('constant-length list<int32> from DuckDB and fixed_size_list<int32>[3] from apache-arrow fingerprint the same', async () => {
  const dir = await tmpDir();
  await mkdir(join(dir, 'duck/train'), { recursive: true });
  await mkdir(join(dir, 'arrow/train'), { recursive: true });
  await duckdbParquet(join(dir, 'duck/train/part-0.parquet'), false);
  await writeFile(join(dir, 'arrow/train/part-0.parquet'), arrowParquet(3, false, 0));
  const duck = await indexDataset(join(dir, 'duck'), { name: 'l' }, silentReporter);
  const arrow = await indexDataset(join(dir, 'arrow'), { name: 'l' }, silentReporter);
  assert.equal(duck.columns[1]!.type, 'list<int32>');
  assert.equal(arrow.columns[1]!.type, 'fixed_size_list<int32>[3]');
  assert.deepEqual(duck.columns[1]!.sequence, { maxLength: 3, padding: 'right', padValue: 0, lengths: { min: 3, mean: 3, max: 3 } });
  assert.equal(duck.splits.train!.fingerprint, arrow.splits.train!.fingerprint);
  assert.equal(duck.splits.train!.files[0]!.fingerprint, arrow.splits.train!.files[0]!.fingerprint);
  const x = columnValues((await new SplitReader(join(dir, 'duck'), duck, 'train').readRows(0, N)).getChild('x')!, 3);
  assert.deepEqual([...x], Array.from({ length: N }, (_, i) => rowValues(i, false)).flat());
  assert.deepEqual(await checkDatasetContent(join(dir, 'duck'), duck), []);
});

test('ragged list<int32> with --max-length: padded on the declared side, lengths recorded, same fingerprint as the padded arrays', async () => {
  const dir = await tmpDir();
  await mkdir(join(dir, 'duck/train'), { recursive: true });
  await mkdir(join(dir, 'arrow/train'), { recursive: true });
  await duckdbParquet(join(dir, 'duck/train/part-0.parquet'), true);
  await writeFile(join(dir, 'arrow/train/part-0.parquet'), arrowParquet(5, true, -1));
  const duck = await indexDataset(join(dir, 'duck'), { name: 'l', maxLengths: { x: 5 }, padValue: -1 }, silentReporter);
  const arrow = await indexDataset(join(dir, 'arrow'), { name: 'l' }, silentReporter);
  assert.deepEqual(duck.columns[1]!.sequence, { maxLength: 5, padding: 'right', padValue: -1, lengths: { min: 1, mean: 2.5, max: 4 } });
  assert.equal(duck.splits.train!.fingerprint, arrow.splits.train!.fingerprint);
  const left = await indexDataset(join(dir, 'duck'), { name: 'l', maxLengths: { x: 5 }, padding: 'left', padValue: 7 }, silentReporter);
  const x = columnValues((await new SplitReader(join(dir, 'duck'), left, 'train').readRows(0, 4)).getChild('x')!, 5);
  assert.deepEqual([...x], [7, 7, 7, 7, 0, 7, 7, 7, 10, 11, 7, 7, 20, 21, 22, 7, 30, 31, 32, 33]);
});

test('BAD INPUT through the CLI: ragged list without --max-length, list longer than --max-length, out-of-vocabulary ids; no manifest written', async () => {
  const dir = await tmpDir();
  await mkdir(join(dir, 'ragged/train'), { recursive: true });
  await duckdbParquet(join(dir, 'ragged/train/part-0.parquet'), true);
  const cases: [string[], RegExp][] = [
    [[], /train\/part-0\.parquet: row 1 of list column "x" has 2 values, but train\/part-0\.parquet row 0 has 1: .*--max-length x=N/],
    [['--max-length', 'x=3'], /train\/part-0\.parquet: row 3 of column "x" has 4 values, more than its maximum length 3/],
    [['--max-length', 'x=4', '--vocab-size', 'x=100'], /train\/part-0\.parquet: row 10 position 0 of column "x" has token id 100, outside the vocabulary 0\.\.99/],
  ];
  for (const [extra, message] of cases) {
    const r = await runCli(['data', 'index', join(dir, 'ragged'), ...extra]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, message);
    assert.equal(await pathExists(join(dir, 'ragged/manifest.json')), false);
  }
  const ok = await runCli(['data', 'index', join(dir, 'ragged'), '--max-length', 'x=4', '--vocab-size', 'x=200']);
  assert.equal(ok.code, 0, ok.stderr);
  const m = JSON.parse(await readFile(join(dir, 'ragged/manifest.json'), 'utf8')) as DatasetManifest;
  assert.deepEqual([m.columns[1]!.kind, m.columns[1]!.vocabSize, m.columns[1]!.sequence!.maxLength], ['tokens', 200, 4]);
});
