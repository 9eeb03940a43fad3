/**
 * Training throughput of the project's train step on the tensorflow backend (tfjs-node, with oneDNN on
 * and off) and on wasm, for the MLP students 784-128-128-10 and 784-800-800-10: one epoch of 60,000
 * examples (469 steps of batch 128, cycling over 16 distinct random batches with dense teacher
 * logits), Adam, the loss summed on the device and read once at the end of the epoch as
 * run-train-student does. Each configuration runs in its own process (TF_ENABLE_ONEDNN_OPTS is read
 * when libtensorflow loads), one epoch per net after a warm-up of 20 steps; the configurations take
 * turns, REPEATS rounds (odd), so that load from elsewhere falls on all of them alike; the figure is
 * the median with min and max. Figures go to docs/benchmarks.md and docs/training.md.
 *
 * Run: node --import tsx test/bench/backends.bench.ts [--repeats N]   (needs `make tfjs-node` for
 * the tensorflow rows; they are skipped with a message otherwise)
 * (internal: --child <tensorflow|wasm> runs one round of one configuration and prints JSON.)
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NODE_PACKAGE, nodeBackendLoader, selectBackend, tf } from '../../pipeline/engines/tfjs.ts';
import type { BackendName } from '../../pipeline/engines/tfjs.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import type { BatchTensors } from '../../stages/train-student/batch-tensors.ts';
import { disposeBatch } from '../../stages/train-student/batch-tensors.ts';
import { buildStudent } from '../../stages/train-student/build-student.ts';
import { createOptimizer } from '../../stages/train-student/optimizer-state.ts';
import { trainStep } from '../../stages/train-student/train-step.ts';

const BATCH = 128;
const STEPS = Math.ceil(60000 / BATCH);
const NETS = [[128, 128], [800, 800]];
const LOSS = { temperature: 4, alpha: 0.1 };

function randomBatch(seed: number): BatchTensors {
  const r = mulberry32(seed);
  const x = Float32Array.from({ length: BATCH * 784 }, () => r());
  const labels = Int32Array.from({ length: BATCH }, () => Math.floor(r() * 10));
  const logits = Float32Array.from({ length: BATCH * 10 }, () => 4 * r());
  return { x: tf.tensor2d(x, [BATCH, 784]), labels: tf.tensor1d(labels, 'int32'), targets: { kind: 'dense', logits: tf.tensor2d(logits, [BATCH, 10]) } };
}

/** Seconds for `steps` train steps, loss accumulated on the device and read once. */
async function epoch(hidden: number[], batches: BatchTensors[], steps: number): Promise<number> {
  const student = buildStudent({ arch: 'mlp', hidden, activation: 'relu', dropout: 0, conv: [] }, { featureShape: [784], classes: 10, seed: 1 });
  const opt = createOptimizer({ optimizer: 'adam', learningRate: 0.001 });
  const t0 = performance.now();
  let sum = tf.scalar(0);
  for (let s = 0; s < steps; s++) {
    const cost = trainStep(student, opt, batches[s % batches.length]!, LOSS, s);
    const next = tf.add(sum, cost) as tf.Scalar;
    tf.dispose([sum, cost]);
    sum = next;
  }
  await sum.data();
  const seconds = (performance.now() - t0) / 1000;
  sum.dispose();
  student.model.dispose();
  opt.dispose();
  return seconds;
}

async function child(backend: BackendName): Promise<void> {
  const choice = await selectBackend(backend);
  const batches = Array.from({ length: 16 }, (_, i) => randomBatch(i + 1));
  const rows: Record<string, number> = {};
  for (const hidden of NETS) {
    await epoch(hidden, batches, 20);
    rows[`784-${hidden.join('-')}-10`] = (STEPS * BATCH) / (await epoch(hidden, batches, STEPS));
  }
  batches.forEach(disposeBatch);
  process.stdout.write(JSON.stringify({ notice: choice.notice, tensorflow: choice.tensorflowVersion, onednn: choice.onednn, rows }) + '\n');
}

function stats(v: number[]): string {
  const s = [...v].sort((a, b) => a - b);
  const k = (x: number): string => `${(x / 1000).toFixed(1)}k`;
  return `${k(s[Math.floor(s.length / 2)]!)} (${k(s[0]!)}-${k(s[s.length - 1]!)})`;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--repeats');
  const repeats = at > 0 ? Number(process.argv[at + 1]) : 3;
  if (!(repeats % 2 === 1)) throw new Error(`--repeats must be odd, got ${repeats}`);
  const self = fileURLToPath(import.meta.url);
  console.log(`node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start; ${repeats} epochs of ${STEPS} x ${BATCH} per cell, examples/s median (min-max)`);
  const configs: Array<{ label: string; backend: BackendName; env: Record<string, string> }> = [
    { label: 'tensorflow, oneDNN on', backend: 'tensorflow', env: { TF_ENABLE_ONEDNN_OPTS: '1' } },
    { label: 'tensorflow, oneDNN off', backend: 'tensorflow', env: { TF_ENABLE_ONEDNN_OPTS: '0' } },
    { label: 'wasm (SIMD, 1 thread)', backend: 'wasm', env: {} },
  ];
  const results = configs.map(() => ({ tag: '', rows: {} as Record<string, number[]> }));
  const runnable = configs.map((c) => c.backend !== 'tensorflow' || nodeBackendLoader.isInstalled(NODE_PACKAGE));
  for (let round = 0; round < repeats; round++) {
    for (const [i, c] of configs.entries()) {
      if (!runnable[i]) continue;
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', c.backend], { encoding: 'utf8', env: { ...process.env, ...c.env }, stdio: ['ignore', 'pipe', 'ignore'] });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { tensorflow: string | null; onednn: boolean | null; rows: Record<string, number> };
      results[i]!.tag = r.tensorflow ? ` (TF ${r.tensorflow}, oneDNN ${r.onednn ? 'on' : 'off'})` : '';
      for (const [net, rate] of Object.entries(r.rows)) (results[i]!.rows[net] ??= []).push(rate);
    }
  }
  console.log(`| backend | ${NETS.map((h) => `784-${h.join('-')}-10`).join(' | ')} |\n|---|---|---|`);
  for (const [i, c] of configs.entries()) {
    if (!runnable[i]) console.log(`| ${c.label} | skipped: ${NODE_PACKAGE} is not installed (make tfjs-node) | |`);
    else console.log(`| ${c.label}${results[i]!.tag} | ${Object.values(results[i]!.rows).map(stats).join(' | ')} |`);
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at end`);
}

if (process.argv[2] === '--child') await child(process.argv[3] as BackendName);
else await main();
