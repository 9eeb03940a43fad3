/**
 * Benchmark of sharded teacher-logits workers: one worker against two on this machine, each worker a
 * separate `distill teacher-logits --num-shards N --shard-index i` process with one ONNX Runtime
 * intra-op thread, all started at once on a fresh store, then `distill finalize`.
 *
 *   node --import tsx test/bench/teacher-workers.bench.ts [--rows 60000] [--repeat 3] [--workers 1,2]
 *
 * Model: the demo teacher artifacts/teachers/mnist-cnn (required). Data: the first --rows rows of the
 * MNIST train split, written by the data stage into a scratch dataset (`distill data mnist` layout).
 * Reported per N: wall rows/s (first spawn to last exit, process start-up included), compute rows/s
 * (rows / the slowest worker's split timing), finalize seconds, bytes per example: each the median
 * (min-max) over the repeats, an odd count.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../pipeline/provenance.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import { readTeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import { runMnistData } from '../../stages/data/run-mnist.ts';
import { runCli } from '../helpers/run-cli.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '60000' }, repeat: { type: 'string', default: '3' }, workers: { type: 'string', default: '1,2' }, batch: { type: 'string', default: '256' } } });
const ROWS = Number(values.rows);
const REPEAT = checkOddRepeat(Number(values.repeat));
const COUNTS = values.workers.split(',').map(Number);
const scratchRel = '.scratch/bench-teacher-workers';
const scratch = join(projectRoot, scratchRel);
const teacher = 'artifacts/teachers/mnist-cnn';

interface Result {
  workers: number;
  wallRowsPerSecond: number;
  computeRowsPerSecond: number;
  finalizeSeconds: number;
  bytesPerExample: number;
}

async function once(count: number): Promise<Result> {
  const store = `${scratchRel}/store-${count}`;
  await rm(join(projectRoot, store), { recursive: true, force: true });
  const exp = join(scratch, `exp-${count}.json`);
  await writeFile(exp, JSON.stringify({ name: 'bench-workers', dataset: { path: `${scratchRel}/data` }, teacher: { path: teacher }, teacherLogits: { store, splits: ['train'], batchSize: Number(values.batch), device: 'cpu', intraOpThreads: 1 } }));
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: count }, (_, i) => runCli(['teacher-logits', '-c', exp, '--num-shards', String(count), '--shard-index', String(i)], { timeoutMs: 1_800_000 })));
  const wall = (performance.now() - t0) / 1000;
  for (const r of runs) if (r.code !== 0) throw new Error(`a worker failed (${r.code}): ${r.stderr}`);
  const f0 = performance.now();
  const fin = await runCli(['finalize', store]);
  const finalizeSeconds = (performance.now() - f0) / 1000;
  if (fin.code !== 0) throw new Error(`finalize failed: ${fin.stderr}`);
  const m = JSON.parse(await readFile(join(projectRoot, store, 'manifest.json'), 'utf8')) as StoreManifest;
  const slowest = Math.max(...m.workers!.parts.map((p) => p.timing.seconds));
  const bytes = m.splits.train!.shards.reduce((s, r) => s + r.bytes, 0);
  return { workers: count, wallRowsPerSecond: ROWS / wall, computeRowsPerSecond: ROWS / slowest, finalizeSeconds, bytesPerExample: bytes / ROWS };
}

async function main(): Promise<void> {
  await readTeacherCard(join(projectRoot, teacher)); // the demo teacher must be there
  await rm(scratch, { recursive: true, force: true });
  await runMnistData({ out: join(scratch, 'data'), limitTrain: ROWS, limitTest: 1 }, silentReporter);
  console.log(`teacher-logits workers benchmark: ${teacher}, MNIST train ${ROWS} rows, batch ${values.batch}, 1 intra-op thread per worker`);
  console.log(`node ${process.version}, ${cpus().length} cores, load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const results: Result[] = [];
  for (let rep = 0; rep < REPEAT; rep++) {
    for (const c of rep % 2 === 0 ? COUNTS : [...COUNTS].reverse()) {
      const r = await once(c);
      results.push(r);
      console.log(`  run ${rep + 1}, ${c} worker(s): wall ${Math.round(r.wallRowsPerSecond)} rows/s, compute ${Math.round(r.computeRowsPerSecond)} rows/s, finalize ${r.finalizeSeconds.toFixed(2)} s`);
    }
  }
  console.log(`\n| workers | wall rows/s | compute rows/s | speed-up (compute, medians) | finalize s | bytes/example |   (median (min-max) of ${REPEAT})`);
  console.log('|---|---|---|---|---|---|');
  const of = (c: number, f: (r: Result) => number): number[] => results.filter((r) => r.workers === c).map(f);
  const base = spread(of(COUNTS[0]!, (r) => r.computeRowsPerSecond)).median;
  for (const c of COUNTS) {
    const compute = spread(of(c, (r) => r.computeRowsPerSecond));
    const row = [formatSpread(spread(of(c, (r) => r.wallRowsPerSecond))), formatSpread(compute), (compute.median / base).toFixed(2), formatSpread(spread(of(c, (r) => r.finalizeSeconds)), 2), formatSpread(spread(of(c, (r) => r.bytesPerExample)), 1)];
    console.log(`| ${c} | ${row.join(' | ')} |`);
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await rm(scratch, { recursive: true, force: true });
}

await main();
