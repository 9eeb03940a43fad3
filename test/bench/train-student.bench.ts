/**
 * train-student benchmarks (figures go to docs/benchmarks.md, section "train-student"):
 *   (a) one epoch streamed from dataset files + store shards (batches cut in the batch worker thread,
 *       as run-train-student does; also on the training thread, for reference) vs the same epoch from tensors already in
 *       memory, in one run (goal: in-memory time / streaming time >= 0.95);
 *   (b) achieved training GFLOP/s vs the backend's own matmul GFLOP/s, measured in the same run;
 *   (c) peak RSS of a training process on 1x and 4x the rows (child processes; goal <= 1.2x growth);
 *   plus steady-state examples/s of 784-128-128-10 and 784-800-800-10 MLPs on wasm and cpu at
 *   several batch sizes, on real MNIST pixels.
 *
 * Run: node --import tsx test/bench/train-student.bench.ts [--quick]
 * (internal: --rss <rows> <workspace> runs one streamed epoch, batch worker included, and prints its peak RSS.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StudentSection } from '../../pipeline/config/experiment-config.ts';
import { readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { selectBackend, tf } from '../../pipeline/engines/tfjs.ts';
import type { BackendRequest } from '../../pipeline/engines/tfjs.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import { runMnistData } from '../../stages/data/run-mnist.ts';
import { batchTensors, disposeBatch } from '../../stages/train-student/batch-tensors.ts';
import type { BatchTensors } from '../../stages/train-student/batch-tensors.ts';
import { openBatchWorker } from '../../stages/train-student/batch-worker-client.ts';
import type { BatchWorker, BatchWorkerOptions } from '../../stages/train-student/batch-worker-client.ts';
import { buildStudent } from '../../stages/train-student/build-student.ts';
import type { ChunkedSplit } from '../../stages/train-student/chunked-split.ts';
import { datasetSplitSource } from '../../stages/train-student/dataset-split-source.ts';
import type { DatasetSplitSourceOptions } from '../../stages/train-student/dataset-split-source.ts';
import { epochPlan } from '../../stages/train-student/epoch-plan.ts';
import { createOptimizer } from '../../stages/train-student/optimizer-state.ts';
import { readAhead } from '../../stages/train-student/read-ahead.ts';
import { streamBatches } from '../../stages/train-student/stream-batches.ts';
import { trainStep } from '../../stages/train-student/train-step.ts';
import { writeTestStore } from '../helpers/write-test-store.ts';

const LOSS = { temperature: 4, alpha: 0.1 };
const mlp = (hidden: number[]): StudentSection => ({ arch: 'mlp', hidden, activation: 'relu', dropout: 0, conv: [] });

async function sourceOptions(ws: string, dataset: DatasetManifest, limitRows?: number): Promise<BatchWorkerOptions & DatasetSplitSourceOptions> {
  const store = await openStore(join(ws, 'store'));
  const feature = dataset.columns.find((c) => c.role === 'feature')!;
  const label = dataset.columns.find((c) => c.role === 'label')!;
  return { dir: join(ws, 'data'), manifest: dataset, split: 'train', feature, label, store, ...(limitRows ? { limitRows } : {}) };
}

async function source(ws: string, dataset: DatasetManifest, limitRows?: number): Promise<ChunkedSplit> {
  return datasetSplitSource(await sourceOptions(ws, dataset, limitRows));
}

/**
 * One streamed epoch; returns seconds and examples. With `worker`, batches come from the batch worker
 * thread as in run-train-student (the worker must stream the same split); without, from
 * readAhead(streamBatches(...)) on this thread.
 */
async function streamedEpoch(split: ChunkedSplit, hidden: number[], batchSize: number, worker?: BatchWorker): Promise<{ seconds: number; examples: number; macs: number }> {
  const student = buildStudent(mlp(hidden), { featureShape: [784], classes: 10, seed: 1 });
  const opt = createOptimizer({ optimizer: 'adam', learningRate: 0.001 });
  const plan = epochPlan(split.chunks.map((c) => c.rowEnd - c.rowStart), 1, 1, 2);
  const streamOpts = { batchSize, scale: 1 / 255 };
  const t0 = performance.now();
  let examples = 0;
  for await (const hb of worker ? worker.batches(plan, streamOpts, 2) : readAhead(streamBatches(split, plan, streamOpts), 2)) {
    const bt = batchTensors(hb, 784, split.encoding, 'bucket');
    const cost = trainStep(student, opt, bt, LOSS, examples);
    await cost.data();
    cost.dispose();
    disposeBatch(bt);
    examples += hb.size;
  }
  const seconds = (performance.now() - t0) / 1000;
  const macs = student.forwardMacs;
  student.model.dispose();
  opt.dispose();
  return { seconds, examples, macs };
}

