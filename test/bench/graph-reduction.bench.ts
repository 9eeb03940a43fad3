/**
 * Top-k capture of a synthetic causal-LM teacher at vocab 32k: the reduction appended to the teacher's
 * graph (teacherLogits.reduceInGraph) against the host reduction of the full [B, L, V] output, and each
 * against a bare ONNX Runtime loop over the same model, batches and inputs, measured side by side.
 *
 *   node --import tsx test/bench/graph-reduction.bench.ts [--vocab 32000] [--dim 64] [--rows 96] [--context 64] [--batch 8] [--k 8] [--repeat 3]
 *
 * Teacher: test/fixtures/tiny-sequence-teacher.ts (embedding, causal cumulative sum, dense head
 * dim x vocab; random weights), generated in a temporary workspace with a synthetic token dataset
 * (test/helpers/sequence-workspace.ts); nothing is written to the repository. Its forward pass is
 * cheap (dim * vocab MACs per position), so the logits handling weighs more here than behind a real LM.
 *
 * Per repeat, in this order: host capture, graph capture, bare loop on the original model fetching the
 * logits, bare loop on the rewritten model fetching the reduced outputs. Captures run as the stage runs
 * (ORT in a worker thread, `inFlight` batches queued, Parquet shards written); the session factory is
 * wrapped only to add up the bytes of the tensors ORT hands back. tokens/s = target tokens / the
 * split's compute seconds (manifest timing: dataset reads, inputs, ORT, encoding, writing); the bare
 * loops count the same target tokens and, like the stage, include the session's first call. Every
 * figure is the median (min-max) of the repeats; ratios are taken within a repeat.
 */
