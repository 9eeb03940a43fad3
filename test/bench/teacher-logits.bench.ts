/**
 * Benchmark of the teacher-logits stage against a bare `session.run` loop over the same model, batch
 * size and inputs, measured in one run, for parquet and arrow x dense and top-k; plus parquetjs-lite
 * vs parquet-wasm vs Arrow IPC writing the same logits table.
 *
 *   node --import tsx test/bench/teacher-logits.bench.ts [--rows 60000] [--batch 256] [--repeat 3] [--writers-only]
 *
 * --writers-only: only the writer table (no dataset or teacher needed, a few seconds).
 *
 * Every figure is the median over the repeats (an odd count: one measured run) with min-max beside it.
 *
 * Model: artifacts/teachers/mnist-cnn (model.onnx + card.json) when present; otherwise a tiny-teacher
 * fixture MLP 784-1024-10 (test/fixtures/tiny-teacher.ts, hidden 1024), said in the output. Data: the
 * MNIST train split of artifacts/data/mnist (run `make data` first), the first --rows rows.
 */
import { createRequire } from 'node:module';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { encodeTable } from '../../pipeline/io/table-files.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { shardTable } from '../../pipeline/store/shard-table.ts';
import { readTeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import type { TeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import { runTeacherLogits } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { makeTinyTeacher } from '../fixtures/tiny-teacher.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '60000' }, batch: { type: 'string', default: '256' }, repeat: { type: 'string', default: '3' }, 'writers-only': { type: 'boolean', default: false } } });
const ROWS = Number(values.rows);
const BATCH = Number(values.batch);
const REPEAT = checkOddRepeat(Number(values.repeat));
const scratch = join(projectRoot, '.scratch/bench-teacher-logits');
const datasetDir = 'artifacts/data/mnist';

async function teacherDir(): Promise<{ dir: string; label: string }> {
  const demo = 'artifacts/teachers/mnist-cnn';
  try {
    await readTeacherCard(join(projectRoot, demo));
    return { dir: demo, label: 'demo teacher artifacts/teachers/mnist-cnn' };
  } catch {
    const t = makeTinyTeacher({ hidden: 1024, seed: 3 });
    const dir = join(scratch, 'teacher');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.onnx'), t.bytes);
    const card: TeacherCard = {
      formatVersion: 1, name: 'tiny-mlp-1024', model: 'model.onnx', sha256: sha256Bytes(t.bytes),
      inputs: [{ name: 'pixels', column: 'pixels', dtype: 'float32', shape: ['batch', 784], preprocess: { scale: 1 / 255, offset: 0 } }],
      output: { name: 'logits', kind: 'logits' }, classes: { count: 10 },
    };
    await writeFile(join(dir, 'card.json'), JSON.stringify(card));
    return { dir: '.scratch/bench-teacher-logits/teacher', label: 'FALLBACK tiny-teacher fixture MLP 784-1024-10 (the demo teacher artifacts/teachers/mnist-cnn is not there yet)' };
  }
}

/** The bare loop: the same inputs, preprocessed up front, through session.run, batch after batch. */
async function bareLoop(modelPath: string, card: TeacherCard, x: Float32Array): Promise<{ rate: number; cpu: number }> {
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });
  const b = card.inputs[0]!;
  const width = 784;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let s = 0; s < ROWS; s += BATCH) {
    const n = Math.min(BATCH, ROWS - s);
    const dims = b.shape.map((d) => (typeof d === 'number' ? d : n));
    await session.run({ [b.name]: new ort.Tensor('float32', x.subarray(s * width, (s + n) * width), dims) });
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  await session.release();
  return { rate: ROWS / seconds, cpu };
}

