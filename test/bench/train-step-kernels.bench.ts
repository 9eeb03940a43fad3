/**
 * Kernels per train step and steady-state examples/s of the project's train step (`trainStep`: MLP
 * student, distillation loss at T = 4 / alpha = 0.1 on dense teacher logits, Adam at 1e-3, batch 128,
 * loss summed on the device and read once), for one backend and one net. `tf.profile` counts the
 * kernels of one step (after 10 warm-up steps), then STEPS steps are timed. Run it from two checkouts
 * to compare a change side by side (docs/benchmarks.md, "students vs PyTorch").
 *
 * Run: node --import tsx test/bench/train-step-kernels.bench.ts [wasm|tensorflow|cpu] [128,128] [STEPS]
 */
import { selectBackend, tf } from '../../pipeline/engines/tfjs.ts';
import type { BackendName } from '../../pipeline/engines/tfjs.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import type { BatchTensors } from '../../stages/train-student/batch-tensors.ts';
import { buildStudent } from '../../stages/train-student/build-student.ts';
import { createOptimizer } from '../../stages/train-student/optimizer-state.ts';
import { trainStep } from '../../stages/train-student/train-step.ts';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
const hidden = (process.argv[3] ?? '128,128').split(',').map(Number);
const steps = Number(process.argv[4] ?? 200);
const B = 128;
const LOSS = { temperature: 4, alpha: 0.1 };

await selectBackend(backend);
const r = mulberry32(1);
const batches: BatchTensors[] = Array.from({ length: 8 }, () => ({
  x: tf.tensor2d(Float32Array.from({ length: B * 784 }, () => r()), [B, 784]),
  labels: tf.tensor1d(Int32Array.from({ length: B }, () => Math.floor(r() * 10)), 'int32'),
  targets: { kind: 'dense', logits: tf.tensor2d(Float32Array.from({ length: B * 10 }, () => 4 * r()), [B, 10]) },
}));
const student = buildStudent({ arch: 'mlp', hidden, activation: 'relu', dropout: 0, conv: [] }, { featureShape: [784], classes: 10, seed: 1 });
const opt = createOptimizer({ optimizer: 'adam', learningRate: 0.001 });
for (let s = 0; s < 10; s++) trainStep(student, opt, batches[s % batches.length]!, LOSS, s).dispose();
const prof = await tf.profile(() => {
  trainStep(student, opt, batches[0]!, LOSS, 0).dispose();
});
const byName = new Map<string, number>();
for (const k of prof.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
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
const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, c]) => `${n} ${c}`).join(', ');
process.stdout.write(`${backend} 784-${hidden.join('-')}-10 batch ${B}: ${prof.kernels.length} kernels/step (${top}); ${((steps * B) / seconds).toFixed(0)} examples/s, ${((1000 * seconds) / steps).toFixed(2)} ms/step over ${steps} steps\n`);
