/** The shape of metrics.json: everything the evaluate stage measured (docs/evaluation.md). */
import type { CascadeResult, CascadeSelection } from './cascade-curve.ts';
import type { OutputKey } from '../../pipeline/up-to-date.ts';
import type { FeatureKind } from './feature-kind.ts';
import type { CorruptionMeasurement, RobustnessKind, RobustnessSummary } from './robustness-summary.ts';
import type { Calibration } from './expected-calibration-error.ts';
import type { ErrorAttribution } from './error-attribution.ts';
import type { ClassAccuracy } from './per-class-accuracy.ts';
import type { SliceMetrics } from './slice-metrics.ts';
import type { OnnxTiming } from './time-onnx-model.ts';
import type { ExportParity } from '../../pipeline/export/check-export-parity.ts';

/** Metrics of one model on the clean eval rows. */
export interface ModelMetrics {
  /** Top-1 accuracy, 0..1. */
  accuracy: number;
  /** Mean negative log-likelihood of the labels, nats. */
  nll: number;
  /** ECE (15 bins) and the reliability diagram. */
  calibration: Calibration;
}

/** Speed and size of one model. */
export interface ModelCost {
  /** ONNX file timed. */
  file: string;
  fileBytes: number;
  /** Floating-point parameters. */
  parameters: number;
  timing: OnnxTiming;
}

/** metrics.json of an evaluation. */
export interface EvaluateReport {
  formatVersion: 1;
  kind: 'distill.evaluation';
  experiment: string;
  createdAt: string;
  inputs: {
    dataset: { path: string; split: string; rows: number; splitRows: number; fingerprint: string };
    teacher: { path: string; name: string; sha256: string };
    student: { run: string; modelJson: string; feature: string; inputScale: number; tfjsBackend: string };
    baseline: { run: string; modelJson: string } | null;
  };
  /** The figures a reader wants first. */
  headline: {
    teacherAccuracy: number;
    studentAccuracy: number;
    baselineAccuracy: number | null;
    agreement: number;
    meanKl: number;
    studentEce: number;
    /** Student's mean accuracy drop under corruption / the teacher's (null when not measured). */
    degradationRatio: number | null;
    cascadeTau: number | null;
    cascadeDeferredShare: number;
    cascadeAccuracy: number;
    /** Teacher p50 latency / student p50 latency at batch 1. */
    latencySpeedup: number;
    /** Student throughput / teacher throughput at batch 256. */
    throughputRatio: number;
    /** Teacher ONNX bytes / student ONNX bytes. */
    sizeRatio: number;
  };
  models: { teacher: ModelMetrics; student: ModelMetrics; baseline: (ModelMetrics & { agreement: number }) | null };
  agreement: { top1: number; meanKl: number; klTemperature: 1 };
  perClass: ClassAccuracy[];
  errors: ErrorAttribution;
  slices: SliceMetrics[];
  robustness:
    | { rows: number; seed: number; featureKind: FeatureKind; kinds: RobustnessKind[]; severities: number[]; measurements: CorruptionMeasurement[]; summary: RobustnessSummary; skipped: null }
    | { skipped: string; featureKind: FeatureKind };
  /** The test split's cascade sweep; operatingPoint: the tau chosen on `selection`'s rows, scored on test. */
  cascade: CascadeResult & { targetRule: string; selection: CascadeSelection };
  speed: {
    device: string;
    executionProvider: string;
    intraOpThreads: number;
    graphOptimization: string;
    onnxruntime: string;
    teacher: ModelCost;
    student: ModelCost & { tfjsBytes: number };
  };
  export: { path: string; sha256: string; parity: ExportParity };
  /** The plain statement of the student's limits, one sentence per item. */
  limits: string[];
  outputs: { metrics: string; markdown: string; html: string };
  /** What the report was computed from (config, inputs, code): the same key again is up to date (pipeline/up-to-date.ts). */
  key?: OutputKey;
}
