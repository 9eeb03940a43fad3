/**
 * Evaluate's tuned quantities are chosen on the validation rows (dataset.validation) and scored once
 * on the test split: today the cascade's threshold tau (and its default accuracy target, the teacher's
 * validation accuracy minus 0.001). Without validation rows the choice falls back on the test rows
 * and the report says so (optimistic: chosen and scored on the same rows).
 */
import type { EvaluateSection } from '../../pipeline/config/experiment-config.ts';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { describeValidation, resolveValidation } from '../../pipeline/config/validation-rows.ts';
import type { ValidationPlan } from '../../pipeline/config/validation-rows.ts';
import type { tf } from '../../pipeline/engines/tfjs.ts';
import { readEvalRows } from '../../pipeline/eval/read-eval-rows.ts';
import { runOnnxModel } from '../../pipeline/eval/run-onnx-model.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import { cascadeAt, cascadeCurve } from './cascade-curve.ts';
import type { CascadeResult, CascadeSelection } from './cascade-curve.ts';
import type { ClassScores } from './class-scores.ts';
import { checkScores } from './class-scores.ts';
import { accuracy } from './classification-metrics.ts';
import type { EvaluateInputs } from './evaluate-inputs.ts';
import { studentScores } from './student-scores.ts';

/** Teacher and student scores on the validation rows. */
export interface ValidationScores {
  plan: ValidationPlan;
  rows: number;
  labels: Int32Array;
  teacher: ClassScores;
  student: ClassScores;
}

/** Predicts the validation rows (a named split, or the carve-out's train rows) with both models; null without dataset.validation. */
export async function validationScores(exp: LoadedExperiment, inp: EvaluateInputs, teacher: LoadedTeacher, student: tf.LayersModel, classes: number, reporter: Reporter): Promise<ValidationScores | null> {
  const cfg = exp.config;
  const trainRows = inp.dataset.splits[cfg.dataset.trainSplit]?.rows ?? 0;
  const plan = resolveValidation(cfg, trainRows);
  if (!plan) return null;
  const card = teacher.card.card;
  const features = [...new Set([inp.run.feature, ...card.inputs.map((b) => b.column)])];
  const rows = await readEvalRows({ dir: inp.datasetDir, manifest: inp.dataset, split: plan.split, features, label: inp.label.name, ...(plan.kind === 'carve-out' ? { rowIds: plan.rows } : {}) });
  reporter.info(`choosing on the validation rows: ${describeValidation(plan)}, ${rows.rows} rows`);
  const s = studentScores(student, rows.features.get(inp.run.feature)!, rows.rows, classes, inp.run.inputScale, inp.ev.batchSize);
  const t: ClassScores = { rows: rows.rows, classes, logits: await runOnnxModel(teacher.opened.session, card, rows.features, rows.rows, inp.ev.batchSize) };
  checkScores(s, `student on validation rows`);
  checkScores(t, `teacher on validation rows`);
  return { plan, rows: rows.rows, labels: rows.labels, teacher: t, student: s };
}

/** The cascade as the report holds it: the test curve, the operating point at the chosen tau, where it was chosen. */
export type ReportedCascade = CascadeResult & { targetRule: string; selection: CascadeSelection };

/** Test-split scores the cascade is scored on. */
export interface TestScores {
  split: string;
  rows: number;
  labels: Int32Array;
  teacher: ClassScores;
  student: ClassScores;
}

/**
 * Chooses tau on the validation rows (the smallest deferral reaching the target there) and scores it
 * on the test rows; without validation rows, chooses on the test rows (labelled). The curve is the
 * test split's sweep, for reading only.
 */
export function chooseCascade(ev: EvaluateSection, test: TestScores, val: ValidationScores | null, latency: { studentMs: number; teacherMs: number }): ReportedCascade {
  const on = val ?? test;
  const target = ev.cascadeTarget ?? Math.max(0, accuracy(on.teacher, on.labels) - 0.001);
  const targetRule = ev.cascadeTarget !== undefined ? 'evaluate.cascadeTarget' : `the teacher's accuracy on the ${val ? 'validation' : 'test'} rows minus 0.001 (default)`;
  const chosen = cascadeCurve(on.teacher, on.student, on.labels, { target, latency }).operatingPoint;
  const curve = cascadeCurve(test.teacher, test.student, test.labels, { target, latency });
  const operatingPoint = val ? cascadeAt(test.teacher, test.student, test.labels, chosen.tau, target, latency) : chosen;
  const selection: CascadeSelection = val
    ? { on: 'validation', split: val.plan.split, rows: val.rows, description: describeValidation(val.plan), chosen }
    : { on: 'test', split: test.split, rows: test.rows, description: 'the test rows themselves (no dataset.validation): chosen and scored on the same rows, so optimistic', chosen };
  return { ...curve, operatingPoint, targetRule, selection };
}
