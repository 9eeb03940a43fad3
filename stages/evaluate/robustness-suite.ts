import type { DatasetColumn } from '../../pipeline/dataset/dataset-manifest.ts';
import type { EvaluateSection } from '../../pipeline/config/experiment-config.ts';
import type { EngineSession } from '../../pipeline/engines/onnxruntime.ts';
import type { tf } from '../../pipeline/engines/tfjs.ts';
import { runOnnxModel } from '../../pipeline/eval/run-onnx-model.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { StudentRun } from '../../pipeline/student/resolve-student-run.ts';
import type { TeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import type { ClassScores } from './class-scores.ts';
import { headRows } from './class-scores.ts';
import { accuracy, top1Agreement } from './classification-metrics.ts';
import { CORRUPTION_KINDS, corruptImages, imageGeometry } from './corrupt-images.ts';
import type { CorruptionKind } from './corrupt-images.ts';
import { corruptVectors, featureStats, VECTOR_CORRUPTION_KINDS } from './corrupt-vectors.ts';
import type { VectorCorruptionKind } from './corrupt-vectors.ts';
import { featureKindOf } from './feature-kind.ts';
import type { FeatureKind } from './feature-kind.ts';
import { featureSizeOf } from '../../pipeline/dataset/feature-size.ts';
import type { EvaluateReport } from './evaluate-report.ts';
import type { CorruptionMeasurement, RobustnessKind } from './robustness-summary.ts';
import { robustnessSummary } from './robustness-summary.ts';
import { studentScores } from './student-scores.ts';

/** What the corruption suite runs on: both models, the clean rows and their clean scores. */
export interface RobustnessInputs {
  ev: EvaluateSection;
  seed: number;
  run: StudentRun;
  featureColumn: DatasetColumn;
  card: TeacherCard;
  teacherSession: EngineSession;
  student: tf.LayersModel;
  features: ReadonlyMap<string, NumericArray>;
  labels: Int32Array;
  rows: number;
  classes: number;
  teacherScores: ClassScores;
  studentScores: ClassScores;
  /** The feature's values on the train split (for the vector suite's per-feature statistics); read only when needed. */
  trainFeature: () => Promise<{ values: NumericArray; rows: number }>;
}

/** The suite of each feature kind: its corruption kinds (null: no suite yet). */
export const SUITES: Readonly<Record<FeatureKind, readonly RobustnessKind[] | null>> = {
  image: CORRUPTION_KINDS,
  vector: VECTOR_CORRUPTION_KINDS,
  tokens: null,
};

/** The kinds to run: evaluate.corruptions that belong to the feature's suite, or all of the suite by default. */
function kindsToRun(ev: EvaluateSection, suite: readonly RobustnessKind[]): RobustnessKind[] {
  return ev.corruptions === undefined ? [...suite] : ev.corruptions.filter((k): k is RobustnessKind => (suite as readonly string[]).includes(k));
}

/** Why the suite cannot run on these inputs, or null when it can. */
function skipReason(inp: RobustnessInputs, kind: FeatureKind): string | null {
  const { ev, run, card, featureColumn } = inp;
  const suite = SUITES[kind];
  if (!suite) return `robustness was not measured: feature "${run.feature}" holds ${kind}, which has no corruption suite yet`;
  if (ev.corruptions !== undefined && ev.corruptions.length === 0) return 'evaluate.corruptions is []';
  if (kindsToRun(ev, suite).length === 0) return `none of evaluate.corruptions (${ev.corruptions!.join(', ')}) applies to ${kind} features; their kinds are ${suite.join(', ')}`;
  const values = inp.features.get(run.feature);
  if (kind === 'image' && !(values instanceof Uint8Array)) return `feature "${run.feature}" is ${featureColumn.type}; the image corruption suite works on uint8 images`;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return `feature "${run.feature}" is ${featureColumn.type}; 64-bit integer features have no corruption suite`;
  if (!card.inputs.every((b) => b.column === run.feature)) {
    return `the teacher reads columns ${card.inputs.map((b) => b.column).join(', ')}; the corruption suite needs teacher and student to read the same feature column "${run.feature}"`;
  }
  return null;
}

/** The corruption function of the feature's suite: (kind, severity) -> corrupted copy of the first m rows. */
async function corruptorFor(inp: RobustnessInputs, kind: FeatureKind, m: number): Promise<(k: RobustnessKind, severity: number) => NumericArray> {
  const { run } = inp;
  const values = inp.features.get(run.feature)!;
  if (kind === 'image') {
    const geometry = imageGeometry(run.feature, inp.featureColumn.shape);
    const clean = values.subarray(0, m * geometry.height * geometry.width * geometry.channels) as Uint8Array;
    return (k, severity) => corruptImages(clean, geometry, { kind: k as CorruptionKind, severity, seed: inp.seed });
  }
  const width = featureSizeOf(inp.featureColumn);
  const train = await inp.trainFeature();
  const stats = featureStats(train.values, train.rows, width);
  const clean = values.subarray(0, m * width);
  return (k, severity) => corruptVectors(clean, m, stats, { kind: k as VectorCorruptionKind, severity, seed: inp.seed });
}

/**
 * Step 4 of evaluate: the robustness suite of the feature's kind (images: the image corruptions;
 * numeric vectors: noise, dropout and mean shift in train standard deviations) on the first
 * evaluate.corruptionRows rows: every kind at every severity (seeded), teacher and student accuracy and
 * their agreement, against the clean rows. A kind without a suite is reported as not measured.
 */
export async function measureRobustness(inp: RobustnessInputs, reporter: Reporter): Promise<EvaluateReport['robustness']> {
  const featureKind = featureKindOf(inp.featureColumn);
  const skipped = skipReason(inp, featureKind);
  if (skipped !== null) return { skipped, featureKind };
  const { ev, run, card, classes } = inp;
  const kinds = kindsToRun(ev, SUITES[featureKind]!);
  const m = Math.min(ev.corruptionRows, inp.rows);
  const corrupt = await corruptorFor(inp, featureKind, m);
  const cleanT = headRows(inp.teacherScores, m);
  const cleanS = headRows(inp.studentScores, m);
  const lab = inp.labels.subarray(0, m);
  const measurements: CorruptionMeasurement[] = [];
  const severities = [...ev.severities].sort((a, b) => a - b);
  const progress = reporter.progress(`${featureKind} corruption suite`, kinds.length * severities.length, 'passes');
  for (const kind of kinds) {
    for (const severity of severities) {
      const corrupted = corrupt(kind, severity);
      const cols = new Map<string, NumericArray>([[run.feature, corrupted]]);
      const s = studentScores(inp.student, corrupted, m, classes, run.inputScale, ev.batchSize);
      const t: ClassScores = { rows: m, classes, logits: await runOnnxModel(inp.teacherSession, card, cols, m, ev.batchSize) };
      measurements.push({ kind, severity, rows: m, teacherAccuracy: accuracy(t, lab), studentAccuracy: accuracy(s, lab), agreement: top1Agreement(s, t) });
      progress.tick(1);
    }
  }
  progress.done();
  const summary = robustnessSummary({ teacherAccuracy: accuracy(cleanT, lab), studentAccuracy: accuracy(cleanS, lab), agreement: top1Agreement(cleanS, cleanT) }, measurements);
  return { rows: m, seed: inp.seed, featureKind, kinds, severities, measurements, summary, skipped: null };
}
