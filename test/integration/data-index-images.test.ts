/**
 * Encoded images in `distill data index`, through the real CLI: MNIST digits stored as PNG bytes
 * (binary column, written with apache-arrow) index to exactly the content fingerprints of the raw
 * MNIST pixels and give the same teacher logits; a Hugging Face style struct {bytes, path} column
 * written by DuckDB from PNG and JPEG files on disk (the docs/datasets.md example, read from the doc) decodes to the
 * raw pixels (PNG) and to libvips' decode (JPEG); bad images are refused naming file, row and column,
 * and no manifest is written.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { readDatasetFile } from '../../pipeline/dataset/read-dataset-file.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import { checkDatasetContent } from '../../pipeline/dataset/verify-dataset.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import { pathExists } from '../../pipeline/io/path-exists.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import { encodeJpeg, encodePng, imageParquet, sharpDecode } from '../helpers/encode-images.ts';
import { runCli } from '../helpers/run-cli.ts';
import { teacherWorkspace, writeTeacher } from '../helpers/teacher-workspace.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

const wsReady = teacherWorkspace(200, 100, 100);

async function readManifest(dir: string): Promise<DatasetManifest> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as DatasetManifest;
}

test('MNIST digits as PNG bytes: indexed through the CLI to the raw pixels’ fingerprints, read back exactly, same teacher logits', async () => {
  const ws = await wsReady;
  const rawDir = join(ws.dir, ws.dataset);
  const pngDir = join(ws.dir, 'data/mnist-png');
  const raw = await readManifest(rawDir);
  for (const [split, s] of Object.entries(raw.splits)) {
    await mkdir(join(pngDir, split), { recursive: true });
    for (const f of s.files) {
      const t = await readDatasetFile(rawDir, f, raw.columns);
      const pixels = columnValues(t.getChild('pixels')!, 784) as Uint8Array;
      const labels = Array.from(columnValues(t.getChild('label')!, 1), Number);
      const pngs = labels.map((_, i) => encodePng(pixels.subarray(i * 784, (i + 1) * 784), 28, 28, 1));
      await writeFile(join(pngDir, f.path.replace(/\.arrow$/, '.parquet')), imageParquet(pngs, labels, { rowStart: f.rowStart }));
    }
  }
  const res = await runCli(['data', 'index', 'data/mnist-png', '--shape', 'pixels=28x28', '--classes', '10'], { cwd: ws.dir });
  assert.equal(res.code, 0, res.stderr);
  const m = await readManifest(pngDir);
  const pixelsCol = m.columns.find((c) => c.name === 'pixels')!;
  assert.deepEqual(
    { type: pixelsCol.type, shape: pixelsCol.shape, kind: pixelsCol.kind, storage: pixelsCol.image?.storage, channels: pixelsCol.image?.channels, layout: pixelsCol.image?.layout, formats: pixelsCol.image?.formats },
    { type: 'fixed_size_list<uint8>[784]', shape: [28, 28], kind: 'image', storage: 'binary', channels: 'gray', layout: 'HWC', formats: { png: 300, jpeg: 0 } },
  );
  assert.match(pixelsCol.image!.decoder, /^pngjs \d+\.\d+\.\d+ \+ @jsquash\/jpeg \d+\.\d+\.\d+ \(mozjpeg, wasm\)$/);
  for (const split of ['train', 'test']) {
    assert.equal(m.splits[split]!.fingerprint, raw.splits[split]!.fingerprint, `${split}: PNG bytes fingerprint as the raw pixels`);
    assert.deepEqual(m.splits[split]!.files.map((f) => f.fingerprint), raw.splits[split]!.files.map((f) => f.fingerprint));
    assert.deepEqual(m.splits[split]!.labelCounts, raw.splits[split]!.labelCounts);
    const rows = m.splits[split]!.rows;
    const got = columnValues((await new SplitReader(pngDir, m, split).readRows(0, rows)).getChild('pixels')!, 784);
    const want = columnValues((await new SplitReader(rawDir, raw, split).readRows(0, rows)).getChild('pixels')!, 784);
    assert.deepEqual(got, want, `${split}: decoded pixels = raw pixels`);
  }
  // Without the decoded copies every file is decoded again, and its fingerprint checked against the manifest.
  await rm(join(pngDir, '.arrow-cache'), { recursive: true });
  assert.deepEqual(await checkDatasetContent(pngDir, m), []);

  await writeTeacher(ws, 'png-teacher', { seed: 5 });
  for (const [name, dataset] of [
    ['on-raw', ws.dataset],
    ['on-png', 'data/mnist-png'],
  ] as const) {
    await writeFile(join(ws.dir, `${name}.json`), JSON.stringify({ name, dataset: { path: dataset }, teacher: { path: 'teachers/png-teacher' }, teacherLogits: { store: `stores/${name}`, shardRows: 128, batchSize: 64, device: 'cpu' } }));
    const r = await runCli(['teacher-logits', '-c', `${name}.json`, '--device', 'cpu'], { cwd: ws.dir });
    assert.equal(r.code, 0, r.stderr);
  }
  const a = await openStore(join(ws.dir, 'stores/on-raw'));
  const b = await openStore(join(ws.dir, 'stores/on-png'));
  for (const split of ['train', 'test']) {
    assert.equal(b.manifest.dataset.splits[split]!.fingerprint, m.splits[split]!.fingerprint);
    for (const s of a.shards(split)) assert.deepEqual((await b.readShard(split, s.index)).logits, (await a.readShard(split, s.index)).logits, `${split} shard ${s.index}: same logits`);
  }
});

/** The `duckdb -c "..."` SQL of docs/datasets.md ("Images as encoded bytes"), shell quoting undone, its relative paths put under `dir`. */
async function docsImageSql(dir: string): Promise<string> {
  const docs = await readFile(join(projectRoot, 'docs/datasets.md'), 'utf8');
  const line = docs.split('\n').find((l) => l.trim().startsWith('duckdb -c "COPY') && l.includes('read_blob'));
  assert.ok(line, 'docs/datasets.md has the read_blob example');
  const sql = line.slice(line.indexOf('"') + 1, line.lastIndexOf('"')).replaceAll('\\$', '$');
  assert.ok(sql.includes("read_blob('images/train/*/*')") && sql.includes("TO 'my-images/train/part-00000.parquet'"), sql);
  return sql.replace("read_blob('images/", `read_blob('${dir}/images/`).replace("TO 'my-images/", `TO '${dir}/my-images/`);
}

