/**
 * A workspace for `distill evaluate` / `distill export` on sequence students: a token dataset written
 * with the project's writer (train / validation / test, a char vocabulary with a space), the tiny
 * sequence teacher (real ONNX) with its card, an experiment config, and a trained student run folder
 * (model.json + weights.bin by saveSequenceStudent, run-manifest.json, metrics.jsonl,
 * config.resolved.json) as train-student writes one.
 *
 * The data follow the teacher, so its scores mean something: token classification labels are the
 * teacher's argmax at each letter with 10% of them replaced at random (spaces get -100, a word_final
 * slice marks the last letter of each word, a genre slice the row); causal-LM rows are sampled from
 * the teacher itself (the teacher is the true model of the text).
 *
 * The student is trained here on the wasm backend (one-hot embedding), hard labels only, by a plain
 * Adam loop; the experiments evaluate on wasm too. This stands in for
 * `distill train-student` on sequence stores until that is wired; swap `trainStudentRun` for a CLI
 * call then, the rest of the workspace stays.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StudentSection } from '../../pipeline/config/experiment-config.ts';
import type { TokenRow } from '../../pipeline/dataset/token-table.ts';
import { writeTokenDataset } from '../../pipeline/dataset/write-token-dataset.ts';
import { selectBackend, tf } from '../../pipeline/engines/tfjs.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { softwareProvenance } from '../../pipeline/provenance.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { buildSequenceStudent } from '../../pipeline/student/sequence/build-sequence-student.ts';
import { embeddingMethodFor } from '../../pipeline/student/sequence/embedding-block.ts';
import { saveSequenceStudent } from '../../pipeline/student/sequence/sequence-model-file.ts';
import { outputClasses } from '../../pipeline/student/sequence/sequence-student.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { makeTinySequenceTeacher, tinySequenceForward } from '../fixtures/tiny-sequence-teacher.ts';
import type { TinySequenceTeacher } from '../fixtures/tiny-sequence-teacher.ts';
import { tmpDir } from './tmp-dir.ts';

export type SequenceTask = 'token-classification' | 'causal-lm';

/** Sizes of the workspace. */
export interface SequenceEvalOptions {
  task: SequenceTask;
  /** Context L. Default 16. */
  context?: number;
  /** Letters besides <pad>, <unk> and the space. Default 17 (vocab 20). */
  letters?: number;
  /** Label classes of token classification. Default 5. */
  classes?: number;
  rows?: { train: number; validation: number; test: number };
}

/** What the workspace holds. */
export interface SequenceEvalWorkspace {
  dir: string;
  task: SequenceTask;
  context: number;
  vocab: number;
  classes: number;
  teacher: TinySequenceTeacher;
  /** Per split, the rows as written (real tokens only). */
  rows: Record<'train' | 'validation' | 'test', TokenRow[]>;
}

const SPACE = 2;

function argmax(v: Float32Array, from: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (v[from + c]! > v[from + best]!) best = c;
  return best;
}

/** Token-classification rows: words of 1..5 letters split by spaces, labels from the teacher (10% noise). */
function labelledRows(teacher: TinySequenceTeacher, n: number, L: number, vocab: number, C: number, rand: () => number): TokenRow[] {
  return Array.from({ length: n }, (_, r) => {
    const len = r % 4 === 0 ? L : 4 + Math.floor(rand() * (L - 4));
    const ids: number[] = [];
    const wordFinal: number[] = [];
    while (ids.length < len) {
      const w = 1 + Math.floor(rand() * 5);
      for (let k = 0; k < w && ids.length < len; k++) {
        ids.push(SPACE + 1 + Math.floor(rand() * (vocab - SPACE - 1)));
        wordFinal.push(0);
      }
      wordFinal[wordFinal.length - 1] = 1;
      if (ids.length < len) {
        ids.push(SPACE);
        wordFinal.push(0);
      }
    }
    const logits = tinySequenceForward(teacher.weights, ids, ids.map(() => 1), 1, ids.length);
    const labels = ids.map((id, t) => (id === SPACE ? -100 : rand() < 0.1 ? Math.floor(rand() * C) : argmax(logits, t * C, C)));
    return { inputIds: ids, labels, positionSlices: { word_final: wordFinal }, slices: { genre: ['news', 'fiction', 'science'][r % 3]! } };
  });
}

/** Causal-LM rows sampled token by token from the teacher (ids 3..vocab-1; pad, unk and space never drawn). */
function sampledRows(teacher: TinySequenceTeacher, n: number, L: number, vocab: number, rand: () => number): TokenRow[] {
  return Array.from({ length: n }, (_, r) => {
    const len = r % 3 === 0 ? L : 6 + Math.floor(rand() * (L - 6));
    const ids = [SPACE + 1 + Math.floor(rand() * (vocab - SPACE - 1))];
    while (ids.length < len) {
      const z = tinySequenceForward(teacher.weights, ids, ids.map(() => 1), 1, ids.length).subarray((ids.length - 1) * vocab);
      const p = Array.from(z, (v, id) => (id <= SPACE ? 0 : Math.exp(v)));
      let u = rand() * p.reduce((a, b) => a + b, 0);
      let next = SPACE + 1;
      for (let id = 0; id < vocab; id++) {
        u -= p[id]!;
        if (u <= 0 && p[id]! > 0) {
          next = id;
          break;
        }
      }
      ids.push(next);
    }
    return { inputIds: ids, slices: { genre: ['news', 'fiction'][r % 2]! } };
  });
}

