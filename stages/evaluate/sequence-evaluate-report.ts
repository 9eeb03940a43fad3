/** The shape of metrics.json for a token dataset (token classification or causal LM; docs/evaluation.md). */
import type { ExportParity } from '../../pipeline/export/check-export-parity.ts';
import type { OutputKey } from '../../pipeline/up-to-date.ts';
import type { DiacriticErrorRates } from './diacritic-error-rates.ts';
import type { ModelCost } from './evaluate-report.ts';
import type { SequenceReport } from './sequence-report.ts';
import type { TokenModelMetrics } from './token-metrics.ts';
import type { TokenRobustness } from './token-robustness.ts';

/** The hard-label baseline student on the same test positions. */
export interface SequenceBaselineMetrics {
  tokens: TokenModelMetrics;
  /** Top-1 agreement with the teacher per position. */
  agreement: number;
  /** DER/WER (token classification with words). */
  diacritics?: DiacriticErrorRates;
}

/** Where the cascade thresholds were chosen. */
export interface SequenceSelection {
  on: 'validation' | 'test';
  split: string;
  rows: number;
  description: string;
}

/** metrics.json of a sequence evaluation. */
export interface SequenceEvaluateReport {
  formatVersion: 1;
  kind: 'distill.evaluation';
  /** Tells this report from a classification one (which has no `report` field). */
  report: 'sequence';
  task: 'token-classification' | 'causal-lm';
  experiment: string;
  createdAt: string;
  inputs: {
    dataset: { path: string; split: string; rows: number; splitRows: number; fingerprint: string; context: number; positions: number };
    teacher: { path: string; name: string; sha256: string };
    student: { run: string; modelJson: string; arch: string; params: number; macsPerToken: number; tfjsBackend: string };
    baseline: { run: string; modelJson: string } | null;
  };
  /** The figures a reader wants first (token-level unless named otherwise). */
  headline: {
    teacherAccuracy: number;
    studentAccuracy: number;
    baselineAccuracy: number | null;
    teacherPerplexity: number;
    studentPerplexity: number;
    agreement: number;
    klTeacherStudent: number;
    studentEce: number;
    /** Diacritisation: DER of each model (null otherwise). */
    teacherDer: number | null;
    studentDer: number | null;
    baselineDer: number | null;
    /** Share of the student's extra letter errors (vs the teacher) that sit on case endings; null without words or without a gap. */
    caseEndingGapShare: number | null;
    /** Student's mean token-accuracy drop under perturbation / the teacher's (null when not measured). */
    degradationRatio: number | null;
    /** Teacher p50 latency / student p50 latency at batch 1 (one row); null without an export. */
    latencySpeedup: number | null;
    throughputRatio: number | null;
    sizeRatio: number | null;
  };
  /** Token metrics, slices, diacritisation and LM sections (sequence-report.ts), on test; cascades chosen on `selection`. */
  sequence: SequenceReport;
  /** Slice columns not broken down (too many distinct values). */
  slicesSkipped: { column: string; values: number }[];
  selection: SequenceSelection;
  baseline: SequenceBaselineMetrics | null;
  robustness: TokenRobustness;
  speed: {
    device: string;
    executionProvider: string;
    intraOpThreads: number;
    graphOptimization: string;
    onnxruntime: string;
    /** Tokens per row (the context L): throughput in rows/s times this is tokens/s. */
    tokensPerRow: number;
    teacher: ModelCost;
    /** null when the student has no ONNX export (see `export`). */
    student: (ModelCost & { tfjsBytes: number }) | null;
  };
  export: { exportable: true; path: string; sha256: string; parity: ExportParity } | { exportable: false; reason: string };
  limits: string[];
  outputs: { metrics: string; markdown: string; html: string };
  key?: OutputKey;
}

/** Whether a parsed metrics.json is a sequence report. */
export function isSequenceEvaluateReport(r: unknown): r is SequenceEvaluateReport {
  return typeof r === 'object' && r !== null && (r as { report?: unknown }).report === 'sequence';
}
