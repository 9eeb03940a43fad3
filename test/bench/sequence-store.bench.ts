/**
 * Bytes per stored token of per-position stores on the tiny sequence teacher (test/fixtures/
 * tiny-sequence-teacher.ts, random weights, so its distributions are flatter than a trained LM's and
 * sampled stores hold close to N distinct ids per position), for dense fp16, topk k = 8/16/32 and
 * sampled N = 12/32/50, Parquet (zstd), over a synthetic token dataset (test/helpers/sequence-workspace.ts).
 *
 *   node --import tsx test/bench/sequence-store.bench.ts [--vocab 2000] [--rows 100] [--context 64] [--modes dense,topk,sampled]
 *
 * --modes: the encodings to run (a dense store at vocab 32k holds rows * P * V float32 per shard in
 * memory: 400 MB at 50 rows x 63 positions, so large runs leave it out and measure it on fewer rows).
 *
 * Prints one line per encoding: manifest encoding.bytesPerToken and the capture's tokens/s (the
 * figures depend on machine load: say so next to them).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { inProcessSessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { runTeacherLogits } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { sequenceWorkspace, writeSequenceExperiment, writeSequenceTeacher } from '../helpers/sequence-workspace.ts';

const { values } = parseArgs({ options: { vocab: { type: 'string', default: '2000' }, rows: { type: 'string', default: '100' }, context: { type: 'string', default: '64' }, modes: { type: 'string', default: 'dense,topk,sampled' } } });
const modes = new Set(values.modes.split(','));
const vocab = Number(values.vocab);
const ws = await sequenceWorkspace(Number(values.rows), Number(values.context), vocab, 'causal-lm', 50);
await writeSequenceTeacher(ws, 'seq', { dim: 16 });
const encodings: [string, Record<string, unknown>][] = [
  ['dense fp16', { mode: 'dense', precision: 'float16' }],
  ...[8, 16, 32].map((k): [string, Record<string, unknown>] => [`topk k=${k} fp16`, { mode: 'topk', k, precision: 'float16' }]),
  ...[12, 32, 50].map((n): [string, Record<string, unknown>] => [`sampled N=${n}`, { mode: 'sampled', samples: n }]),
];
for (const [label, encoding] of encodings.filter(([, e]) => modes.has(String(e.mode)))) {
  const file = await writeSequenceExperiment(ws, label.replace(/[^a-z0-9]+/gi, '-'), 'seq', { encoding, shardRows: 50, batchSize: 10 });
  const m = await runTeacherLogits(await loadExperiment(file, [], ws.dir), { sessionFactory: inProcessSessionFactory }, silentReporter);
  const tokens = Object.values(m.splits).reduce((s, x) => s + x.shards.reduce((t, r) => t + (r.tokens ?? 0), 0), 0);
  process.stdout.write(`vocab ${vocab}  ${label.padEnd(16)} ${String(m.encoding.bytesPerToken).padStart(9)} bytes/token  ${Math.round(tokens / m.timing.seconds)} tokens/s  (${tokens} target tokens, ${join('stores', label)})\n`);
}
