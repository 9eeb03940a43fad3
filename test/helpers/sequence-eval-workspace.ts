/**
 * A workspace for `distill evaluate` / `distill export` on sequence students: a token dataset written
 * with the project's writer (train / validation / test, a char vocabulary with a space), the tiny
 * sequence teacher (real ONNX) with its card, experiment configs, and trained student runs: a dense
 * per-position store captured by teacher-logits, then train-student (both stages called in process,
 * as the CLI would run them).
 *
 * The data follow the teacher, so its scores mean something: token classification labels are the
 * teacher's argmax at each letter with 10% of them replaced at random (spaces get -100, a word_final
 * slice marks the last letter of each word, a genre slice the row); causal-LM rows are sampled from
 * the teacher itself (the teacher is the true model of the text).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StudentSection } from '../../pipeline/config/experiment-config.ts';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import type { TokenRow } from '../../pipeline/dataset/token-table.ts';
import { writeTokenDataset } from '../../pipeline/dataset/write-token-dataset.ts';
import { inProcessSessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { runTeacherLogits } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { runTrainStudent } from '../../stages/train-student/run-train-student.ts';
import { makeTinySequenceTeacher, tinySequenceForward } from '../fixtures/tiny-sequence-teacher.ts';
import type { TinySequenceTeacher } from '../fixtures/tiny-sequence-teacher.ts';
import { tmpDir } from './tmp-dir.ts';
import { writeSequenceTeacherFiles } from './write-sequence-teacher-files.ts';

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
  await writeSequenceTeacherFiles(join(dir, 'teachers/tiny'), 'tiny-sequence', opts.task, teacher.bytes, classes, {
    tokenizer: { kind: 'char', file: 'vocab.json', sha256: sha256Bytes(vocabBytes), vocabSize: vocab },
    context: 64,
  });
  return { dir, task: opts.task, context: L, vocab, classes, teacher, rows };
}

/** A student section of the config (the feature-student fields at their defaults). */
export type SequenceStudentSection = Pick<StudentSection, 'arch'> & Partial<StudentSection>;

/**
 * Writes `<ws>/<name>.json`: a dense store of train / validation / test (`stores/dense`, shared by the
 * workspace's experiments), a student trained into `runs/<name>` on the wasm backend (`train` merged
 * in), and the evaluate section (`evaluate` merged in: light timing, the token suite on 16 rows at
 * severities 1 and 3).
 */
export async function writeSequenceEvalExperiment(ws: SequenceEvalWorkspace, name: string, student: SequenceStudentSection, opts: { train?: Record<string, unknown>; evaluate?: Record<string, unknown> } = {}): Promise<string> {
  const file = join(ws.dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      name,
      seed: 5,
      dataset: { path: 'data/tokens', trainSplit: 'train', evalSplit: 'test', validation: 'validation' },
      teacher: { path: 'teachers/tiny' },
      teacherLogits: { store: 'stores/dense', splits: ['train', 'validation', 'test'], encoding: { mode: 'dense', precision: 'float32' }, shardRows: 64, batchSize: 16, device: 'cpu' },
      student: { hidden: [], activation: 'relu', dropout: 0, ...student },
      train: { run: `runs/${name}`, backend: 'wasm', epochs: 4, batchSize: 16, learningRate: 0.02, temperature: 2, alpha: 0.5, ...opts.train },
      evaluate: { latencyRuns: 5, throughputBatches: 2, tokenCorruptionRows: 16, severities: [1, 3], ...opts.evaluate },
    }),
  );
  return file;
}

/**
 * Captures the store of `<name>.json` (up to date after the first experiment of a workspace) and
 * trains its student with train-student; returns the run manifest.
 */
export async function trainStudentRun(ws: SequenceEvalWorkspace, name: string): Promise<RunManifest> {
  const exp = await loadExperiment(join(ws.dir, `${name}.json`), [], ws.dir);
  await runTeacherLogits(exp, { sessionFactory: inProcessSessionFactory }, silentReporter);
  return runTrainStudent(exp, {}, silentReporter);
}
