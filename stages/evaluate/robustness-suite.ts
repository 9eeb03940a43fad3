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
import { corruptImages, imageGeometry } from './corrupt-images.ts';
import type { EvaluateReport } from './evaluate-report.ts';
import type { CorruptionMeasurement } from './robustness-summary.ts';
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
}

/** Why the suite cannot run on these inputs, or null when it can. */
function skipReason(inp: RobustnessInputs): string | null {
  const { ev, run, card, featureColumn } = inp;
  if (ev.corruptions.length === 0) return 'evaluate.corruptions is []';
  if (!(inp.features.get(run.feature) instanceof Uint8Array)) return `feature "${run.feature}" is ${featureColumn.type}; the corruption suite works on uint8 images`;
  if (!card.inputs.every((b) => b.column === run.feature)) {
    return `the teacher reads columns ${card.inputs.map((b) => b.column).join(', ')}; the corruption suite needs teacher and student to read the same image column "${run.feature}"`;
  }
  return null;
}

/**
 * Step 4 of evaluate: the corruption suite on the first evaluate.corruptionRows rows: every kind at
 * every severity (seeded), teacher and student accuracy and their agreement, against the clean rows.
 */
export async function measureRobustness(inp: RobustnessInputs, reporter: Reporter): Promise<EvaluateReport['robustness']> {
  const skipped = skipReason(inp);
  if (skipped !== null) return { skipped };
  const { ev, run, card, classes } = inp;
  const geometry = imageGeometry(run.feature, inp.featureColumn.shape);
  const m = Math.min(ev.corruptionRows, inp.rows);
  const clean = inp.features.get(run.feature)!.subarray(0, m * geometry.height * geometry.width * geometry.channels) as Uint8Array;
  const cleanT = headRows(inp.teacherScores, m);
  const cleanS = headRows(inp.studentScores, m);
  const lab = inp.labels.subarray(0, m);
  const measurements: CorruptionMeasurement[] = [];
  const severities = [...ev.severities].sort((a, b) => a - b);
  const progress = reporter.progress('corruption suite', ev.corruptions.length * ev.severities.length, 'passes');
  for (const kind of ev.corruptions) {
    for (const severity of severities) {
      const corrupted = corruptImages(clean, geometry, { kind, severity, seed: inp.seed });
      const cols = new Map<string, NumericArray>([[run.feature, corrupted]]);
      const s = studentScores(inp.student, corrupted, m, classes, run.inputScale, ev.batchSize);
      const t: ClassScores = { rows: m, classes, logits: await runOnnxModel(inp.teacherSession, card, cols, m, ev.batchSize) };
      measurements.push({ kind, severity, rows: m, teacherAccuracy: accuracy(t, lab), studentAccuracy: accuracy(s, lab), agreement: top1Agreement(s, t) });
      progress.tick(1);
    }
  }
  progress.done();
  const summary = robustnessSummary({ teacherAccuracy: accuracy(cleanT, lab), studentAccuracy: accuracy(cleanS, lab), agreement: top1Agreement(cleanS, cleanT) }, measurements);
  return { rows: m, seed: inp.seed, kinds: [...ev.corruptions], severities, measurements, summary, skipped: null };
}