/** Writes the dataset, the teacher and `exp.json` (train.run `runs/student`); no student yet. */
export async function sequenceEvalWorkspace(opts: SequenceEvalOptions): Promise<SequenceEvalWorkspace> {
  const dir = await tmpDir('distill-seqeval-');
  const L = opts.context ?? 16;
  const vocab = 3 + (opts.letters ?? 17);
  const classes = opts.task === 'causal-lm' ? vocab : (opts.classes ?? 5);
  const sizes = opts.rows ?? { train: 120, validation: 40, test: 40 };
  const teacher = makeTinySequenceTeacher({ vocab, classes, dim: 6, seed: 3, scale: 2 });
  const rand = mulberry32(11);
  const make = (n: number): TokenRow[] => (opts.task === 'causal-lm' ? sampledRows(teacher, n, L, vocab, rand) : labelledRows(teacher, n, L, vocab, classes, rand));
  const rows = { train: make(sizes.train), validation: make(sizes.validation), test: make(sizes.test) };
  const symbols = ['<pad>', '<unk>', ' ', ...Array.from({ length: vocab - 3 }, (_, i) => String.fromCharCode(97 + i))];
  const vocabBytes = new TextEncoder().encode(JSON.stringify({ kind: 'char', normalization: 'NFC', pad: '<pad>', unk: '<unk>', symbols }));
  await writeTokenDataset(
    join(dir, 'data/tokens'),
    { name: 'tokens', task: opts.task, context: L, stride: L, tokenizer: { kind: 'char', fileName: 'vocab.json', bytes: vocabBytes, vocabSize: vocab, normalization: 'NFC' }, splits: rows, ...(opts.task === 'token-classification' ? { classes } : {}), rowsPerFile: 64 },
    silentReporter,
  );
  const teacherDir = join(dir, 'teachers/tiny');
  await mkdir(teacherDir, { recursive: true });
  await writeFile(join(teacherDir, 'model.onnx'), teacher.bytes);
  await writeFile(
    join(teacherDir, 'card.json'),
    JSON.stringify({
      formatVersion: 1,
      name: 'tiny-sequence',
      task: opts.task,
      model: 'model.onnx',
      sha256: sha256Bytes(teacher.bytes),
      inputs: [
        { name: 'input_ids', column: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
        { name: 'attention_mask', column: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
      ],
      output: { name: 'logits', kind: 'logits', shape: ['batch', 'seq', classes] },
      classes: { count: classes },
      tokenizer: { kind: 'char', file: 'vocab.json', sha256: sha256Bytes(vocabBytes), vocabSize: vocab },
      context: 64,
    }),
  );
  return { dir, task: opts.task, context: L, vocab, classes, teacher, rows };
}

/** Writes `<ws>/<name>.json`: the experiment evaluating `runs/<run>` (evaluate section merged in). */
export async function writeSequenceEvalExperiment(ws: SequenceEvalWorkspace, name: string, student: StudentSection, run: string, evaluate: Record<string, unknown> = {}): Promise<string> {
  const file = join(ws.dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      name,
      seed: 5,
      dataset: { path: 'data/tokens', trainSplit: 'train', evalSplit: 'test', validation: 'validation' },
      teacher: { path: 'teachers/tiny' },
      teacherLogits: { store: `stores/${name}`, splits: ['train', 'validation', 'test'], shardRows: 64, batchSize: 16, device: 'cpu' },
      student,
      train: { run: `runs/${run}`, backend: 'wasm', epochs: 1, batchSize: 16, learningRate: 0.01, alpha: 1 },
      evaluate: { latencyRuns: 5, throughputBatches: 2, tokenCorruptionRows: 16, severities: [1, 3], ...evaluate },
    }),
  );
  return file;
}

/** Flat ids, mask and (next-token or token) labels of rows padded to L. */
function batchArrays(rows: readonly TokenRow[], L: number, task: SequenceTask): { ids: Int32Array; mask: Float32Array; labels: Int32Array } {
  const ids = new Int32Array(rows.length * L);
  const mask = new Float32Array(rows.length * L);
  const labels = new Int32Array(rows.length * L).fill(-100);
  rows.forEach((r, i) => {
    for (let t = 0; t < r.inputIds.length; t++) {
      ids[i * L + t] = r.inputIds[t]!;
      mask[i * L + t] = 1;
      if (task === 'token-classification') labels[i * L + t] = r.labels![t]!;
      else if (t + 1 < r.inputIds.length) labels[i * L + t] = r.inputIds[t + 1]!;
    }
  });
  return { ids, mask, labels };
}