test('the docs example: DuckDB writes PNG and JPEG files as a Hugging Face style {bytes, path} column; PNG rows = raw pixels, JPEG rows = libvips’ decode', async () => {
  const dir = await tmpDir();
  const [H, W] = [28, 28];
  const raw = (i: number): Uint8Array => Uint8Array.from({ length: H * W * 3 }, (_, k) => (k * 13 + i * 41 + ((k * k) % 11) * 3) & 255);
  const files = new Map<string, { i: number; bytes: Uint8Array }>();
  for (let i = 0; i < 12; i++) {
    const name = `${dir}/images/train/${i % 3}/img-${String(i).padStart(2, '0')}.${i % 2 ? 'jpg' : 'png'}`;
    const bytes = i % 2 ? await encodeJpeg(raw(i), H, W, 3, 90) : encodePng(raw(i), H, W, 3);
    await mkdir(join(dir, 'images/train', String(i % 3)), { recursive: true });
    await writeFile(name, bytes);
    files.set(name, { i, bytes });
  }
  await mkdir(join(dir, 'my-images/train'), { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(await docsImageSql(dir));
  con.closeSync();
  const res = await runCli(['data', 'index', join(dir, 'my-images'), '--shape', `image=${H}x${W}x3`]);
  assert.equal(res.code, 0, res.stderr);
  const m = await readManifest(join(dir, 'my-images'));
  const col = m.columns.find((c) => c.name === 'image')!;
  assert.deepEqual([col.type, col.image?.storage, col.image?.channels, col.image?.formats], [`fixed_size_list<uint8>[${H * W * 3}]`, 'struct<bytes: binary, path: utf8>', 'rgb', { png: 6, jpeg: 6 }]);
  assert.deepEqual(m.splits.train!.labelCounts, [4, 4, 4]);
  const pixels = columnValues((await new SplitReader(join(dir, 'my-images'), m, 'train').readRows(0, 12)).getChild('image')!, H * W * 3) as Uint8Array;
  const names = [...files.keys()].sort();
  for (const [row, name] of names.entries()) {
    const { i, bytes } = files.get(name)!;
    const got = pixels.subarray(row * H * W * 3, (row + 1) * H * W * 3);
    const want = name.endsWith('.png') ? raw(i) : (await sharpDecode(bytes, 3)).pixels;
    assert.deepEqual([...got], [...want], `row ${row} (${name})`);
  }
});

test('BAD INPUT through the CLI: undecodable bytes, wrong size, wrong channels, no declared shape; file, row and column named, no manifest', async () => {
  const dir = await tmpDir();
  const digit = (i: number): Uint8Array => Uint8Array.from({ length: 784 }, (_, k) => ((k % 28) * 9 + i * 17) & 255);
  const good = (i: number): Uint8Array => encodePng(digit(i), 28, 28, 1);
  const cases: [Uint8Array, string[], RegExp][] = [
    [Buffer.from('this is not an image at all'), ['--shape', 'pixels=28x28'], /train\/part-1\.parquet: row 6 of column "pixels" is not a PNG or JPEG image \(27 bytes starting 74 68 69 73/],
    [good(1).subarray(0, 60), ['--shape', 'pixels=28x28'], /train\/part-1\.parquet: row 6 of column "pixels" is not a decodable PNG \(pngjs: /],
    [encodePng(digit(1).subarray(0, 27 * 28), 27, 28, 1), ['--shape', 'pixels=28x28'], /train\/part-1\.parquet: row 6 of column "pixels" is a 27x28 \(height x width\) PNG, but the column is declared 28x28 \(--shape pixels=28x28\); images are never resized/],
    [encodePng(new Uint8Array(784 * 3), 28, 28, 3), ['--shape', 'pixels=28x28'], /train\/part-1\.parquet: row 6 of column "pixels" is a rgb PNG \(3 channels\), but the column is declared grayscale \(1 channel\) \(--shape pixels=28x28\); channels are never converted/],
    [good(1), ['--shape', 'pixels=28x28x3'], /train\/part-0\.parquet: row 0 of column "pixels" is a gray PNG \(1 channel\), but the column is declared RGB \(3 channels\) \(--shape pixels=28x28x3\)/],
    [good(1), [], /train\/part-0\.parquet: column "pixels" holds encoded images \(binary\); declare the pixels they decode to: --shape pixels=HxW for grayscale or --shape pixels=HxWx3 for RGB/],
  ];
  for (const [bad, args, message] of cases) {
    await rm(join(dir, 'bad'), { recursive: true, force: true });
    await mkdir(join(dir, 'bad/train'), { recursive: true });
    await writeFile(join(dir, 'bad/train/part-0.parquet'), imageParquet([0, 1, 2, 3].map(good), [0, 1, 0, 1]));
    await writeFile(join(dir, 'bad/train/part-1.parquet'), imageParquet([good(4), good(5), bad, good(7)], [0, 1, 0, 1], { rowStart: 4 }));
    const r = await runCli(['data', 'index', join(dir, 'bad'), ...args]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, message);
    assert.equal(await pathExists(join(dir, 'bad/manifest.json')), false);
  }
  assert.deepEqual(await readdir(join(dir, 'bad')), ['train']);
});
