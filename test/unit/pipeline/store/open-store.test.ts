import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sha256Bytes } from '../../../../pipeline/io/sha256.ts';
import { encodeTable } from '../../../../pipeline/io/table-files.ts';
import { openStore, verifyStore } from '../../../../pipeline/store/open-store.ts';
import { shardTable } from '../../../../pipeline/store/shard-table.ts';
import type { StoreEncoding } from '../../../../pipeline/store/soft-target-store.ts';
import type { StoreManifest, StoreShardRecord } from '../../../../pipeline/store/store-manifest.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

const SHA = 'a'.repeat(64);

/** Writes a store of one split "train" with `rows` rows, shards of `shardRows`, by hand (not through the stage). */
async function handStore(dir: string, encoding: StoreEncoding, format: 'parquet' | 'arrow', rows: number, shardRows: number, cols: (start: number, n: number) => Parameters<typeof shardTable>[1]): Promise<StoreManifest> {
  const shards: StoreShardRecord[] = [];
  await mkdir(join(dir, 'train'), { recursive: true });
  for (let i = 0, start = 0; start < rows; i++, start += shardRows) {
    const n = Math.min(shardRows, rows - start);
    const bytes = encodeTable(shardTable(encoding, cols(start, n)), format);
    const rel = `train/part-${String(i).padStart(5, '0')}.${format}`;
    await writeFile(join(dir, rel), bytes);
    shards.push({ index: i, path: rel, rowStart: start, rowEnd: start + n, bytes: bytes.byteLength, sha256: sha256Bytes(bytes), datasetFingerprint: SHA, nonFinite: 0, nonFiniteRows: [] });
  }
  const timing = { seconds: 1, rowsComputed: rows, rowsPerSecond: rows };
  const manifest: StoreManifest = {
    formatVersion: 1,
    kind: 'distill.soft-targets',
    status: 'complete',
    createdAt: new Date(0).toISOString(),
    teacher: { sha256: SHA, path: 'teachers/t', cardSha256: SHA, card: { formatVersion: 1, name: 't', model: 'model.onnx', sha256: SHA, inputs: [{ name: 'x', column: 'x', dtype: 'float32', shape: ['batch', 2] }], output: { name: 'y', kind: 'logits' }, classes: { count: encoding.classes } } },
    dataset: { name: 'd', path: 'data/d', splits: { train: { rows, fingerprint: SHA } } },
    encoding,
    format,
    shardRows,
    runtime: { onnxruntime: '1.30.0', executionProvider: 'cpu', requestedDevice: 'cpu', intraOpThreads: 0, graphOptimization: 'all', batchSize: 4 },
    software: { distill: '0.1.0', node: process.version, platform: 'linux-x64', gitCommit: null },
    config: { store: 's', splits: ['train'], format, encoding: { mode: encoding.mode, precision: encoding.precision, k: encoding.k ?? 5, temperature: encoding.temperature ?? 1 }, shardRows, batchSize: 4, device: 'cpu', intraOpThreads: 0, graphOptimization: 'all', nonFinite: 'error' },
    nonFinitePolicy: 'error',
    splits: { train: { rows, shards, nonFinite: 0, timing } },
    timing,
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

const logitsOf = (start: number, n: number, C: number): Float32Array => Float32Array.from({ length: n * C }, (_, i) => (start * C + i) * 0.25 - 3);

test('openStore + readShard: dense float32 Parquet round trip, shard list, absolute paths', async () => {
  const dir = await tmpDir();
  await handStore(dir, { mode: 'dense', precision: 'float32', classes: 3 }, 'parquet', 10, 4, (start, n) => ({ rowStart: start, rows: n, logits: logitsOf(start, n, 3) }));
  const store = await openStore(dir);
  assert.deepEqual(store.splits(), ['train']);
  assert.deepEqual(store.shards('train').map((s) => [s.index, s.rowStart, s.rowEnd, s.path]), [
    [0, 0, 4, join(dir, 'train/part-00000.parquet')],
    [1, 4, 8, join(dir, 'train/part-00001.parquet')],
    [2, 8, 10, join(dir, 'train/part-00002.parquet')],
  ]);
  const s1 = await store.readShard('train', 1);
  assert.deepEqual([s1.rowStart, s1.rowEnd], [4, 8]);
  assert.deepEqual(s1.logits, logitsOf(4, 4, 3));
  await verifyStore(store);
});

test('readShard: top-k float16 Arrow shards decode to float32 (half-precision values exactly)', async () => {
  const dir = await tmpDir();
  const enc: StoreEncoding = { mode: 'topk', precision: 'float16', classes: 5, k: 2, temperature: 2 };
  await handStore(dir, enc, 'arrow', 3, 3, (start, n) => ({ rowStart: start, rows: n, topkIndex: Uint32Array.from([4, 1, 0, 2, 3, 4]), topkLogit: Float32Array.from([3.5, 1 / 3, -1, -2, 0.5, 0.25]), tailLogSumExp: Float32Array.from([0.1, 0.2, -Infinity]) }));
  const s = await (await openStore(dir)).readShard('train', 0);
  assert.deepEqual(s.topkIndex, Int32Array.from([4, 1, 0, 2, 3, 4]));
  assert.deepEqual(s.topkLogit, Float32Array.from([3.5, 0.333251953125, -1, -2, 0.5, 0.25]));
  assert.deepEqual(s.tailLogSumExp, Float32Array.from([0.1, 0.2, -Infinity]));
});

test('BAD CALL openStore: no manifest, unfinished status, invalid manifest, shards that do not tile the split', async () => {
  const dir = await tmpDir();
  await assert.rejects(openStore(dir), { name: 'DataError', message: /manifest\.json does not exist: .* is not a complete soft-target store/ });
  const m = await handStore(dir, { mode: 'dense', precision: 'float32', classes: 3 }, 'parquet', 10, 4, (start, n) => ({ rowStart: start, rows: n, logits: logitsOf(start, n, 3) }));
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...m, status: 'running' }));
  await assert.rejects(openStore(dir), { name: 'DataError', message: /status is "running", expected "complete"/ });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...m, shardRows: 'many' }));
  await assert.rejects(openStore(dir), { name: 'DataError', message: /is not a valid store manifest:\n {2}- shardRows must be integer, but got "many"/ });
  const gap = structuredClone(m);
  gap.splits.train!.shards.splice(1, 1);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(gap));
  await assert.rejects(openStore(dir), { name: 'DataError', message: /splits\.train\.shards\[1\] covers rows 8\.\.9 as index 2; expected index 1 from row 4/ });
});

