/**
 * train-student on a token dataset (causal LM, test/helpers/sequence-workspace.ts) from real
 * per-position stores captured from the tiny sequence teacher: a transformer and a window-MLP from
 * dense, top-k and sampled stores; exact resume; the CLI's up-to-date rule; refusals before the first
 * step (a top-k store at another T, a classification student on a token dataset).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { inProcessSessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { sha256File } from '../../pipeline/io/sha256.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import type { EpochMetrics, RunManifest } from '../../pipeline/student/run-manifest.ts';
import { loadSequenceStudent } from '../../pipeline/student/sequence/sequence-model-file.ts';
import { tf } from '../../pipeline/engines/tfjs.ts';
import { runTeacherLogits } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { runTrainStudent } from '../../stages/train-student/run-train-student.ts';
import { runCli } from '../helpers/run-cli.ts';
import { sequenceWorkspace, writeSequenceExperiment, writeSequenceTeacher } from '../helpers/sequence-workspace.ts';
import type { SequenceWorkspace } from '../helpers/sequence-workspace.ts';

const ws: SequenceWorkspace = await sequenceWorkspace(60, 12, 40);
await writeSequenceTeacher(ws, 'seq');
const T = 2;
const stores = { dense: { mode: 'dense', precision: 'float32' }, topk: { mode: 'topk', k: 6, temperature: T }, sampled: { mode: 'sampled', samples: 12, temperature: T } } as const;
for (const [name, encoding] of Object.entries(stores)) {
  const file = await writeSequenceExperiment(ws, name, 'seq', { encoding });
  await runTeacherLogits(await loadExperiment(file, [], ws.dir), { sessionFactory: inProcessSessionFactory }, silentReporter);
}

const students = {
  transformer: { arch: 'transformer', dModel: 16, layers: 1, heads: 2, mlpRatio: 2, hidden: [], activation: 'relu', dropout: 0 },
  'window-mlp': { arch: 'window-mlp', dModel: 8, window: 3, hidden: [24], activation: 'relu', dropout: 0 },
};

/** An experiment training `arch` from the store `store` (train split; 12 carved-out validation rows, test = train). */
async function studentConfig(name: string, arch: keyof typeof students, store: keyof typeof stores, train: Record<string, unknown> = {}): Promise<string> {
  const file = join(ws.dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      name,
      seed: 3,
      dataset: { path: ws.dataset, trainSplit: 'train', evalSplit: 'train', validation: { rows: 12 } },
      teacherLogits: { store: `stores/${store}`, splits: ['train'], encoding: stores[store] },
      student: students[arch],
      train: { run: `runs/${name}`, epochs: 2, batchSize: 8, learningRate: 0.01, temperature: T, alpha: 0.2, backend: 'cpu', shuffleWindow: 2, ...train },
    }),
  );
  return file;
}

