import { performance } from 'node:perf_hooks';
import type { EngineSession, EngineTensor } from '../../pipeline/engines/onnxruntime.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import type { TeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import { inputTensor } from '../../pipeline/teacher/teacher-tensors.ts';
import type { LatencyStats } from './latency-stats.ts';
import { latencyStats } from './latency-stats.ts';

/** Speed of one model in one ONNX Runtime setup. */
export interface OnnxTiming {
  /** Latency of one row (batch 1), ms. */
  latency: LatencyStats;
  /** Rows per second at batch {@link OnnxTiming.throughputBatch}. */
  throughput: number;
  throughputBatch: number;
  /** Timed batches. */
  throughputRuns: number;
}

/** Options of {@link timeOnnxModel}. */
export interface TimeOnnxOptions {
  /** Timed batch-1 runs. Default 200. */
  latencyRuns?: number;
  /** Untimed batch-1 runs first. Default 20. */
  latencyWarmup?: number;
  /** Rows per throughput batch. Default 256. */
  throughputBatch?: number;
  /** Timed throughput batches. Default 20. */
  throughputRuns?: number;
  /** Untimed throughput batches first. Default 2. */
  throughputWarmup?: number;
}

/**
 * Times a model on real rows: latency at batch 1 (each call timed alone, rows cycled) and
 * throughput at batch 256 (rows tiled when fewer are available). Input tensors are built before the
 * clock starts, so only session.run is timed.
 */
export async function timeOnnxModel(session: EngineSession, card: TeacherCard, columns: ReadonlyMap<string, NumericArray>, rows: number, opts: TimeOnnxOptions = {}): Promise<OnnxTiming> {
  const latencyRuns = opts.latencyRuns ?? 200;
  const latencyWarmup = opts.latencyWarmup ?? 20;
  const batch = opts.throughputBatch ?? 256;
  const runs = opts.throughputRuns ?? 20;
  const warmup = opts.throughputWarmup ?? 2;
  const feeds = (from: number, n: number): Record<string, EngineTensor> =>
    Object.fromEntries(card.inputs.map((b) => [b.name, tiledInput(b, columns.get(b.column)!, from, n, rows)]));
  const singles = Array.from({ length: Math.min(rows, 64) }, (_, i) => feeds(i, 1));
  const samples: number[] = [];
  for (let i = 0; i < latencyWarmup + latencyRuns; i++) {
    const f = singles[i % singles.length]!;
    const t0 = performance.now();
    await session.run(f, [card.output.name]);
    const dt = performance.now() - t0;
    if (i >= latencyWarmup) samples.push(dt);
  }
  const big = feeds(0, batch);
  for (let i = 0; i < warmup; i++) await session.run(big, [card.output.name]);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await session.run(big, [card.output.name]);
  const seconds = (performance.now() - t0) / 1000;
  return { latency: latencyStats(samples), throughput: (batch * runs) / seconds, throughputBatch: batch, throughputRuns: runs };
}

/** `n` rows starting at `from`, wrapping around the `rows` available. */
function tiledInput(binding: TeacherCard['inputs'][number], values: NumericArray, from: number, n: number, rows: number): EngineTensor {
  if (from + n <= rows) return inputTensor(binding, values, from, n);
  const parts = Array.from({ length: n }, (_, i) => inputTensor(binding, values, (from + i) % rows, 1));
  const width = parts[0]!.data.length;
  const Ctor = parts[0]!.data.constructor as new (len: number) => EngineTensor['data'];
  const data = new Ctor(n * width);
  parts.forEach((p, i) => (data as Float32Array).set(p.data as Float32Array, i * width));
  return { type: parts[0]!.type, data, dims: [n, ...parts[0]!.dims.slice(1)] };
}
