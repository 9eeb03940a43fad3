import type { BackendChoice } from '../engines/tfjs.ts';
import type { SoftwareProvenance } from '../provenance.ts';
import type { StoreEncoding } from '../store/soft-target-store.ts';
import type { ValidationRecord } from '../config/validation-rows.ts';
import type { EpochRecord } from './checkpoint.ts';

/** The run manifest's file name inside a run folder. */
export const RUN_MANIFEST = 'run-manifest.json';

/** Per-epoch evaluation of the student on one split. */
export interface SplitMetrics {
  split: string;
  /** validation: rows choices are made on (dataset.validation); test: dataset.evalSplit. Absent in runs before validation existed. */
  role?: 'validation' | 'test';
  rows: number;
  /** Share of rows whose argmax equals the label. */
  accuracy: number;
  /** Mean hard-label cross-entropy (T = 1). */
  ce: number;
  /** Top-1 agreement with the teacher; null without cached targets for the split. */
  agreement: number | null;
  /** Mean KL(teacher || student) at `klTemperature` (1 for dense targets); null without targets. */
  kl: number | null;
  klTemperature: number | null;
  /** Mean KL(p_t^T || p_s^T) at the training temperature T (the distillation term without its weight); null without targets. */
  klAtT: number | null;
  /** The training objective on this split: alpha * ce + (1 - alpha) * T^2 * klAtT (ce alone when alpha = 1 or no targets). */
  loss: number;
  /**
   * Sequence students only: per-token metrics over target positions (rows above stay dataset rows;
   * accuracy and ce are then per labelled position). Absent for classification runs.
   */
  sequence?: SequenceSplitMetrics;
}

/** Per-token metrics of a sequence student on one split (target positions only; padding never counts). */
export interface SequenceSplitMetrics {
  /** Target positions scored (weight 1). */
  positions: number;
  /** Of them, positions with a hard label (token classification leaves spaces unlabelled); accuracy and NLL are over these. */
  labelled: number;
  /** Mean per-token NLL of the student's hard label (nats) and exp of it. */
  nll: number;
  perplexity: number;
  /** The teacher's, from a dense cache; null otherwise. */
  teacherNll: number | null;
  teacherPerplexity: number | null;
}

/** What a sequence student was built for (run-manifest.json `student.sequence`). */
export interface SequenceStudentRecord {
  task: 'token-classification' | 'causal-lm';
  /** token: position t is labelled; next-token: position t predicts token t + 1. */
  target: 'token' | 'next-token';
  /** Context L (tokens per row) and P target positions per row. */
  context: number;
  positions: number;
  /** Output classes per position: the vocabulary (causal LM) or the label classes (token classification). */
  vocab: number;
  /** Input vocabulary (token ids lie in [0, inputVocab)). */
  inputVocab: number;
  macsPerToken: number;
  /** How ids were looked up when training. */
  embedding: 'gather' | 'one-hot';
}

/** One line of metrics.jsonl: an epoch's training loss and evaluation. */
export interface EpochMetrics {
  epoch: number;
  /** Mean of the training objective over the epoch's steps. */
  trainLoss: number;
  /** Training examples seen this epoch. */
  examples: number;
  trainSeconds: number;
  examplesPerSecond: number;
  /** Sequence students: real (unpadded) tokens trained on per second. */
  tokensPerSecond?: number;
  eval: SplitMetrics;
}

/** Which epoch's weights a run kept, and on which rows that was decided. */
export interface EpochSelection {
  rule: 'last' | 'best';
  metric: 'loss' | 'accuracy';
  /** The rows the per-epoch metrics were measured on (validation, or the test split when the config names no validation). */
  on: string;
  /** The epoch whose weights are saved. */
  epoch: number;
  patience: number | null;
  stoppedEarly: boolean;
}

/** run-manifest.json of a student run (schemas/run-manifest.schema.json). */
export interface RunManifest {
  formatVersion: 1;
  kind: 'distill.student-run';
  status: 'complete';
  experiment: string;
  createdAt: string;
  finishedAt: string;
  /** The config: source file, its sha256, overrides, and the sha256 of config.resolved.json's config. */
  config: { source: string; sourceSha256: string; overrides: string[]; resolvedSha256: string };
  inputs: {
    dataset: { name: string; path: string; splits: Record<string, { rows: number; fingerprint: string }> };
    /** null for a hard-label baseline run without a store. */
    store: { path: string; manifestSha256: string; teacherSha256: string; encoding: StoreEncoding; splits: Record<string, { rows: number; fingerprint: string }> } | null;
  };
  /** How the tfjs backend was chosen (attempts in order). */
  backend: Omit<BackendChoice, 'notice'>;
  /** Master seed; init, shuffle and dropout seeds derive from it (pipeline/seeded-random.ts). */
  seeds: { master: number; derivation: string };
  student: { arch: string; inputShape: number[]; classes: number; params: number; forwardMacsPerExample: number; feature: string; inputScale: number; sequence?: SequenceStudentRecord };
  training: {
    epochs: number;
    rowsPerEpoch: number;
    batchSize: number;
    optimizer: string;
    learningRate: number;
    temperature: number;
    alpha: number;
    tail: string;
    shuffleWindow: number;
    readAhead: number;
    steps: number;
    /** Epoch the run resumed after (its checkpoint), or null for an uninterrupted run. */
    resumedFrom: number | null;
  };
  epochs: EpochRecord[];
  /** The last epoch's metrics. */
  final: EpochMetrics;
  /** The validation rows (dataset.validation); null when the config names none. Absent in older runs. */
  validation?: ValidationRecord | null;
  /** Which epoch's weights were kept. Absent in older runs (the last epoch). */
  selection?: EpochSelection;
  /** The kept weights scored once on the test split (dataset.evalSplit), after training. Absent in older runs (final.eval was the test split). */
  test?: SplitMetrics;
  outputs: { model: string; weights: string; weightsSha256: string; metrics: string; config: string; checkpoints: string };
  software: SoftwareProvenance & { tfjs: string | null; backendPackage: string; backendVersion: string | null };
}
