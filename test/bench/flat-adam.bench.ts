/**
 * tfjs's Adam (`tf.train.adam`, 14 kernels per variable) against FlatAdamOptimizer (one update over
 * the concatenated gradients, bit-identical) in the project's train step (`trainStep`: MLP student,
 * distillation loss at T = 4 / alpha = 0.1 on dense teacher logits, lr 1e-3, batch 128), side by side in
 * one process: the two take turns, `--rounds` times (odd), STEPS steps each; ms per step and examples/s
 * as the median (min-max) over the rounds, and the ratio within each round. Kernels per step by
 * `tf.profile`. Checks first that both gave bit-identical weights after 20 steps.
 *
 * Run: node --import tsx test/bench/flat-adam.bench.ts [--backend wasm|tensorflow|cpu] [--hidden 128,128] [--steps 300] [--rounds 7]
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { selectBackend, tf } from '../../pipeline/engines/tfjs.ts';
import type { BackendName } from '../../pipeline/engines/tfjs.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import type { BatchTensors } from '../../stages/train-student/batch-tensors.ts';
import { buildStudent } from '../../stages/train-student/build-student.ts';
import type { StudentModel } from '../../stages/train-student/build-student.ts';
import { FlatAdamOptimizer } from '../../stages/train-student/flat-adam.ts';
import { trainStep } from '../../stages/train-student/train-step.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, hidden: { type: 'string', default: '128,128' }, steps: { type: 'string', default: '300' }, rounds: { type: 'string', default: '7' } } });
const ROUNDS = checkOddRepeat(Number(values.rounds), '--rounds');
const STEPS = Number(values.steps);
const hidden = values.hidden.split(',').map(Number);
const B = 128;
const LOSS = { temperature: 4, alpha: 0.1 };

const backend = await selectBackend(values.backend as BackendName);
const r = mulberry32(1);
const batches: BatchTensors[] = Array.from({ length: 8 }, () => ({
  x: tf.tensor2d(Float32Array.from({ length: B * 784 }, () => r()), [B, 784]),
  labels: tf.tensor1d(Int32Array.from({ length: B }, () => Math.floor(r() * 10)), 'int32'),
  targets: { kind: 'dense', logits: tf.tensor2d(Float32Array.from({ length: B * 10 }, () => 4 * r()), [B, 10]) },
}));
const make = (opt: tf.Optimizer): { student: StudentModel; opt: tf.Optimizer } => ({ student: buildStudent({ arch: 'mlp', hidden, activation: 'relu', dropout: 0, conv: [] }, { featureShape: [784], classes: 10, seed: 1 }), opt });
const runs = [
  { name: 'tf.train.adam', ...make(tf.train.adam(0.001)) },
  { name: 'FlatAdamOptimizer', ...make(new FlatAdamOptimizer(0.001, 0.9, 0.999)) },
];
for (let s = 0; s < 20; s++) for (const m of runs) trainStep(m.student, m.opt, batches[s % 8]!, LOSS, s).dispose();
const same = runs[0]!.student.variables.every((v, i) => {
  const [a, b] = [v.dataSync(), runs[1]!.student.variables[i]!.dataSync()];
  return a.every((x, j) => x === b[j]);
});
if (!same) throw new Error('the two optimizers diverged: FlatAdamOptimizer must be bit-identical to tf.train.adam');
const kernels: number[] = [];
for (const m of runs) kernels.push((await tf.profile(() => trainStep(m.student, m.opt, batches[0]!, LOSS, 0).dispose())).kernels.length);
const ms: number[][] = [[], []];
const ratio: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  runs.forEach((m, k) => {
    const t0 = performance.now();
    for (let s = 0; s < STEPS; s++) trainStep(m.student, m.opt, batches[s % 8]!, LOSS, s).dispose();
    m.student.variables[0]!.dataSync();
    ms[k]!.push((performance.now() - t0) / STEPS);
  });
  ratio.push(ms[0]!.at(-1)! / ms[1]!.at(-1)!);
}
console.log(`${backend.backend} (${backend.package} ${backend.version ?? ""}), 784-${hidden.join('-')}-10, batch ${B}, ${STEPS} steps x ${ROUNDS} rounds, load average ${loadavg()[0]!.toFixed(1)}; weights bit-identical after 20 steps: yes`);
console.log('| optimizer | kernels/step | ms/step | examples/s |');
console.log('|---|---|---|---|');
runs.forEach((m, k) => console.log(`| ${m.name} | ${kernels[k]} | ${formatSpread(spread(ms[k]!), 2)} | ${formatSpread(spread(ms[k]!.map((x) => (1000 * B) / x)))} |`));
console.log(`speed-up (tf.train.adam ms / flat ms, within a round): ${formatSpread(spread(ratio), 2)}`);
