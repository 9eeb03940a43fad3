/**
 * Property-based tests (fast-check) of the readers of untrusted bytes: the shard decoder
 * (decodeTable + decodeShard, as readShard runs them), the store manifest (openStore), the dataset
 * manifest, the teacher card, the checkpoint reader, run verification, the experiment config
 * loader (file and --set overrides) and the image decoder of encoded-image dataset columns. Inputs are valid files with flipped, cut, spliced or random
 * bytes, and structured edits that pass the JSON parser. Property: the reader returns, or throws one
 * of the project's typed errors (DistillError), within a bounded time per input; never another
 * exception, never a hang. FUZZ_RUNS inputs per property (default 150; `make test-faults` runs 2000),
 * seed FUZZ_SEED (default 42).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyOverride, loadExperiment } from '../../../pipeline/config/load-experiment.ts';
import { readDatasetManifest } from '../../../pipeline/dataset/dataset-manifest.ts';
import { decodeImageColumns, encodedImageColumn } from '../../../pipeline/dataset/image-column.ts';
import { imageDecoderName } from '../../../pipeline/engines/image-decoder.ts';
import { DistillError } from '../../../pipeline/errors.ts';
import { decodeTable, encodeTable } from '../../../pipeline/io/table-files.ts';
import { silentReporter } from '../../../pipeline/reporter.ts';
import { decodeShard } from '../../../pipeline/store/decode-shard.ts';
import { openStore, storeManifestProblems } from '../../../pipeline/store/open-store.ts';
import { shardTable } from '../../../pipeline/store/shard-table.ts';
import type { StoreEncoding } from '../../../pipeline/store/soft-target-store.ts';
import { readTeacherCard } from '../../../pipeline/teacher/teacher-card.ts';
import { runMnistData } from '../../../stages/data/run-mnist.ts';
import { readLatestCheckpoint, writeCheckpoint } from '../../../pipeline/student/checkpoint.ts';
import { verifyRunDir } from '../../../stages/verify/verify-run-dir.ts';
import { tmpDir } from '../../helpers/tmp-dir.ts';
import { writeTestStore } from '../../helpers/write-test-store.ts';
import { writeTeacher } from '../../helpers/teacher-workspace.ts';
import { encodeJpeg, encodePng, imageParquet } from '../../helpers/encode-images.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 42);
/** Bound on one input's reader call (ms): far above the ~1 ms they take; a hang fails the test's timeout. */
const BOUND_MS = 2000;
const tried: Record<string, number> = {};

type Mutation = { kind: 'flip'; at: number[]; xor: number } | { kind: 'truncate'; at: number } | { kind: 'splice'; at: number; bytes: Uint8Array } | { kind: 'random'; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 32 }) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 512 }) }),
);

function mutate(src: Uint8Array, m: Mutation): Uint8Array {
  const out = Uint8Array.from(src);
  switch (m.kind) {
    case 'flip':
      for (const a of m.at) if (out.length > 0) out[a % out.length] ^= m.xor;
      return out;
    case 'truncate':
      return out.subarray(0, m.at % (src.length + 1));
    case 'splice': {
      const at = m.at % (src.length + 1);
      return Uint8Array.from([...src.subarray(0, at), ...m.bytes, ...src.subarray(at)]);
    }
    case 'random':
      return m.bytes;
  }
}

