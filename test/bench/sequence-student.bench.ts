/**
 * Sequence-student benchmark (figures go to docs/benchmarks.md, section "Sequence students"): tokens/s
 * of training steps, side by side in one run on the same architecture, batch and dense per-position
 * targets:
 *   (a) the project's step (host batch -> sequenceBatchTensors -> sequenceTrainStep, the weighted
 *       distillation loss over [B*P, V]) vs a plain tfjs loop on the same model (tensors made once,
 *       tf.losses.softmaxCrossEntropy against the tempered teacher softmax): goal >= 0.95;
 *   (b) vs PyTorch CPU on one thread (test/bench/sequence_student_torch.py, same shapes and loss), run
 *       when /work/venv-* /bin/python or python3 imports torch; skipped with a message otherwise.
 * Students: a 2-layer d=128 transformer (4 heads, MLP ratio 4) and a window-MLP (d=64, window 8,
 * hidden [256]), causal LM, V=64, L=64, batch 16. Odd repeats; median (min-max); the load is printed.
 *
 * Run: node --import tsx test/bench/sequence-student.bench.ts [--backend wasm|cpu|tensorflow] [--repeat 3] [--steps 4]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StudentSection } from '../../pipeline/config/experiment-config.ts';
import { selectBackend, tf } from '../../pipeline/engines/tfjs.ts';
import type { BackendRequest } from '../../pipeline/engines/tfjs.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { buildSequenceStudent } from '../../pipeline/student/sequence/build-sequence-student.ts';
import { embeddingMethodFor } from '../../pipeline/student/sequence/embedding-block.ts';
import { flattenPositions, sequenceBatchTensors } from '../../stages/train-student/sequence-batch.ts';
import type { SequenceStudent } from '../../pipeline/student/sequence/sequence-student.ts';
import { sequenceTrainStep } from '../../stages/train-student/sequence-train-step.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const BACKEND = arg('--backend', 'wasm') as BackendRequest;
const REPEAT = checkOddRepeat(Number(arg('--repeat', '3')));
const STEPS = Number(arg('--steps', '4'));
const B = 16;
const L = 64;
const V = 64;
const LOSS = { temperature: 2, alpha: 0.1 };

const CASES: Array<{ name: string; spec: StudentSection; torch: Record<string, unknown> }> = [
  {
    name: 'transformer 2x128',
    spec: { arch: 'transformer', hidden: [], activation: 'relu', dropout: 0, conv: [], dModel: 128, layers: 2, heads: 4, mlpRatio: 4 },
    torch: { arch: 'transformer', dModel: 128, layers: 2, heads: 4, mlpRatio: 4 },
  },
  {
    name: 'window-mlp 8x64-256',
    spec: { arch: 'window-mlp', hidden: [256], activation: 'relu', dropout: 0, conv: [], dModel: 64, window: 8 },
    torch: { arch: 'window-mlp', dModel: 64, window: 8, hidden: [256] },
  },
];

function hostBatch(seed: number): { size: number; context: number; ids: Int32Array; mask: Uint8Array } {
  const r = mulberry32(seed);
  return { size: B, context: L, ids: Int32Array.from({ length: B * L }, () => Math.floor(r() * V)), mask: new Uint8Array(B * L).fill(1) };
}

/** Tokens/s per repeat of `step` (after 2 warm-up steps). */
async function timeSteps(step: () => tf.Scalar): Promise<number[]> {
  for (let i = 0; i < 2; i++) await step().data();
  const rates: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const t0 = performance.now();
    let last: tf.Scalar | null = null;
    for (let i = 0; i < STEPS; i++) {
      last?.dispose();
      last = step();
    }
    await last!.data();
    last!.dispose();
    rates.push((B * L * STEPS) / ((performance.now() - t0) / 1000));
  }
  return rates;
}

async function project(student: SequenceStudent, zt: tf.Tensor2D): Promise<number[]> {
  const opt = tf.train.adam(1e-3);
  const hb = hostBatch(2);
  const rates = await timeSteps(() => {
    const bt = sequenceBatchTensors(hb, 'next-token', { kind: 'dense', logits: zt });
    const cost = sequenceTrainStep(student, opt, bt, LOSS);
    tf.dispose([bt.ids, bt.mask, bt.labels, bt.weights]);
    return cost;
  });
  opt.dispose();
  return rates;
}

async function plain(student: SequenceStudent, zt: tf.Tensor2D): Promise<number[]> {
  const opt = tf.train.adam(1e-3);
  const bt = sequenceBatchTensors(hostBatch(2), 'next-token', null);
  const soft = tf.softmax(tf.div(zt, LOSS.temperature));
  const t2 = LOSS.temperature * LOSS.temperature;
  const rates = await timeSteps(
    () =>
      opt.minimize(() => {
        const z = flattenPositions(student.apply(bt.ids, bt.mask), L - 1);
        const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(bt.labels, V), z);
        const kd = tf.losses.softmaxCrossEntropy(soft, tf.div(z, LOSS.temperature));
        return tf.add(tf.mul(ce, LOSS.alpha), tf.mul(kd, (1 - LOSS.alpha) * t2)) as tf.Scalar;
      }, true, student.variables)!,
  );
  tf.dispose([bt.ids, bt.mask, bt.labels, bt.weights, soft]);
  opt.dispose();
  return rates;
}

function pythonWithTorch(): string | null {
  const candidates = existsSync('/work') ? readdirSync('/work').filter((d) => d.startsWith('venv-')).map((d) => join('/work', d, 'bin', 'python')) : [];
  for (const py of [...candidates, 'python3']) {
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
      return py;
    } catch {
      // not this one
    }
  }
  return null;
}

function torchRates(py: string, cfg: Record<string, unknown>): number[] {
  const script = fileURLToPath(new URL('./sequence_student_torch.py', import.meta.url));
  const c = { ...cfg, vocab: V, context: L, batch: B, temperature: LOSS.temperature, alpha: LOSS.alpha, warmup: 2, steps: STEPS, repeats: REPEAT };
  const out = execFileSync(py, [script, JSON.stringify(c)], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').pop()!) as { tokensPerSecond: number[] }).tokensPerSecond;
}

const choice = await selectBackend(BACKEND);
console.log(`backend ${choice.backend}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores shared with other sessions); B=${B} L=${L} V=${V}, ${STEPS} steps x ${REPEAT} repeats`);
const py = pythonWithTorch();
if (!py) console.log('PyTorch comparison skipped: no /work/venv-*/bin/python or python3 that imports torch');
for (const c of CASES) {
  const student = buildSequenceStudent(c.spec, { vocab: V, context: L, causal: true, seed: 1, embedding: embeddingMethodFor('auto', choice.backend) });
  const zt = tf.randomNormal([B * (L - 1), V], 0, 3, 'float32', 3) as tf.Tensor2D;
  const ours = spread(await project(student, zt));
  const bare = spread(await plain(student, zt));
  let line = `${c.name}: ${student.params} params, ${student.macsPerToken} MACs/token; project ${formatSpread(ours)} tokens/s, plain tfjs ${formatSpread(bare)} tokens/s (ratio ${(ours.median / bare.median).toFixed(2)})`;
  if (py) {
    const pt = spread(torchRates(py, c.torch));
    line += `; PyTorch 1 thread ${formatSpread(pt)} tokens/s (tfjs/PyTorch ${(ours.median / pt.median).toFixed(2)})`;
  }
  console.log(line);
  zt.dispose();
  student.dispose();
}
console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