import { loadavg } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { workerSessionFactory } from '../../pipeline/engines/onnxruntime-worker-client.ts';
import type { SessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { appendTopKGraph } from '../../pipeline/teacher/top-k-graph.ts';
import { runTeacherLogits } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { sequenceWorkspace, writeSequenceExperiment, writeSequenceTeacher } from '../helpers/sequence-workspace.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

const { values } = parseArgs({
  options: {
    vocab: { type: 'string', default: '32000' },
    dim: { type: 'string', default: '64' },
    rows: { type: 'string', default: '96' },
    context: { type: 'string', default: '64' },
    batch: { type: 'string', default: '8' },
    k: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
  },
});
const [VOCAB, DIM, ROWS, CONTEXT, BATCH, K] = ['vocab', 'dim', 'rows', 'context', 'batch', 'k'].map((f) => Number(values[f as keyof typeof values]));
const REPEAT = checkOddRepeat(Number(values.repeat));
const TEMPERATURE = 1.5;
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
const loadStart = load();

const ws = await sequenceWorkspace(ROWS, CONTEXT, VOCAB, 'causal-lm', ROWS);
const teacher = await writeSequenceTeacher(ws, 'seq', { dim: DIM });
const encoding = { mode: 'topk', k: K, temperature: TEMPERATURE, precision: 'float32' };
const files = {
  host: await writeSequenceExperiment(ws, 'host', 'seq', { encoding, shardRows: ROWS, batchSize: BATCH }),
  graph: await writeSequenceExperiment(ws, 'graph', 'seq', { encoding, shardRows: ROWS, batchSize: BATCH, reduceInGraph: true }),
};

/** The stage's own session factory, counting the bytes of every output tensor ORT returns. */
function countingFactory(counter: { bytes: number; calls: number }): SessionFactory {
  return async (request) => {
    const session = await workerSessionFactory(request);
    return {
      ...session,
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
      run: async (feeds, fetches) => {
        const out = await session.run(feeds, fetches);
        counter.calls++;
        for (const t of Object.values(out)) counter.bytes += t.data.byteLength;
        return out;
      },
      release: () => session.release(),
    };
  };
}

interface Capture { tokensPerSecond: number; bytesPerBatch: number; tokens: number; seconds: number; cpu: number }

/** CPU seconds (user + system, every thread of the process: ORT's and the worker's too) since `start`. */
function cpuSeconds(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

async function capture(mode: 'host' | 'graph'): Promise<Capture> {
  const counter = { bytes: 0, calls: 0 };
  const c0 = process.cpuUsage();
  const m = await runTeacherLogits(await loadExperiment(files[mode], [], ws.dir), { force: true, sessionFactory: countingFactory(counter) }, silentReporter);
  const tokens = m.splits.train!.shards.reduce((s, r) => s + (r.tokens ?? 0), 0);
  const seconds = m.splits.train!.timing.seconds;
  return { tokensPerSecond: tokens / seconds, bytesPerBatch: counter.bytes / counter.calls, tokens, seconds, cpu: cpuSeconds(c0) };
}

/** Inputs of every batch, built once (the stage builds them per batch from the dataset). */
const feeds: Record<string, ort.Tensor>[] = [];
for (let s = 0; s < ROWS; s += BATCH) {
  const n = Math.min(BATCH, ROWS - s);
  const ids = BigInt64Array.from(ws.ids.subarray(s * CONTEXT, (s + n) * CONTEXT), (v) => BigInt(v));
  const mask = BigInt64Array.from(ws.mask.subarray(s * CONTEXT, (s + n) * CONTEXT), (v) => BigInt(v));
  feeds.push({ input_ids: new ort.Tensor('int64', ids, [n, CONTEXT]), attention_mask: new ort.Tensor('int64', mask, [n, CONTEXT]) });
}
const original = new Uint8Array(await readFile(join(ws.dir, 'teachers/seq/model.onnx')));
const rewritten = appendTopKGraph(original, 'model.onnx', { output: 'logits', kind: 'logits', classes: VOCAB, k: K, temperature: TEMPERATURE });

/**
 * A bare session.run loop over all batches, fetching `fetches`: its seconds, and those of its first
 * call. Like the stage's compute time (and test/bench/teacher-logits.bench.ts), it includes the
 * session's first call, which allocates ORT's buffers and is several times slower than the next ones.
 */
async function bare(model: Uint8Array, fetches: string[]): Promise<{ seconds: number; first: number; cpu: number }> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let first = 0;
  for (const f of feeds) {
    await session.run(f, fetches);
    first ||= (performance.now() - t0) / 1000;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  await session.release();
  return { seconds, first, cpu };
}

const o = rewritten.outputs;
const reducedFetches = [o.index, o.logit, ...(o.tail ? [o.tail] : []), o.nonFinite];
const runs: { host: Capture; graph: Capture; bareHost: number; bareGraph: number; firstHost: number; firstGraph: number; bareHostCpu: number; bareGraphCpu: number }[] = [];
for (let rep = 0; rep < REPEAT; rep++) {
  const host = await capture('host');
  const graph = await capture('graph');
  const bh = await bare(original, ['logits']);
  const bg = await bare(rewritten.bytes, reducedFetches);
  runs.push({ host, graph, bareHost: host.tokens / bh.seconds, bareGraph: graph.tokens / bg.seconds, firstHost: bh.first, firstGraph: bg.first, bareHostCpu: bh.cpu, bareGraphCpu: bg.cpu });
  process.stderr.write(`repeat ${rep + 1}/${REPEAT}: host ${host.tokensPerSecond.toFixed(0)} tokens/s, graph ${graph.tokensPerSecond.toFixed(0)} tokens/s (load ${load()})\n`);
}
const of = (f: (r: (typeof runs)[number]) => number, digits = 0): string => formatSpread(spread(runs.map(f)), digits);
const tokens = runs[0]!.host.tokens;
console.log(`graph-reduction bench: vocab ${VOCAB}, dim ${DIM}, ${ROWS} rows x context ${CONTEXT} (${tokens} target tokens), batch ${BATCH}, top-k k ${K} T_c ${TEMPERATURE}, float32, Parquet;`);
console.log(`teacher ${teacher.bytes.byteLength} bytes, rewritten ${rewritten.bytes.byteLength} bytes (+${rewritten.ops.join(', ')}); onnxruntime-node ${ort.env.versions.node}, node ${process.version};`);
console.log(`load average (1, 5, 15 min) at start ${loadStart}, at end ${load()}; median (min-max) of ${REPEAT} repeats\n`);
console.log('| | host-reduced capture | graph-reduced capture | graph / host |');
console.log('|---|---|---|---|');
console.log(`| bytes out of ORT per batch | ${of((r) => r.host.bytesPerBatch)} | ${of((r) => r.graph.bytesPerBatch)} | ${of((r) => r.host.bytesPerBatch / r.graph.bytesPerBatch, 0)}x fewer |`);
console.log(`| capture tokens/s | ${of((r) => r.host.tokensPerSecond)} | ${of((r) => r.graph.tokensPerSecond)} | ${of((r) => r.graph.tokensPerSecond / r.host.tokensPerSecond, 2)}x |`);
console.log(`| bare ORT loop tokens/s (same model and fetches) | ${of((r) => r.bareHost)} | ${of((r) => r.bareGraph)} | ${of((r) => r.bareGraph / r.bareHost, 2)}x |`);
console.log(`| capture / bare loop | ${of((r) => r.host.tokensPerSecond / r.bareHost, 2)} | ${of((r) => r.graph.tokensPerSecond / r.bareGraph, 2)} | |`);
console.log(`| bare loop: seconds of the first call (in the above) | ${of((r) => r.firstHost, 2)} | ${of((r) => r.firstGraph, 2)} | |`);
console.log(`| CPU s: bare loop / capture (end to end, all threads) | ${of((r) => r.bareHostCpu, 1)} / ${of((r) => r.host.cpu, 1)} | ${of((r) => r.bareGraphCpu, 1)} / ${of((r) => r.graph.cpu, 1)} | |`);
console.log(`| CPU ratio bare / capture | ${of((r) => r.bareHostCpu / r.host.cpu, 2)} | ${of((r) => r.bareGraphCpu / r.graph.cpu, 2)} | |`);