/** Runs `fn`; passes when it returns or throws a DistillError, in under BOUND_MS. */
async function typedOrOk(name: string, fn: () => unknown): Promise<void> {
  tried[name] = (tried[name] ?? 0) + 1;
  const t0 = performance.now();
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof DistillError)) throw new Error(`${name}: untyped ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err });
  }
  const ms = performance.now() - t0;
  assert.ok(ms < BOUND_MS, `${name}: one input took ${ms.toFixed(0)} ms`);
}

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const opts = { numRuns: RUNS, seed: SEED };

/**
 * The record batches of an Arrow IPC file: after the schema message, before the footer. apache-arrow
 * trusts the flatbuffer lengths of the schema (in the stream and the footer): a flipped byte there can
 * make tableFromIPC loop for seconds to minutes (found by this test, apache-arrow 21.2). The project
 * never decodes such bytes: readShard checks a shard's sha256 against the manifest first (tested
 * below), datasets are checked against theirs before reading. So mutations of Arrow files are drawn
 * inside the record batches only; Parquet files are mutated anywhere.
 */
function arrowBatchRegion(bytes: Uint8Array): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = 16 + view.getInt32(12, true);
  const end = bytes.length - 10 - view.getInt32(bytes.length - 10, true);
  return [start, end];
}

test('shard decoder: mutated Parquet shards (anywhere) and Arrow shards (record batches) decode or throw a DistillError', { timeout: 600_000 }, async () => {
  const dense: StoreEncoding = { mode: 'dense', precision: 'float32', classes: 4 };
  const topk: StoreEncoding = { mode: 'topk', precision: 'float16', classes: 6, k: 2, temperature: 2 };
  const cases = [
    { encoding: dense, format: 'parquet' as const, bytes: encodeTable(shardTable(dense, { rowStart: 8, rows: 8, logits: Float32Array.from({ length: 32 }, (_, i) => i / 3) }), 'parquet') },
    { encoding: topk, format: 'parquet' as const, bytes: encodeTable(shardTable(topk, { rowStart: 8, rows: 8, topkIndex: Uint32Array.from({ length: 16 }, (_, i) => i % 6), topkLogit: Float32Array.from({ length: 16 }, (_, i) => i), tailLogSumExp: new Float32Array(8) }), 'parquet') },
    { encoding: dense, format: 'arrow' as const, bytes: encodeTable(shardTable(dense, { rowStart: 8, rows: 8, logits: Float32Array.from({ length: 32 }, (_, i) => -i) }), 'arrow') },
    { encoding: topk, format: 'arrow' as const, bytes: encodeTable(shardTable(topk, { rowStart: 8, rows: 8, topkIndex: Uint32Array.from({ length: 16 }, (_, i) => i % 6), topkLogit: Float32Array.from({ length: 16 }, (_, i) => i), tailLogSumExp: new Float32Array(8) }), 'arrow') },
  ];
  const arrowFlip = fc.record({ at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), xor: fc.integer({ min: 1, max: 255 }) });
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 1, 2, 3), mutation, arrowFlip, async (which, m, flip) => {
      const c = cases[which]!;
      let bytes: Uint8Array;
      if (c.format === 'parquet') bytes = mutate(c.bytes, m);
      else {
        const [start, end] = arrowBatchRegion(c.bytes);
        bytes = Uint8Array.from(c.bytes);
        for (const a of flip.at) bytes[start + (a % (end - start))] ^= flip.xor;
      }
      await typedOrOk(`shard ${c.format}`, () => decodeShard(decodeTable(bytes, c.format, 'part-00001'), c.encoding, { split: 'train', index: 1, rowStart: 8, rowEnd: 16, name: 'part-00001' }));
    }),
    opts,
  );
});

test('image decoder: mutated PNG and JPEG bytes in an image column decode or throw a DistillError', { timeout: 600_000 }, async () => {
  const rgb = Uint8Array.from({ length: 12 * 16 * 3 }, (_, i) => (i * 29) & 255);
  const images = [encodePng(rgb, 12, 16, 3), await encodeJpeg(rgb, 12, 16, 3, 80)];
  const columns = [{ name: 'row', type: 'int64', role: 'row' as const }, encodedImageColumn('pixels', 'binary', [12, 16, 3], imageDecoderName(), 'x.parquet')];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 1), mutation, async (which, m) => {
      const table = decodeTable(imageParquet([mutate(images[which]!, m)], [0]), 'parquet', 'x.parquet');
      await typedOrOk(`image ${which === 0 ? 'png' : 'jpeg'}`, () => decodeImageColumns(table, columns, 'x.parquet'));
    }),
    opts,
  );
});

const dir = await tmpDir('distill-fuzz-');
const { manifest: dataset } = await runMnistData({ out: join(dir, 'data'), limitTrain: 40, limitTest: 20, rowsPerFile: 20 }, silentReporter);
await writeTestStore({ datasetDir: join(dir, 'data'), dataset, out: join(dir, 'store'), splits: ['train', 'test'], shardRows: 16 });
const storeManifest = await readFile(join(dir, 'store/manifest.json'));
const datasetManifest = await readFile(join(dir, 'data/manifest.json'));

/** Structured edits that keep the JSON valid: a field somewhere replaced by another JSON value. */
function replaceAt(value: unknown, path: readonly number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const key = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as unknown as Record<string, unknown>) : { ...(value as Record<string, unknown>) };
  copy[key] = replaceAt((value as Record<string, unknown>)[key], path.slice(1), replacement);
  return copy;
}
const edit = fc.record({ path: fc.array(fc.nat(), { maxLength: 6 }), value: fc.oneof(fc.jsonValue(), fc.integer({ min: -3, max: 100 })) });

test('readShard: a store shard with mutated bytes (Arrow, anywhere) is refused with an IntegrityError before decoding', { timeout: 600_000 }, async () => {
  const store = await openStore(join(dir, 'store'));
  const shard = store.shards('train')[1]!;
  const original = await readFile(shard.path);
  await fc.assert(
    fc.asyncProperty(mutation, async (m) => {
      const bytes = mutate(original, m);
      await writeFile(shard.path, bytes);
      await typedOrOk('readShard', async () => {
        if (Buffer.from(bytes).equals(original)) await store.readShard('train', 1);
        else await assert.rejects(store.readShard('train', 1), { name: 'IntegrityError' });
      });
    }),
    opts,
  );
  await writeFile(shard.path, original);
});

test('store manifest: mutated bytes and edited fields give a valid store or a DistillError (openStore, storeManifestProblems)', { timeout: 600_000 }, async () => {
  const target = join(dir, 'fuzz-store');
  await mkdir(target, { recursive: true });
  const original = JSON.parse(storeManifest.toString()) as unknown;
  await fc.assert(
    fc.asyncProperty(fc.oneof(mutation.map((m) => utf8(mutate(storeManifest, m))), edit.map((e) => JSON.stringify(replaceAt(original, e.path, e.value)))), async (text) => {
      await writeFile(join(target, 'manifest.json'), text);
      await typedOrOk('store manifest', () => openStore(target));
      await typedOrOk('store manifest', () => {
        try {
          storeManifestProblems(JSON.parse(text));
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
        }
      });
    }),
    opts,
  );
});

test('dataset manifest and teacher card: mutated bytes and edited fields are read or refused with a DistillError', { timeout: 600_000 }, async () => {
  const data = join(dir, 'fuzz-data');
  await mkdir(data, { recursive: true });
  const ws = { dir, dataset: 'data', train: 40, test: 20 };
  await writeTeacher(ws, 'card', { hidden: 4 });
  const card = await readFile(join(dir, 'teachers/card/card.json'));
  const originals = [JSON.parse(datasetManifest.toString()) as unknown, JSON.parse(card.toString()) as unknown];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 1), fc.oneof(mutation.map((m) => ({ m })), edit.map((e) => ({ e }))), async (which, change) => {
      const src = which === 0 ? datasetManifest : card;
      const text = 'm' in change ? utf8(mutate(src, change.m)) : JSON.stringify(replaceAt(originals[which], change.e.path, change.e.value));
      if (which === 0) {
        await writeFile(join(data, 'manifest.json'), text);
        await typedOrOk('dataset manifest', () => readDatasetManifest(data));
      } else {
        await writeFile(join(dir, 'teachers/card/card.json'), text);
        await typedOrOk('teacher card', () => readTeacherCard(join(dir, 'teachers/card')));
      }
    }),
    opts,
  );
});

test('checkpoint reader and run verification: a mutated checkpoint record or run manifest never escapes as an untyped error', { timeout: 600_000 }, async () => {
  const run = join(dir, 'fuzz-run');
  const json = await writeCheckpoint(run, { epoch: 1, configKey: 'k', rng: { seed: 1, nextEpoch: 2 }, steps: 3, epochs: [] }, [{ name: 'w', shape: [2], dtype: 'float32', values: Float32Array.of(1, 2) }], []);
  const ckpt = await readFile(json);
  const original = JSON.parse(ckpt.toString()) as unknown;
  const manifest = Buffer.from(JSON.stringify({ formatVersion: 1, kind: 'distill.student-run', status: 'complete', outputs: { weights: 'weights.bin' } }));
  await fc.assert(
    fc.asyncProperty(fc.oneof(mutation.map((m) => ({ m })), edit.map((e) => ({ e }))), async (change) => {
      const text = 'm' in change ? utf8(mutate(ckpt, change.m)) : JSON.stringify(replaceAt(original, change.e.path, change.e.value));
      await writeFile(json, text);
      await typedOrOk('checkpoint', () => readLatestCheckpoint(run));
      await writeFile(join(run, 'run-manifest.json'), 'm' in change ? utf8(mutate(manifest, change.m)) : text);
      await typedOrOk('run manifest', async () => {
        const report = await verifyRunDir(run, dir);
        assert.ok(report.problems.length > 0, 'a broken run verifies as OK');
      });
    }),
    opts,
  );
});

test('experiment config loader: mutated files and arbitrary --set overrides give a config or a ConfigError, and never pollute Object.prototype', { timeout: 600_000 }, async () => {
  const valid = Buffer.from(JSON.stringify({ name: 'x', dataset: { path: 'data' }, teacher: { path: 't' }, teacherLogits: { store: 's' }, student: { arch: 'mlp' }, train: { run: 'r', epochs: 2 } }));
  const original = JSON.parse(valid.toString()) as unknown;
  const override = fc.oneof(
    fc.string(),
    fc.tuple(fc.array(fc.constantFrom('train', 'epochs', '__proto__', 'constructor', 'prototype', 'x', ''), { minLength: 1, maxLength: 4 }), fc.jsonValue()).map(([p, v]) => `${p.join('.')}=${JSON.stringify(v)}`),
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(mutation.map((m) => utf8(mutate(valid, m))), edit.map((e) => JSON.stringify(replaceAt(original, e.path, e.value)))), fc.array(override, { maxLength: 3 }), async (text, overrides) => {
      await writeFile(join(dir, 'fuzz-exp.json'), text);
      await typedOrOk('config', () => loadExperiment('fuzz-exp.json', overrides, dir));
      await typedOrOk('config', () => applyOverride({}, overrides[0] ?? 'a=1'));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.deepEqual(Object.keys(Object.prototype), [], 'Object.prototype gained a key');
    }),
    opts,
  );
});

test('fuzz figures', (t) => {
  t.diagnostic(`inputs tried per reader: ${JSON.stringify(tried)}; total ${Object.values(tried).reduce((a, b) => a + b, 0)} (FUZZ_RUNS=${RUNS}, seed ${SEED})`);
});
