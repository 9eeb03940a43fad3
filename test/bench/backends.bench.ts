/**
 * Training throughput of the project's train step on the tensorflow backend (tfjs-node, with oneDNN on
 * and off) and on wasm, for the MLP students 784-128-128-10 and 784-800-800-10: one epoch of 60,000
 * examples (469 steps of batch 128, cycling over 16 distinct random batches with dense teacher
 * logits), Adam, the loss summed on the device and read once at the end of the epoch as
 * run-train-student does. Each configuration runs in its own process (TF_ENABLE_ONEDNN_OPTS is read
 * when libtensorflow loads), one epoch per net after a warm-up of 20 steps; the configurations take
 * turns, REPEATS rounds (odd), so that load from elsewhere falls on all of them alike; the figure is
 * the median with min and max. PyTorch (CPU, one thread, test/bench/pytorch-mlp-epoch.py: same nets,
 * loss, Adam, batch and epoch) takes its turn in each round too, and every backend's rate is also
 * given as a ratio to PyTorch's rate of the same round (median, min-max of the per-round ratios).
 * Figures go to docs/benchmarks.md and docs/training.md.
 *
 * Run: node --import tsx test/bench/backends.bench.ts [--repeats N] [--python PATH]   (needs `make
 * tfjs-node` for the tensorflow rows and a python with torch (default python3) for the PyTorch row;
 * either is skipped with a message otherwise)
 * (internal: --child <tensorflow|wasm> runs one round of one configuration and prints JSON.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatSpread, spread } from './spread.ts';
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
  const s = spread(v);
  return `${(s.median / 1000).toFixed(1)}k (${(s.min / 1000).toFixed(1)}k-${(s.max / 1000).toFixed(1)}k)`;
}

/** Why PyTorch cannot run (no python, no torch), or null when `python` imports torch. */
function pytorchMissing(python: string): string | null {
  const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${python} cannot be run (${r.error.message})`;
  return r.status === 0 ? null : `${python} has no torch (pip install torch==2.13.0, then --python PATH)`;
}

interface Config {
  label: string;
  /** The command of one round: prints one JSON line with `rows` (examples/s per net). */
  argv: string[];
  env: Record<string, string>;
  /** Why it is skipped, or null. */
  skip: string | null;
}

async function main(): Promise<void> {
  const arg = (flag: string): string | undefined => {
    const at = process.argv.indexOf(flag);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const repeats = Number(arg('--repeats') ?? 3);
  if (!(repeats % 2 === 1)) throw new Error(`--repeats must be odd, got ${repeats}`);
  const python = arg('--python') ?? 'python3';
  const self = fileURLToPath(import.meta.url);
  const nets = NETS.map((h) => `784-${h.join('-')}-10`);
  console.log(`node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start; ${repeats} epochs of ${STEPS} x ${BATCH} per cell, examples/s median (min-max)`);
  const tfSkip = nodeBackendLoader.isInstalled(NODE_PACKAGE) ? null : `${NODE_PACKAGE} is not installed (make tfjs-node)`;
  const node = (backend: BackendName): string[] => [process.execPath, '--import', 'tsx', self, '--child', backend];
  const configs: Config[] = [
    { label: 'PyTorch CPU, 1 thread', argv: [python, self.replace(/backends\.bench\.ts$/, 'pytorch-mlp-epoch.py'), ...NETS.map((h) => h.join(','))], env: {}, skip: pytorchMissing(python) },
    { label: 'tensorflow, oneDNN on', argv: node('tensorflow'), env: { TF_ENABLE_ONEDNN_OPTS: '1' }, skip: tfSkip },
    { label: 'tensorflow, oneDNN off', argv: node('tensorflow'), env: { TF_ENABLE_ONEDNN_OPTS: '0' }, skip: tfSkip },
    { label: 'wasm (SIMD, 1 thread)', argv: node('wasm'), env: {}, skip: null },
  ];
  const results = configs.map(() => ({ tag: '', rows: {} as Record<string, number[]> }));
  for (let round = 0; round < repeats; round++) {
    for (const [i, c] of configs.entries()) {
      if (c.skip !== null) continue;
      const out = execFileSync(c.argv[0]!, c.argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...c.env }, stdio: ['ignore', 'pipe', 'ignore'] });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { tensorflow?: string | null; onednn?: boolean | null; torch?: string; rows: Record<string, number> };
      results[i]!.tag = r.tensorflow ? ` (TF ${r.tensorflow}, oneDNN ${r.onednn ? 'on' : 'off'})` : r.torch ? ` (torch ${r.torch})` : '';
      for (const [net, rate] of Object.entries(r.rows)) (results[i]!.rows[net] ??= []).push(rate);
    }
  }
  const torchRows = configs[0]!.skip === null ? results[0]!.rows : null;
  console.log(`| backend | ${nets.join(' | ')} | ${nets.map((n) => `${n} / PyTorch`).join(' | ')} |\n|---|---|---|---|---|`);
  for (const [i, c] of configs.entries()) {
    if (c.skip !== null) {
      console.log(`| ${c.label} | skipped: ${c.skip} | | | |`);
      continue;
    }
    const rows = results[i]!.rows;
    const ratios = nets.map((n) => (torchRows === null ? 'no PyTorch' : formatSpread(spread(rows[n]!.map((v, k) => v / torchRows[n]![k]!)), 2)));
    console.log(`| ${c.label}${results[i]!.tag} | ${nets.map((n) => stats(rows[n]!)).join(' | ')} | ${ratios.join(' | ')} |`);
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at end`);
}

if (process.argv[2] === '--child') await child(process.argv[3] as BackendName);
else await main();
