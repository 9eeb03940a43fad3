/**
 * The typed shape of an experiment config (schemas/experiment.schema.json is the source of truth
 * for validation and defaults; these types mirror it after defaults are applied).
 */

/** Which dataset the experiment uses. */
export interface DatasetSection {
  /** Dataset directory holding manifest.json. */
  path: string;
  /** Split the student trains on. Default "train". */
  trainSplit: string;
  /** The test split: scored once at the end of training and in the report; nothing is chosen on it. Default "test". */
  evalSplit: string;
  /**
   * The validation rows every choice is made on (per-epoch metrics, best epoch, early stopping, the
   * cascade threshold): an existing split's name, or a seeded carve-out of the train split (those rows
   * are left out of training). Default: none (per-epoch metrics then fall back on evalSplit, labelled so).
   */
  validation?: ValidationSection;
}

/** `dataset.validation`: a split name, or a carve-out of `fraction` or `rows` train rows (drawn with the experiment seed). */
export type ValidationSection = string | { fraction?: number; rows?: number };

/** The teacher: a directory with card.json and the ONNX file it names. */
export interface TeacherSection {
  path: string;
}

/** Soft-target encoding of a store. */
export interface EncodingSection {
  /**
   * dense: all C logits per row (position); topk: the k largest plus the tail's logsumexp; sampled: N
   * draws from softmax(z / T) as distinct classes + counts. Default dense.
   */
  mode: 'dense' | 'topk' | 'sampled';
  /** Stored float precision. Default float32. */
  precision: 'float32' | 'float16';
  /** Classes kept per row (topk). Default 5. */
  k: number;
  /** Capture temperature of the top-k tail mass and of the sampled distribution. Default 1. */
  temperature: number;
  /** sampled: draws N per position. Default 12. */
  samples?: number;
  /** sampled: seed of the counter-based draws keyed by (seed, split, row, position). Default 0. */
  seed?: number;
  /** dense: the largest store (bytes of logits over all captured splits) the stage writes; above it, it refuses. Default 4 GiB. */
  denseMaxBytes?: number;
}

/** How the teacher-logits stage runs and stores. */
export interface TeacherLogitsSection {
  /** Output directory of the store. */
  store: string;
  /** Splits to capture. Default ["train", "test"]. */
  splits: string[];
  /** Shard format. Default parquet. */
  format: 'parquet' | 'arrow';
  encoding: EncodingSection;
  /** Rows per shard. Default 10000. */
  shardRows: number;
  /** Rows per ONNX Runtime call. Default 256. */
  batchSize: number;
  /**
   * Sequence teachers: choose the rows per ONNX Runtime call from a memory budget instead of
   * `batchSize`: max(1, floor(maxBatchBytes / (L * V * 4))), L * V * 4 bytes being one row of the
   * float32 [B, L, V] output. Bytes. Default: absent (batchSize is used).
   */
  maxBatchBytes?: number;
  /**
   * Top-k stores: append the reduction (TopK, / T_c, ReduceLogSumExp) to the teacher's graph, so ONNX
   * Runtime returns only ids, logits and tail log-sum-exps (docs/store-format.md). Default false (the
   * host reduces the full output; applied by the stage, not written into the resolved config).
   */
  reduceInGraph?: boolean;
  /** auto | cpu | cuda[:id]. Default auto. */
  device: string;
  /** ORT intra-op threads, 0 = ORT's choice. Default 0. */
  intraOpThreads: number;
  /** ORT graph optimisation level. Default all. */
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  /** NaN/Inf policy. Default error. */
  nonFinite: 'error' | 'zero';
  /** Augmented views per row (docs/store-format.md, View stores). Default: absent (one unaugmented target per row). */
  views?: ViewsSection;
  /**
   * Sharded workers (docs/scale-out.md). Default: absent, which is a single writer unless
   * `--num-shards`/`--shard-index` or the launching engine's environment say otherwise.
   */
  workers?: WorkersSection;
}