/**
 * Trains a student on the train rows with hard labels (Adam, `steps` batches of 16; none for an
 * untrained student) and writes the run folder `runs/<run>` as train-student does.
 */
export async function trainStudentRun(ws: SequenceEvalWorkspace, run: string, section: StudentSection, steps: number, seed = 5): Promise<string> {
  const backend = await selectBackend('wasm');
  const L = ws.context;
  const causal = ws.task === 'causal-lm';
  const embedding = embeddingMethodFor('auto', backend.backend);
  const shape = { vocab: ws.vocab, ...(causal ? {} : { classes: ws.classes }), context: L, causal, seed, embedding };
  const student = buildSequenceStudent(section, shape);
  const C = outputClasses(shape);
  const optimizer = tf.train.adam(0.02);
  const rand = mulberry32(seed);
  const train = ws.rows.train;
  for (let step = 0; step < steps; step++) {
    const batch = Array.from({ length: 16 }, () => train[Math.floor(rand() * train.length)]!);
    const a = batchArrays(batch, L, ws.task);
    optimizer.minimize(() => {
      const logits = student.apply(tf.tensor2d(a.ids, [16, L], 'int32'), tf.tensor2d(a.mask, [16, L]));
      const weight = tf.tensor1d(Float32Array.from(a.labels, (y) => (y === -100 ? 0 : 1)));
      const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(a.labels, (y) => Math.max(y, 0)), 'int32'), C);
      const nll = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(tf.reshape(logits, [16 * L, C]))), 1));
      return tf.div(tf.sum(tf.mul(nll, weight)), tf.maximum(tf.sum(weight), 1)) as tf.Scalar;
    }, false, student.variables);
  }
  optimizer.dispose();
  const dir = join(ws.dir, 'runs', run);
  await mkdir(dir, { recursive: true });
  const saved = await saveSequenceStudent(student, section, dir);
  const now = new Date().toISOString();
  const config = { source: `${run}.json`, sourceSha256: '0'.repeat(64), overrides: [], resolvedSha256: '0'.repeat(64) };
  const split = (name: 'train' | 'validation' | 'test') => ({ rows: ws.rows[name].length, fingerprint: 'see the dataset manifest' });
  const metrics = { split: 'validation', role: 'validation' as const, rows: ws.rows.validation.length, accuracy: 0, ce: 0, agreement: null, kl: null, klTemperature: null, klAtT: null, loss: 0 };
  const manifest: RunManifest = {
    formatVersion: 1,
    kind: 'distill.student-run',
    status: 'complete',
    experiment: run,
    createdAt: now,
    finishedAt: now,
    config,
    inputs: { dataset: { name: 'tokens', path: 'data/tokens', splits: { train: split('train'), validation: split('validation'), test: split('test') } }, store: null },
    backend: { requested: backend.requested, backend: backend.backend, package: backend.package, version: backend.version, attempts: backend.attempts } as RunManifest['backend'],
    seeds: { master: seed, derivation: 'test helper' },
    student: {
      arch: section.arch,
      inputShape: [L],
      classes: C,
      params: student.params,
      forwardMacsPerExample: student.macsPerToken * L,
      feature: 'input_ids',
      inputScale: 1,
      sequence: { task: ws.task, target: causal ? 'next-token' : 'token', context: L, positions: causal ? L - 1 : L, vocab: C, inputVocab: ws.vocab, macsPerToken: student.macsPerToken, embedding },
    },
    training: { epochs: 1, rowsPerEpoch: steps * 16, batchSize: 16, optimizer: 'adam', learningRate: 0.02, temperature: 1, alpha: 1, tail: 'none', shuffleWindow: 0, readAhead: 0, steps, resumedFrom: null },
    epochs: [{ epoch: 1, trainSeconds: 0, evalSeconds: 0, examplesPerSecond: 0 }],
    final: { epoch: 1, trainLoss: 0, examples: steps * 16, trainSeconds: 0, examplesPerSecond: 0, eval: metrics },
    outputs: { model: saved.modelJson, weights: saved.weights, weightsSha256: saved.weightsSha256, metrics: 'metrics.jsonl', config: 'config.resolved.json', checkpoints: 'checkpoints' },
    software: { ...softwareProvenance(), tfjs: null, backendPackage: backend.package ?? 'none', backendVersion: backend.version ?? null } as RunManifest['software'],
  };
  student.dispose();
  await writeFile(join(dir, 'run-manifest.json'), JSON.stringify(manifest, null, 2));
  await writeFile(join(dir, 'metrics.jsonl'), `${JSON.stringify(manifest.final)}\n`);
  await writeFile(join(dir, 'config.resolved.json'), JSON.stringify({ student: section }));
  return dir;
}