/** The same epoch from tensors prepared beforehand (not timed). */
async function inMemoryEpoch(split: ChunkedSplit, hidden: number[], batchSize: number): Promise<{ seconds: number; examples: number }> {
  const plan = epochPlan(split.chunks.map((c) => c.rowEnd - c.rowStart), 1, 1, 2);
  const batches: BatchTensors[] = [];
  let examples = 0;
  for await (const hb of streamBatches(split, plan, { batchSize, scale: 1 / 255 })) {
    batches.push(batchTensors(hb, 784, split.encoding, 'bucket'));
    examples += hb.size;
  }
  const student = buildStudent(mlp(hidden), { featureShape: [784], classes: 10, seed: 1 });
  const opt = createOptimizer({ optimizer: 'adam', learningRate: 0.001 });
  const t0 = performance.now();
  let step = 0;
  for (const bt of batches) {
    const cost = trainStep(student, opt, bt, LOSS, step++);
    await cost.data();
    cost.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  batches.forEach(disposeBatch);
  student.model.dispose();
  opt.dispose();
  return { seconds, examples };
}

/** Matmul GFLOP/s of the current backend for [m, k] x [k, n]. */
async function matmulGflops(m: number, k: number, n: number): Promise<number> {
  const a = tf.randomUniform([m, k]);
  const b = tf.randomUniform([k, n]);
  await tf.matMul(a, b).data();
  let reps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    reps++;
  }
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b]);
  return (2 * m * k * n * reps) / s / 1e9;
}

/** Steady-state examples/s of training steps on real batches (warm-up steps excluded). */
async function stepThroughput(split: ChunkedSplit, hidden: number[], batchSize: number, seconds: number): Promise<number> {
  const student = buildStudent(mlp(hidden), { featureShape: [784], classes: 10, seed: 1 });
  const opt = createOptimizer({ optimizer: 'adam', learningRate: 0.001 });
  const plan = epochPlan(split.chunks.map((c) => c.rowEnd - c.rowStart), 1, 1, 1);
  const batches: BatchTensors[] = [];
  for await (const hb of streamBatches(split, plan, { batchSize, scale: 1 / 255 })) {
    batches.push(batchTensors(hb, 784, split.encoding, 'bucket'));
    if (batches.length >= 8) break;
  }
  const step = async (i: number): Promise<void> => {
    const c = trainStep(student, opt, batches[i % batches.length]!, LOSS, i);
    await c.data();
    c.dispose();
  };
  for (let i = 0; i < 2; i++) await step(i);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || n < 3) await step(n++);
  const rate = (n * batchSize) / ((performance.now() - t0) / 1000);
  batches.forEach(disposeBatch);
  student.model.dispose();
  opt.dispose();
  return rate;
}

async function useBackend(b: BackendRequest): Promise<void> {
  await selectBackend(b);
}