/** `teacherLogits.views`: K views per row from a seeded augmentation policy, exactly one of `image` or `noise`. */
export interface ViewsSection {
  /** Views K per row, view 0 (unaugmented) included; >= 2. */
  count: number;
  /** Seed of the view parameters (keyed by seed, split, row, view). Default 0. */
  seed: number;
  /** Image views: largest shift (integer pixels, default 0), rotation (degrees, default 0), relative zoom (default 0). */
  image?: { shift: number; rotation: number; scale: number };
  /** Float-vector views: Gaussian noise of standard deviation `sd` (column units). */
  noise?: { sd: number };
}

/** `teacherLogits.workers`: this process as one of N workers of a sharded teacher-logits run. */
export interface WorkersSection {
  /** Number of workers N (>= 1). Default: `--num-shards`, else the environment (DISTILL_NUM_SHARDS, the Slurm array size). */
  count?: number;
  /** This worker's index, 0..N-1. Default: `--shard-index`, else the environment (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID). */
  index?: number;
  /** Which launching engine's environment to read: auto (either), none, kubernetes, slurm. Default auto. */
  environment: 'auto' | 'none' | 'kubernetes' | 'slurm';
}

/** One conv block of a cnn student. */
export interface ConvBlock {
  filters: number;
  /** Square kernel size. Default 3. */
  kernel: number;
  /** Follow with 2x2 max-pooling. Default true. */
  pool: boolean;
}

/** Student architectures over fixed features (classification). */
export type FeatureArch = 'mlp' | 'cnn';

/** Student architectures over token sequences (docs/training.md, "Sequence students"). */
export type SequenceArch = 'embedding' | 'window-mlp' | 'gru' | 'lstm' | 'transformer';

/** The student architecture. */
export interface StudentSection {
  arch: FeatureArch | SequenceArch;
  /** Dense hidden sizes. Default [128]. */
  hidden: number[];
  /** Default relu. */
  activation: 'relu' | 'tanh' | 'elu' | 'sigmoid';
  /** Dropout rate after each hidden layer. Default 0. */
  dropout: number;
  /** cnn conv blocks. Default []. */
  conv: ConvBlock[];
  /** Dataset feature column the student reads. Default: the dataset's only feature column (an error when there are several). */
  feature?: string;
  /** Factor applied to the feature values. Default 1/255 for uint8 features (pixels to [0, 1]), else 1. */
  inputScale?: number;
  // Sequence-student fields are optional here and defaulted by stages/train-student (not by the
  // schema), so the resolved configs of feature students stay as they were.
  /** Sequence students: width of the token vectors and hidden states. Default 128. */
  dModel?: number;
  /** Sequence students: transformer blocks or stacked recurrent layers. Default 2. */
  layers?: number;
  /** transformer: attention heads (dModel must be a multiple). Default 4. */
  heads?: number;
  /** transformer: MLP width as a multiple of dModel. Default 4. */
  mlpRatio?: number;
  /** window-mlp: tokens seen per position (causal: this token and window-1 before; else window on each side). Default 4. */
  window?: number;
  /** gru/lstm: read both directions (token classification only; a causal LM must not see the future). Default false. */
  bidirectional?: boolean;
  /** Token lookup: auto (one-hot matmul on wasm, gather elsewhere), gather, one-hot. Default auto. */
  embedding?: 'auto' | 'gather' | 'one-hot';
  /** transformer: rows of the learned position table. Default: the dataset's context L. */
  context?: number;
}