const readMetrics = async (run: string): Promise<EpochMetrics[]> =>
  (await readFile(join(ws.dir, run, 'metrics.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EpochMetrics);

for (const arch of ['transformer', 'window-mlp'] as const) {
  for (const store of ['dense', 'topk', 'sampled'] as const) {
    test(`${arch} from the ${store} store: trains, records a sequence run, reloads to the saved logits`, async () => {
      const name = `${arch}-${store}`;
      const m = await runTrainStudent(await loadExperiment(await studentConfig(name, arch, store), [], ws.dir), {}, silentReporter);
      assert.equal(m.student.arch, arch);
      assert.deepEqual(m.student.sequence && [m.student.sequence.task, m.student.sequence.target, m.student.sequence.context, m.student.sequence.positions, m.student.sequence.vocab], ['causal-lm', 'next-token', 12, 11, 40]);
      assert.equal(m.inputs.store?.encoding.mode, store);
      const lines = await readMetrics(`runs/${name}`);
      assert.equal(lines.length, 2);
      for (const l of lines) {
        assert.equal(l.eval.role, 'validation');
        assert.ok(l.tokensPerSecond! > 0);
        assert.ok(l.eval.sequence!.positions > 0);
        // The tokens are random, so perplexity stays near the vocabulary (40); what the student learns is the teacher.
        assert.ok(l.eval.sequence!.perplexity > 20 && Number.isFinite(l.eval.sequence!.perplexity), `perplexity ${l.eval.sequence!.perplexity}`);
        assert.ok(l.eval.agreement !== null && l.eval.kl !== null && l.eval.kl >= 0);
      }
      assert.ok(lines[1]!.eval.kl! < lines[0]!.eval.kl!, `validation KL to the teacher ${lines[0]!.eval.kl} -> ${lines[1]!.eval.kl}`);
      assert.equal(m.test!.role, 'test');
      if (store === 'dense') assert.ok(m.test!.sequence!.teacherPerplexity! > 1);
      else assert.equal(m.test!.sequence!.teacherPerplexity, null);
      // The saved model reloads to a student with the same forward pass on the first rows.
      const reloaded = await loadSequenceStudent(join(ws.dir, `runs/${name}/model.json`), 'gather');
      const ids = tf.tensor2d(ws.ids.subarray(0, 24), [2, 12], 'int32');
      const mask = tf.tensor2d(Float32Array.from(ws.mask.subarray(0, 24)), [2, 12]);
      const z = reloaded.apply(ids, mask);
      assert.deepEqual(z.shape, [2, 12, 40]);
      assert.ok(z.dataSync().every(Number.isFinite));
      tf.dispose([ids, mask, z]);
      reloaded.dispose();
    });
  }
}

test('resume: 1 epoch then --resume to 2 gives the same weights and metrics as 2 epochs straight', async () => {
  const straight = await runTrainStudent(await loadExperiment(await studentConfig('straight', 'transformer', 'sampled'), [], ws.dir), {}, silentReporter);
  const cut = await studentConfig('cut', 'transformer', 'sampled');
  await runTrainStudent(await loadExperiment(cut, ['train.epochs=1'], ws.dir), {}, silentReporter);
  const resumed = await runTrainStudent(await loadExperiment(cut, [], ws.dir), { resume: true }, silentReporter);
  assert.equal(resumed.training.resumedFrom, 1);
  assert.equal(await sha256File(join(ws.dir, 'runs/cut/weights.bin')), await sha256File(join(ws.dir, 'runs/straight/weights.bin')));
  assert.equal(resumed.outputs.weightsSha256, straight.outputs.weightsSha256);
  const strip = (ls: EpochMetrics[]) => ls.map((l) => ({ ...l, trainSeconds: 0, examplesPerSecond: 0, tokensPerSecond: 0 }));
  assert.deepEqual(strip(await readMetrics('runs/cut')), strip(await readMetrics('runs/straight')));
});

test('CLI: a sequence run, then the same command again is up to date (exit 0, nothing retrained)', async () => {
  await studentConfig('cli', 'window-mlp', 'topk');
  const first = await runCli(['train-student', '-c', 'cli.json'], { cwd: ws.dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout + first.stderr, /training a window-mlp sequence student \(\d+ parameters, \d+ MACs\/token, gather embedding\) for causal-lm/);
  const model = JSON.parse(await readFile(join(ws.dir, 'runs/cli/model.json'), 'utf8')) as { format: string };
  assert.equal(model.format, 'distill-sequence-student');
  const again = await runCli(['train-student', '-c', 'cli.json'], { cwd: ws.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout + again.stderr, /is up to date/);
  assert.doesNotMatch(again.stdout + again.stderr, /epoch 1\//);
});

test('BAD CONFIG a top-k store captured at T 2 trained at T 1, and an mlp on a token dataset: refused before the first step', async () => {
  const runs = join(ws.dir, 'runs');
  const t1 = await studentConfig('bad-t', 'window-mlp', 'topk', { temperature: 1 });
  await assert.rejects(runTrainStudent(await loadExperiment(t1, [], ws.dir), {}, silentReporter), /train\.temperature is 1, but the top-k store .* was captured at temperature 2/);
  const mlp = await studentConfig('bad-arch', 'window-mlp', 'dense');
  const cfg = JSON.parse(await readFile(mlp, 'utf8')) as { student: Record<string, unknown> };
  cfg.student = { arch: 'mlp', hidden: [8], activation: 'relu', dropout: 0 };
  await writeFile(mlp, JSON.stringify(cfg));
  await assert.rejects(runTrainStudent(await loadExperiment(mlp, [], ws.dir), {}, silentReporter), /student\.arch is "mlp", but the dataset .* is a token dataset \(task causal-lm\)/);
  const m = JSON.parse(await readFile(join(runs, 'transformer-dense/run-manifest.json'), 'utf8')) as RunManifest;
  assert.equal(m.status, 'complete');
});