test('BAD CALL verifyStore lists every tampered or missing shard; readShard names a shard with wrong columns', async () => {
  const dir = await tmpDir();
  await handStore(dir, { mode: 'dense', precision: 'float32', classes: 3 }, 'parquet', 10, 4, (start, n) => ({ rowStart: start, rows: n, logits: logitsOf(start, n, 3) }));
  const p0 = join(dir, 'train/part-00000.parquet');
  const bytes = await readFile(p0);
  bytes[bytes.length - 20] ^= 0xff;
  await writeFile(p0, bytes);
  await writeFile(join(dir, 'train/part-00002.parquet'), 'short');
  const store = await openStore(dir);
  await assert.rejects(verifyStore(store), (err: Error) => {
    assert.equal(err.name, 'IntegrityError');
    assert.match(err.message, /\(2 problems\)/);
    assert.match(err.message, new RegExp(`${p0} has sha256 [0-9a-f]{64}, the manifest says`));
    assert.match(err.message, /part-00002\.parquet is 5 bytes, the manifest says \d+/);
    return true;
  });
  await verifyStore(store, []); // nothing asked, nothing checked
  // A top-k shard where the manifest says dense.
  const other = encodeTable(shardTable({ mode: 'topk', precision: 'float32', classes: 3, k: 1, temperature: 1 }, { rowStart: 4, rows: 4, topkIndex: new Uint32Array(4), topkLogit: new Float32Array(4), tailLogSumExp: new Float32Array(4) }), 'parquet');
  await writeFile(join(dir, 'train/part-00001.parquet'), other);
  await assert.rejects(store.readShard('train', 1), { name: 'IntegrityError', message: /part-00001\.parquet: shard 1 of split "train" has sha256 [0-9a-f]{64}, the manifest says/ });
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as StoreManifest;
  Object.assign(m.splits.train!.shards[1]!, { sha256: sha256Bytes(other), bytes: other.byteLength });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
  await assert.rejects((await openStore(dir)).readShard('train', 1), { name: 'DataError', message: /part-00001\.parquet: columns are \[row: int64, topk_index: .*\], expected \[row: int64, logits: fixed_size_list<float32>\[3\]\]/ });
  await assert.rejects(store.readShard('valid', 0), { name: 'DataError', message: /has no split "valid" \(it has: train\)/ });
});