/** Student training. */
export interface TrainSection {
  /** Output directory of the run. */
  run: string;
  /** Default auto. */
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  /** Default 5. */
  epochs: number;
  /** Default 128. */
  batchSize: number;
  /** Default adam. */
  optimizer: 'adam' | 'sgd' | 'momentum';
  /** Default 0.001. */
  learningRate: number;
  /** Distillation temperature T. Default 4. */
  temperature: number;
  /** Hard-label weight; 1 = hard-label baseline. Default 0.1. */
  alpha: number;
  /** Top-k tail rule. Default bucket. */
  tail: 'bucket' | 'uniform';
  /** Train on the first N rows only. */
  limitRows?: number;
  /** Batches decoded ahead. Default 2. */
  readAhead: number;
  /** Shards whose rows are shuffled together (each epoch: shard order permuted, rows permuted within windows of this many shards). Default 2. */
  shuffleWindow: number;
  /** Rows per forward pass in the per-epoch evaluation. Default 1000. */
  evalBatchSize: number;
  /** Which epoch's weights the run keeps: the last one, or the best on validation (needs dataset.validation). Default last. */
  selectEpoch: 'last' | 'best';
  /** Validation metric that ranks epochs (best epoch, early stopping): the training objective (lower wins) or accuracy. Default loss. */
  selectMetric: 'loss' | 'accuracy';
  /**
   * With a view store: which targets the epoch's drawn view trains against: `consistent` (that view's)
   * or `view0` (the unaugmented view's: the inconsistent baseline). Default consistent (applied by the stage).
   */
  viewTargets?: 'consistent' | 'view0';
  /** Early stopping: stop after this many epochs without a better validation metric (needs dataset.validation). Default: none. */
  patience?: number;
}

/** The evaluate stage and the ONNX export (docs/evaluation.md). */
export interface EvaluateSection {
  /** Report folder (metrics.json, report.md, report.html). Default `<train.run>/report`. */
  report?: string;
  /** Folder of the exported student (model.onnx + card.json). Default `<train.run>/export`. */
  export?: string;
  /** Run folder of a hard-label baseline student (train.alpha = 1), reported next to the distilled one. Default none. */
  baselineRun?: string;
  /** Corruption kinds to run, of the feature kind's suite (images or numeric vectors); [] skips robustness. Default: every kind of the suite. */
  corruptions?: (
    | 'gaussian-noise' | 'shift' | 'rotation' | 'blur' | 'contrast'
    | 'feature-noise' | 'feature-dropout-zero' | 'feature-dropout-mean' | 'mean-shift'
    | 'substitute' | 'delete' | 'insert' | 'unseen' | 'truncate' | 'confusable' | 'normalise-alef' | 'normalise-ya' | 'normalise-ta-marbuta' | 'drop-space' | 'split-word' | 'partial-diacritics'
  )[];
  /** Severities 1..5 run for each kind. Default [1, 2, 3, 4, 5]. */
  severities: number[];
  /** Rows (the first N of the eval split) the corruption suite runs on. Default 2000. */
  corruptionRows: number;
  /** Rows (the first N of the eval split) the token robustness suite runs on (token datasets). Default 128. */
  tokenCorruptionRows: number;
  /** Accuracy (0..1) the cascade must reach. Default: the teacher's accuracy minus 0.001. */
  cascadeTarget?: number;
  /** Evaluate on the first N rows of the eval split only. Default all. */
  limitRows?: number;
  /** Rows per forward pass of teacher and student. Default 256. */
  batchSize: number;
  /** ONNX Runtime device of the teacher and the exported student (predictions and timing). Default cpu. */
  device: string;
  /** ORT intra-op threads of both sessions, 0 = ORT's choice. Default 1. */
  intraOpThreads: number;
  /** Timed batch-1 runs per model (after 20 warm-up runs). Default 200. */
  latencyRuns: number;
  /** Timed batches of 256 rows per model (after 2 warm-up batches). Default 20. */
  throughputBatches: number;
}

/** A validated experiment config with defaults applied. Frozen. */
export interface ExperimentConfig {
  name: string;
  description?: string;
  /** Default 1. */
  seed: number;
  dataset: DatasetSection;
  teacher?: TeacherSection;
  teacherLogits?: TeacherLogitsSection;
  student?: StudentSection;
  train?: TrainSection;
  /** The evaluate stage and the export; absent means every default. */
  evaluate?: EvaluateSection;
}
