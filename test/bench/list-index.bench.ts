/**
 * `data index` speed of a list feature column against the same values as a fixed_size_list
 * (docs/datasets.md, "List columns"): the same seeded float32 values written as Parquet in three
 * layouts by the same writer (apache-arrow + parquet-wasm, zstd), so that only the column type
 * differs, then indexed by indexDataset (read, decode, sha256, list lengths, padding, fingerprints,
 * Arrow cache):
 *   fixed:  x: fixed_size_list<float32>[D]
 *   list:   x: list<float32>, every row D values (a constant-length list)
 *   ragged: x: list<float32>, rows of D/2..D values, indexed with --max-length x=D (padded)
 * and a DuckDB-written list<float32> (constant length) as DuckDB writes it, for reference (another
 * encoder, so its ratio also holds the Parquet encoding's share). One untimed warm-up round, then
 * REPEATS (odd) rounds in alternating order; rows/s median (min-max) and the per-round ratio to `fixed`.
 *
 * Run: node --import tsx test/bench/list-index.bench.ts [--rows 100000] [--dim 32] [--files 4] [--repeats 5]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { Field, FixedSizeList, Float32, Int64, List, RecordBatch, Schema, Struct, Table, Uint8, makeData } from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import { indexDataset } from '../../pipeline/dataset/index-dataset.ts';
import { encodeParquet } from '../../pipeline/io/table-files.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

function argValue(flag: string, fallback: number): number {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

type Layout = 'fixed' | 'list' | 'ragged';

/** Rows [start, start+n) of one layout: row, x, label. Values of row r: the seeded stream, first len(r) of D. */
function layoutTable(layout: Layout, start: number, n: number, D: number): Table {
  const rand = mulberry32(1000 + start);
  const lengths = Int32Array.from({ length: n }, (_, i) => (layout === 'ragged' ? D / 2 + ((start + i) % (D / 2 + 1)) : D));
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + lengths[i]!;
  const values = new Float32Array(layout === 'fixed' ? n * D : offsets[n]!);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < D; k++) {
      const v = rand() * 2 - 1;
      if (k < lengths[i]!) values[(layout === 'fixed' ? i * D : offsets[i]!) + k] = v;
    }
  }
  const item = new Field('item', new Float32(), false);
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  const [type, x]: [DataType, Data] =
    layout === 'fixed'
      ? [new FixedSizeList(D, item), makeData({ type: new FixedSizeList(D, item), length: n, nullCount: 0, child })]
      : [new List(item), makeData({ type: new List(item), length: n, nullCount: 0, valueOffsets: offsets, child })];
  const fields = [new Field('row', new Int64(), false), new Field('x', type, false), new Field('label', new Uint8(), false)];
  const children = [
    makeData({ type: new Int64(), length: n, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i)) }),
    x,
    makeData({ type: new Uint8(), length: n, data: Uint8Array.from({ length: n }, (_, i) => (start + i) % 10) }),
  ];
  return new Table([new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))]);
}

async function main(): Promise<void> {
  const rows = argValue('--rows', 100_000);
  const D = argValue('--dim', 32);
  const files = argValue('--files', 4);
  const repeats = checkOddRepeat(argValue('--repeats', 5), '--repeats');
  if (D % 2 !== 0) throw new RangeError(`--dim must be even, but got ${D}`);
  const dir = await mkdtemp(join(tmpdir(), 'distill-listbench-'));
  const per = Math.ceil(rows / files);
  const layouts: Layout[] = ['fixed', 'list', 'ragged'];
  for (const layout of layouts) {
    await mkdir(join(dir, layout, 'train'), { recursive: true });
    for (let f = 0, start = 0; start < rows; f++, start += per) {
      await writeFile(join(dir, layout, 'train', `part-${String(f).padStart(5, '0')}.parquet`), encodeParquet(layoutTable(layout, start, Math.min(per, rows - start), D)));
    }
  }
  // DuckDB rewrites the fixed layout's files as lists (x::FLOAT[]), one file per source file.
  await mkdir(join(dir, 'duckdb', 'train'), { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (let f = 0; f * per < rows; f++) {
    const name = `part-${String(f).padStart(5, '0')}.parquet`;
    await conn.run(`COPY (SELECT row, x::FLOAT[] AS x, label FROM read_parquet('${join(dir, 'fixed', 'train', name)}') ORDER BY row) TO '${join(dir, 'duckdb', 'train', name)}' (FORMAT parquet)`);
  }
  conn.closeSync();
  const variants: [string, string, Parameters<typeof indexDataset>[1]][] = [
    ['fixed_size_list<float32>[D] (apache-arrow)', 'fixed', { name: 'b' }],
    ['list<float32>, constant length (apache-arrow)', 'list', { name: 'b' }],
    [`list<float32>, ragged ${D / 2}..${D}, --max-length x=${D} (apache-arrow)`, 'ragged', { name: 'b', maxLengths: { x: D } }],
    ['list<float32>, constant length (DuckDB)', 'duckdb', { name: 'b' }],
  ];
  console.log(`# list-index bench: ${rows} rows x ${D} float32 in ${files} Parquet files per layout, ${repeats} repeats, loadavg at start ${loadavg()[0]!.toFixed(1)}`);
  const seconds = variants.map(() => [] as number[]);
  const prints = new Map<string, string>();
  for (const [, sub, opts] of variants) await indexDataset(join(dir, sub), opts, silentReporter); // warm-up
  for (let k = 0; k < repeats; k++) {
    const order = k % 2 === 0 ? variants.map((_, i) => i) : variants.map((_, i) => variants.length - 1 - i);
    for (const i of order) {
      const [, sub, opts] = variants[i]!;
      await rm(join(dir, sub, '.arrow-cache'), { recursive: true, force: true });
      const t0 = performance.now();
      const m = await indexDataset(join(dir, sub), opts, silentReporter);
      seconds[i]!.push((performance.now() - t0) / 1000);
      prints.set(sub, m.splits.train!.fingerprint);
    }
  }
  for (const [i, [name]] of variants.entries()) {
    const rate = spread(seconds[i]!.map((s) => rows / s));
    const ratio = spread(seconds[i]!.map((s, k) => seconds[0]![k]! / s));
    console.log(`${name}: ${formatSpread(rate)} rows/s; vs fixed ${formatSpread(ratio, 2)}`);
  }
  const same = prints.get('fixed') === prints.get('list') && prints.get('list') === prints.get('duckdb');
  console.log(`fingerprints: fixed = list = duckdb: ${same}`);
  console.log(`loadavg at end ${loadavg()[0]!.toFixed(1)}`);
  await rm(dir, { recursive: true, force: true });
}

await main();