async function rssChild(rows: number, ws: string): Promise<void> {
  await useBackend('wasm');
  const dataset = await readDatasetManifest(join(ws, 'data'));
  const opts = await sourceOptions(ws, dataset, rows);
  const worker = openBatchWorker(opts);
  const r = await streamedEpoch(datasetSplitSource(opts), [128, 128], 128, worker);
  await worker.close();
  process.stdout.write(JSON.stringify({ rows, maxRssMiB: process.resourceUsage().maxRSS / 1024, seconds: r.seconds }) + '\n');
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const ws = await mkdtemp(join(tmpdir(), 'distill-bench-'));
  try {
    const trainRows = 20000;
    const { manifest: dataset } = await runMnistData({ out: join(ws, 'data'), limitTrain: trainRows, limitTest: 1000, rowsPerFile: 2500 }, silentReporter);
    await writeTestStore({ datasetDir: join(ws, 'data'), dataset, out: join(ws, 'store'), splits: ['train'], shardRows: 2500 });
    const lines: string[] = [];
    const log = (s: string): void => {
      lines.push(s);
      console.log(s);
    };
    log(`node ${process.version}, ${process.platform}-${process.arch}, tfjs 4.22.0; MNIST subset ${trainRows} rows in 2,500-row dataset files and dense float32 store shards`);

    // (a) + (b) on wasm, 784-128-128-10, batch 128, 10,000 rows (4 shards).
    await useBackend('wasm');
    const opts10k = await sourceOptions(ws, dataset, 10000);
    const split10k = datasetSplitSource(opts10k);
    const worker10k = openBatchWorker(opts10k); // as run-train-student streams training batches
    await streamedEpoch(await source(ws, dataset, 1000), [128, 128], 128); // warm-up
    await streamedEpoch(split10k, [128, 128], 128, worker10k); // warm-up (worker start-up)
    // Alternate the three, three times, and keep each one's best, so warm-up, GC and foreign load fall on no side.
    const runs: Record<'s' | 't' | 'm', Array<{ seconds: number; examples: number; macs?: number }>> = { s: [], t: [], m: [] };
    for (let rep = 0; rep < 3; rep++) {
      runs.s.push(await streamedEpoch(split10k, [128, 128], 128, worker10k));
      runs.m.push(await inMemoryEpoch(split10k, [128, 128], 128));
      runs.t.push(await streamedEpoch(split10k, [128, 128], 128));
    }
    await worker10k.close();
    const best = <T extends { seconds: number }>(list: T[]): T => list.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const s = best(runs.s) as { seconds: number; examples: number; macs: number };
    const t = best(runs.t);
    const m = best(runs.m);
    log(`(a) wasm 784-128-128-10, batch 128, 10,000 rows: streamed (batch worker) ${s.seconds.toFixed(2)} s (best of 3), in-memory ${m.seconds.toFixed(2)} s (best of 3), ratio in-memory/streamed ${(m.seconds / s.seconds).toFixed(3)}`);
    log(`(a') same epoch streamed on the training thread (no worker): ${t.seconds.toFixed(2)} s (best of 3), ratio in-memory/streamed ${(m.seconds / t.seconds).toFixed(3)}`);
    const trainFlops = 3 * 2 * s.macs * s.examples;
    const mm = await matmulGflops(128, 784, 128);
    const mmBig = await matmulGflops(256, 800, 800);
    log(`(b) wasm training ${(trainFlops / s.seconds / 1e9).toFixed(2)} GFLOP/s (3 x 2 x ${s.macs} MAC/example) vs matmul 128x784x128 ${mm.toFixed(2)} GFLOP/s, 256x800x800 ${mmBig.toFixed(2)} GFLOP/s`);
    await useBackend('cpu');
    const sc = await streamedEpoch(await source(ws, dataset, 2000), [128, 128], 128);
    const mmc = await matmulGflops(128, 784, 128);
    log(`(b) cpu  training ${((3 * 2 * sc.macs * sc.examples) / sc.seconds / 1e9).toFixed(2)} GFLOP/s (2,000 rows) vs matmul 128x784x128 ${mmc.toFixed(2)} GFLOP/s`);

    // (c) peak RSS, 1x vs 4x rows, each in its own process.
    const self = fileURLToPath(import.meta.url);
    const rss = (rows: number): { rows: number; maxRssMiB: number; seconds: number } =>
      JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', self, '--rss', String(rows), ws], { encoding: 'utf8' }).trim().split('\n').pop()!) as { rows: number; maxRssMiB: number; seconds: number };
    const r1 = rss(quick ? 2500 : 5000);
    const r4 = rss(quick ? 10000 : 20000);
    log(`(c) peak RSS, wasm 784-128-128-10 one streamed epoch: ${r1.rows} rows ${r1.maxRssMiB.toFixed(0)} MiB, ${r4.rows} rows ${r4.maxRssMiB.toFixed(0)} MiB, growth ${(r4.maxRssMiB / r1.maxRssMiB).toFixed(3)}x`);

    // Throughput table.
    const split = await source(ws, dataset, 2500);
    const secs = quick ? 2 : 4;
    for (const backend of ['wasm', 'cpu'] as const) {
      await useBackend(backend);
      for (const hidden of [[128, 128], [800, 800]]) {
        const sizes = backend === 'wasm' ? [32, 64, 128, 256, 512] : [128];
        const cells: string[] = [];
        for (const bs of sizes) cells.push(`batch ${bs}: ${(await stepThroughput(split, hidden, bs, secs)).toFixed(0)}`);
        log(`throughput ${backend} 784-${hidden.join('-')}-10 examples/s: ${cells.join(', ')}`);
      }
    }
    console.log('\n' + lines.map((l) => `    ${l}`).join('\n'));
  } finally {
    await rm(ws, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--rss') await rssChild(Number(process.argv[3]), process.argv[4]!);
else await main();