/** CPU seconds (user + system, all threads of this process) since `start`. */
function cpuSeconds(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/** The stage against the bare loop, per format and encoding. */
async function stageComparison(): Promise<void> {
  const teacher = await teacherDir();
  const card = (await readTeacherCard(join(projectRoot, teacher.dir))).card;
  const modelPath = join(projectRoot, teacher.dir, card.model);
  const manifest = await readDatasetManifest(join(projectRoot, datasetDir));
  if (manifest.splits.train!.rows < ROWS) throw new Error(`the train split has ${manifest.splits.train!.rows} rows, fewer than --rows ${ROWS}`);
  const table = await new SplitReader(join(projectRoot, datasetDir), manifest, 'train').readRows(0, ROWS);
  const px = columnValues(table.getChild('pixels')!, 784) as Uint8Array;
  const scale = card.inputs[0]!.preprocess?.scale ?? 1;
  const offset = card.inputs[0]!.preprocess?.offset ?? 0;
  const x = Float32Array.from(px, (v) => v * scale + offset);
  // A subset dataset of exactly ROWS train rows would change the fingerprint; the stage runs on the
  // first ROWS rows through limitRows-free config by using shardRows and a split subset dataset.
  const subset = join(scratch, 'data');
  await rm(subset, { recursive: true, force: true });
  const { runMnistData } = await import('../../stages/data/run-mnist.ts');
  await runMnistData({ out: subset, limitTrain: ROWS, limitTest: 1 }, silentReporter);

  console.log(`teacher-logits benchmark: ${teacher.label}`);
  console.log(`rows ${ROWS} (MNIST train), batch ${BATCH}, onnxruntime-node ${ort.env.versions.node}, node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
  const configs = [
    { format: 'parquet', mode: 'dense' },
    { format: 'arrow', mode: 'dense' },
    { format: 'parquet', mode: 'topk' },
    { format: 'arrow', mode: 'topk' },
  ] as const;
  const results: { name: string; stage: number; wall: number; bare: number; bytes: number; bareCpu: number; stageCpu: number }[] = [];
  for (let rep = 0; rep < REPEAT; rep++) {
    for (const c of configs) {
      const { rate: bare, cpu: bareCpu } = await bareLoop(modelPath, card, x);
      const expFile = join(scratch, `exp-${c.format}-${c.mode}.json`);
      await writeFile(expFile, JSON.stringify({
        name: 'bench', dataset: { path: '.scratch/bench-teacher-logits/data' }, teacher: { path: teacher.dir },
        teacherLogits: { store: `.scratch/bench-teacher-logits/store-${c.format}-${c.mode}`, splits: ['train'], format: c.format, encoding: { mode: c.mode, k: 5 }, batchSize: BATCH, device: 'cpu' },
      }));
      const exp = await loadExperiment(expFile, [], projectRoot);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const m = await runTeacherLogits(exp, { force: true }, silentReporter);
      const stageCpu = cpuSeconds(c0);
      const wall = (performance.now() - t0) / 1000;
      const bytes = m.splits.train!.shards.reduce((s, r) => s + r.bytes, 0);
      results.push({ name: `${c.format} ${c.mode}`, stage: m.splits.train!.timing.rowsPerSecond, wall: ROWS / wall, bare, bytes, bareCpu, stageCpu });
    }
  }
  console.log('\n| format | encoding | bare session.run rows/s | stage rows/s | wall ratio | stage end-to-end rows/s | MB/s written | bytes/example | CPU s bare / stage (end to end) | CPU ratio |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const c of configs) {
    const rs = results.filter((r) => r.name === `${c.format} ${c.mode}`);
    // Each quantity's own median over the repeats; a ratio is taken within its pair (bare loop right before the stage run).
    const of = (f: (r: (typeof rs)[number]) => number, digits = 0): string => formatSpread(spread(rs.map(f)), digits);
    const cpu = `${of((r) => r.bareCpu, 1)} / ${of((r) => r.stageCpu, 1)}`;
    console.log(`| ${c.format} | ${c.mode} | ${of((r) => r.bare)} | ${of((r) => r.stage)} | ${of((r) => r.stage / r.bare, 3)} | ${of((r) => r.wall)} | ${of((r) => r.bytes / 1e6 / (ROWS / r.stage), 2)} | ${of((r) => r.bytes / ROWS, 1)} | ${cpu} | ${of((r) => r.bareCpu / r.stageCpu, 3)} |`);
  }
  console.log(`(median (min-max) over ${REPEAT} repeats, each quantity on its own; each stage run is paired with a bare loop measured right before it,`);
  console.log(` and the wall ratio is stage / bare within a pair. CPU ratio: the bare loop's CPU seconds over the stage's end-to-end CPU seconds`);
  console.log(` (all threads of the process); where ORT alone keeps both cores busy it approximates the throughput ratio of an idle machine,`);
  console.log(` and it is much less sensitive to other load.)`);
}

/** Writers: the same dense float32 logits table (20,000 rows x 10) through each library. */
async function writers(): Promise<void> {
  await mkdir(scratch, { recursive: true });
  const n = 20000;
  const logits = Float32Array.from({ length: n * 10 }, (_, i) => Math.sin(i) * 5);
  const enc = { mode: 'dense', precision: 'float32', classes: 10 } as const;
  /** rows/s of `fn` after one warm-up call: median (min-max) over REPEAT timed calls. */
  const time = async (fn: () => Promise<void> | void): Promise<string> => {
    await fn();
    const rates: number[] = [];
    for (let rep = 0; rep < REPEAT; rep++) {
      const t0 = performance.now();
      await fn();
      rates.push(n / ((performance.now() - t0) / 1000));
    }
    return formatSpread(spread(rates));
  };
  const wasm = await time(() => writeFile(join(scratch, 'w.parquet'), encodeTable(shardTable(enc, { rowStart: 0, rows: n, logits }), 'parquet')));
  const ipc = await time(() => writeFile(join(scratch, 'w.arrow'), encodeTable(shardTable(enc, { rowStart: 0, rows: n, logits }), 'arrow')));
  interface PqWriter { appendRow(row: Record<string, unknown>): Promise<void>; close(): Promise<void> }
  const pq = createRequire(import.meta.url)('parquetjs-lite') as { ParquetSchema: new (s: Record<string, unknown>) => unknown; ParquetWriter: { openFile(schema: unknown, path: string, opts?: Record<string, unknown>): Promise<PqWriter> } };
  const schema = new pq.ParquetSchema({ row: { type: 'INT64' }, logits: { type: 'FLOAT', repeated: true } });
  const lite = await time(async () => {
    const w = await pq.ParquetWriter.openFile(schema, join(scratch, 'w-lite.parquet'));
    for (let r = 0; r < n; r++) await w.appendRow({ row: r, logits: Array.from(logits.subarray(r * 10, (r + 1) * 10)) });
    await w.close();
  });
  console.log(`\n| writer (20,000 rows x 10 float32 logits) | rows/s, median (min-max) of ${REPEAT} |`);
  console.log('|---|---|');
  console.log(`| parquetjs-lite (repeated FLOAT, default options) | ${lite} |`);
  console.log(`| parquet-wasm (zstd, fixed_size_list<float32>[10]) | ${wasm} |`);
  console.log(`| apache-arrow IPC file | ${ipc} |`);
}

async function main(): Promise<void> {
  if (!values['writers-only']) await stageComparison();
  await writers();
  await rm(scratch, { recursive: true, force: true });
}

await main();
