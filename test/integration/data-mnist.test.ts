/**
 * The data stage through the real CLI on a small MNIST subset, checked with an independent reader:
 * DuckDB reads the Parquet files; its row counts, label histogram, pixels and recomputed content
 * fingerprints must equal the IDX bytes and the manifest.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBListValue } from '@duckdb/node-api';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { mnistPackageDir } from '../../stages/data/run-mnist.ts';
import { jsonLines, runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

const TRAIN = 2500;
const TEST = 600;

async function idxBytes(file: string, header: number): Promise<Buffer> {
  return (await readFile(join(mnistPackageDir(), file))).subarray(header);
}

test('distill data mnist writes a subset that DuckDB reads back exactly, and a second run changes nothing', async () => {
  const dir = await tmpDir();
  const out = join(dir, 'mnist');
  const args = ['data', 'mnist', '--out', out, '--limit-train', String(TRAIN), '--limit-test', String(TEST), '--rows-per-file', '1000'];
  const first = await runCli(args);
  assert.equal(first.code, 0, first.stderr);
  const logs = jsonLines(first.stdout);
  assert.ok(logs.some((l) => l.msg === `dataset ready: ${out}/manifest.json` && l.changed === true), first.stdout);

  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as DatasetManifest;
  assert.equal(manifest.splits.train!.rows, TRAIN);
  assert.equal(manifest.splits.test!.rows, TEST);
  assert.deepEqual(manifest.splits.train!.files.map((f) => [f.path, f.rowStart, f.rowEnd]), [
    ['train/part-00000.parquet', 0, 1000],
    ['train/part-00001.parquet', 1000, 2000],
    ['train/part-00002.parquet', 2000, 2500],
  ]);
  assert.deepEqual(manifest.columns.map((c) => `${c.name}:${c.type}:${c.role}`), ['row:int64:row', 'pixels:fixed_size_list<uint8>[784]:feature', 'label:uint8:label']);

  const trainImages = await idxBytes('train-images-idx3-ubyte', 16);
  const trainLabels = await idxBytes('train-labels-idx1-ubyte', 8);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    for (const [split, count, images, labels] of [
      ['train', TRAIN, trainImages, trainLabels],
      ['test', TEST, await idxBytes('t10k-images-idx3-ubyte', 16), await idxBytes('t10k-labels-idx1-ubyte', 8)],
    ] as const) {
      const glob = join(out, split, '*.parquet');
      const counted = await con.runAndReadAll(`select count(*)::INTEGER as n, count(distinct row)::INTEGER as d, min(row)::INTEGER as lo, max(row)::INTEGER as hi from read_parquet('${glob}')`);
      assert.deepEqual(counted.getRowObjects()[0], { n: count, d: count, lo: 0, hi: count - 1 });

      const hist = await con.runAndReadAll(`select label::INTEGER as label, count(*)::INTEGER as n from read_parquet('${glob}') group by label order by label`);
      const expected = new Array<number>(10).fill(0);
      for (let i = 0; i < count; i++) expected[labels[i]!]!++;
      assert.deepEqual(hist.getRowObjects().map((r) => r.n), expected);
      assert.deepEqual(manifest.splits[split]!.labelCounts, expected);

      // The content fingerprint, recomputed from DuckDB's values row by row.
      const reader = await con.runAndReadAll(`select row, pixels, label from read_parquet('${glob}') order by row`);
      const h = createHash('sha256');
      const rowBuf = Buffer.alloc(8);
      let r = 0;
      for (const [row, pixels, label] of reader.getRows()) {
        rowBuf.writeBigInt64LE(row as bigint);
        h.update(rowBuf);
        const px = Uint8Array.from((pixels as DuckDBListValue).items as number[]);
        h.update(px);
        h.update(Uint8Array.of(label as number));
        if (r === 1234 % count) assert.deepEqual(px, Uint8Array.from(images.subarray(r * 784, (r + 1) * 784)), `pixels of ${split} row ${r}`);
        r++;
      }
      assert.equal(r, count);
      assert.equal(h.digest('hex'), manifest.splits[split]!.fingerprint, `${split} fingerprint`);
    }
  } finally {
    con.closeSync();
  }

  const mtimes = await Promise.all(manifest.splits.train!.files.map(async (f) => (await stat(join(out, f.path))).mtimeMs));
  const second = await runCli(args);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(jsonLines(second.stdout).some((l) => l.changed === false && /unchanged/.test(String(l.msg))), second.stdout);
  assert.deepEqual(await Promise.all(manifest.splits.train!.files.map(async (f) => (await stat(join(out, f.path))).mtimeMs)), mtimes);
  assert.equal(await readFile(join(out, 'manifest.json'), 'utf8'), JSON.stringify(manifest, null, 2) + '\n');
});

test('BAD CALL a different dataset at --out is left untouched without --force', async () => {
  const dir = await tmpDir();
  const out = join(dir, 'mnist');
  assert.equal((await runCli(['data', 'mnist', '--out', out, '--limit-train', '300', '--limit-test', '100'])).code, 0);
  const before = await readFile(join(out, 'manifest.json'), 'utf8');
  const other = await runCli(['data', 'mnist', '--out', out, '--limit-train', '400', '--limit-test', '100']);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /already holds a different dataset .* left untouched\. Re-run with --force/);
  assert.equal(await readFile(join(out, 'manifest.json'), 'utf8'), before);
  const forced = await runCli(['data', 'mnist', '--out', out, '--limit-train', '400', '--limit-test', '100', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal((JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as DatasetManifest).splits.train!.rows, 400);
});

test('BAD CALL a truncated IDX file is a clear error and writes nothing', async () => {
  const dir = await tmpDir();
  const idx = join(dir, 'idx');
  await mkdir(idx);
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    const bytes = await readFile(join(mnistPackageDir(), f));
    await writeFile(join(idx, f), f === 'train-images-idx3-ubyte' ? bytes.subarray(0, bytes.length - 100) : bytes);
  }
  const { runMnistData } = await import('../../stages/data/run-mnist.ts');
  const { silentReporter } = await import('../../pipeline/reporter.ts');
  await assert.rejects(runMnistData({ out: join(dir, 'out'), idxDir: idx }, silentReporter), {
    name: 'DataError',
    message: /train-images-idx3-ubyte: file is 47039916 bytes but its header \[60000, 28, 28\] needs 47040016 \(truncated\)/,
  });
  await assert.rejects(stat(join(dir, 'out')), { code: 'ENOENT' });
});
