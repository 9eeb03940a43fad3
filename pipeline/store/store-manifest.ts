/**
 * The manifest of a soft-target store (`<store>/manifest.json`, schemas/store-manifest.schema.json):
 * everything needed to decide later whether a cache still matches its dataset and teacher, and to
 * reproduce it. Written last and atomically by the teacher-logits stage; `status` is always
 * `"complete"` in a written manifest (an interrupted run leaves no manifest, only shards and their
 * part records).
 */
import type { TeacherLogitsSection } from '../config/experiment-config.ts';
import type { SoftwareProvenance } from '../provenance.ts';
import type { TeacherCard } from '../teacher/teacher-card.ts';
import type { StoreEncoding } from './soft-target-store.ts';

/** The manifest file name inside a store directory. */
export const STORE_MANIFEST = 'manifest.json';

/** The `kind` tag of a store manifest. */
export const STORE_KIND = 'distill.soft-targets';

/** One shard as recorded in the manifest. */
export interface StoreShardRecord {
  /** Shard index i within the split: it holds the rows [i*shardRows, min((i+1)*shardRows, rows)). */
  index: number;
  /** Path relative to the store directory, e.g. `train/part-00000.parquet`. */
  path: string;
  /** First global row of the split (inclusive). */
  rowStart: number;
  /** Last global row (exclusive). */
  rowEnd: number;
  /** File size in bytes. */
  bytes: number;
  /** sha256 (hex) of the file. */
  sha256: string;
  /** Row fingerprint (pipeline/dataset/row-fingerprint.ts) of the dataset rows [rowStart, rowEnd) the teacher read. */
  datasetFingerprint: string;
  /** Number of NaN/Inf values the teacher produced for these rows (before the nonFinite policy). */
  nonFinite: number;
  /** Global row indices with at least one NaN/Inf output (zeroed under the `zero` policy). */
  nonFiniteRows: number[];
  /** Per-position store: target positions (stored tokens) in the shard, padding excluded. */
  tokens?: number;
}

/** Throughput of one split or of the whole run. */
export interface StoreTiming {
  /** Wall-clock seconds spent in this run (skipped, resumed shards cost ~0). */
  seconds: number;
  /** Rows computed in this run (excludes shards skipped on resume). */
  rowsComputed: number;
  /** rowsComputed / seconds. */
  rowsPerSecond: number;
}

/** One captured split. */
export interface StoreSplit {
  /** Rows of the split (= the dataset split's rows). */
  rows: number;
  shards: StoreShardRecord[];
  /** Sum of the shards' nonFinite. */
  nonFinite: number;
  timing: StoreTiming;
}

/** How the teacher was run. */
export interface StoreRuntime {
  /** onnxruntime-node version. */
  onnxruntime: string;
  /** The execution provider that actually ran: `cpu` or `cuda:<id>`. */
  executionProvider: string;
  /** The device asked for: auto | cpu | cuda[:id]. */
  requestedDevice: string;
  /** ORT intra-op threads (0 = ORT's choice). */
  intraOpThreads: number;
  /** ORT graph optimisation level. */
  graphOptimization: string;
  /** Rows per session.run call. */
  batchSize: number;
}

/** The teacher a store was captured from. */
export interface StoreTeacher {
  /** sha256 (hex) of the ONNX file; equals card.sha256. */
  sha256: string;
  /** Teacher directory, relative to the workspace when inside it. */
  path: string;
  /** The teacher card as loaded (card.json). */
  card: TeacherCard;
  /** sha256 of card.json's bytes. */
  cardSha256: string;
  /**
   * Only when the top-k reduction was appended to the teacher's graph (`teacherLogits.reduceInGraph`):
   * the model ONNX Runtime actually ran, built in memory from the file of `sha256`.
   */
  graphReduction?: StoreGraphReduction;
}

/** The rewritten teacher of a graph-reduced top-k store (pipeline/teacher/top-k-graph.ts). */
export interface StoreGraphReduction {
  /** sha256 of the rewritten model's bytes (the original's is `teacher.sha256`). */
  sha256: string;
  /** Its size in bytes. */
  bytes: number;
  /** The teacher's ai.onnx opset, which decides the form of the appended nodes. */
  opsetVersion: number;
  /** Operator types of the appended nodes (Constant nodes left out), in order. */
  ops: string[];
}

/** The dataset a store was captured from. */
export interface StoreDataset {
  name: string;
  /** Dataset directory, relative to the workspace when inside it. */
  path: string;
  /** The captured splits: rows and content fingerprint (from the dataset manifest, checked on read). */
  splits: Record<string, { rows: number; fingerprint: string }>;
}

/** One worker's part of a store assembled by `distill finalize` (docs/scale-out.md). */
export interface StoreWorkerPart {
  /** Worker index i. */
  index: number;
  /** Its part manifest, relative to the store: `parts/worker-<i>-of-<N>.json`. */
  path: string;
  /** Host name of the process that wrote the part manifest. */
  host: string;
  /** Where the worker's index came from: flags, config, kubernetes or slurm. */
  source: string;
  /** How this worker ran the teacher. */
  runtime: StoreRuntime;
  software: SoftwareProvenance;
  startedAt: string;
  finishedAt: string;
  /** The worker's own run (rows it computed, its seconds). */
  timing: StoreTiming;
  /** Shards the worker owns. */
  shards: number;
}

/** How a store written by sharded workers was assembled; absent in a single-writer store. */
export interface StoreWorkers {
  /** Number of workers N. */
  count: number;
  /** One entry per worker, by index. */
  parts: StoreWorkerPart[];
}

/** manifest.json of a soft-target store. */
export interface StoreManifest {
  formatVersion: 1;
  kind: typeof STORE_KIND;
  status: 'complete';
  createdAt: string;
  teacher: StoreTeacher;
  dataset: StoreDataset;
  encoding: StoreEncoding;
  /** Shard file format. */
  format: 'parquet' | 'arrow';
  /** Rows per shard S. */
  shardRows: number;
  runtime: StoreRuntime;
  software: SoftwareProvenance;
  /** The resolved teacherLogits section of the experiment config that produced the store. */
  config: TeacherLogitsSection;
  /** The non-finite policy applied. */
  nonFinitePolicy: 'error' | 'zero';
  splits: Record<string, StoreSplit>;
  /**
   * Totals over the splits. In a store assembled by `distill finalize`: rows computed by all workers,
   * seconds of the slowest worker.
   */
  timing: StoreTiming;
  /** Present only in a store assembled from sharded workers by `distill finalize`. */
  workers?: StoreWorkers;
}
