/**
 * Both models of a sequence evaluation, opened and checked against each other and the dataset: the
 * teacher through ONNX Runtime (its card's "seq" resolved to the context L), the student (and the
 * baseline) rebuilt with tfjs from model.json + weights.bin, and a predictor for each that maps rows
 * of ids and mask to logits `[n * L * C]` in bounded batches.
 */
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { DataError } from '../../pipeline/errors.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import { runOnnxModel } from '../../pipeline/eval/run-onnx-model.ts';
import { predictSequenceStudent } from '../../pipeline/student/sequence/predict-sequence-student.ts';
import { loadSequenceStudent } from '../../pipeline/student/sequence/sequence-model-file.ts';
import type { SequenceStudent } from '../../pipeline/student/sequence/sequence-student.ts';
import { outputClasses } from '../../pipeline/student/sequence/sequence-student.ts';
import { checkDatasetBindings, checkModelBindings } from '../../pipeline/teacher/check-bindings.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import { resolveSequenceCard, sequenceLayout } from '../../pipeline/teacher/sequence-card.ts';
import type { SequenceLayout } from '../../pipeline/teacher/sequence-card.ts';
import type { TeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import type { SequencePredictor } from './token-robustness.ts';

/** Logit values one teacher batch may return (64 MiB of float32). */
const TEACHER_BATCH_VALUES = 2 ** 24;
/** Logit values one student batch may return (16 MiB of float32, plus the model's activations). */
const STUDENT_BATCH_VALUES = 2 ** 22;

/** The teacher of a sequence evaluation. */
export interface SequenceTeacher {
  /** The card with "seq" resolved to L. */
  card: TeacherCard;
  layout: SequenceLayout;
  classes: number;
  /** Dataset columns fed to the models: the ids (the student's feature) and the mask (a synthetic all-ones column when the dataset has none). */
  idsColumn: string;
  maskColumn: string;
  predict: SequencePredictor;
  /** The columns map a card's bindings read, for `n` rows of ids and mask. */
  columns: (ids: Int32Array, mask: Uint8Array) => Map<string, NumericArray>;
}

/**
 * Resolves and checks the teacher on a token dataset: a sequence teacher whose card reads only the
 * ids and mask columns, bindings checked again with "seq" = L.
 * @throws DataError naming the card or the dataset when they do not fit.
 */
export function sequenceTeacher(teacher: LoadedTeacher, dataset: DatasetManifest, datasetDir: string, idsColumn: string, batchRows: number): SequenceTeacher {
  const layout = sequenceLayout(teacher.card.card, dataset, teacher.card.path, datasetDir);
  if (!layout) throw new DataError(`${teacher.card.path}: task is ${teacher.card.card.task ?? 'classification'}, but the dataset ${datasetDir} is a ${dataset.task} token dataset; a sequence evaluation needs a token-classification or causal-lm teacher`);
  const card = resolveSequenceCard(teacher.card.card, layout.context);
  checkModelBindings(card, teacher.opened.session.inputMetadata, teacher.opened.session.outputMetadata, teacher.modelPath);
  checkDatasetBindings(card, dataset, teacher.card.path, datasetDir);
  const maskColumn = layout.maskColumn ?? 'attention_mask';
  const other = card.inputs.filter((b) => b.column !== idsColumn && b.column !== maskColumn);
  if (other.length > 0) throw new DataError(`${teacher.card.path}: the sequence evaluation feeds the teacher "${idsColumn}" and "${maskColumn}" only, but the card binds ${other.map((b) => `"${b.column}"`).join(', ')}`);
  const L = layout.context;
  const classes = card.classes.count;
  const columns = (ids: Int32Array, mask: Uint8Array): Map<string, NumericArray> =>
    new Map<string, NumericArray>([
      [idsColumn, ids],
      [maskColumn, mask],
    ]);
  const rowsPerRun = Math.max(1, Math.min(batchRows, Math.floor(TEACHER_BATCH_VALUES / (L * classes))));
  const predict: SequencePredictor = (ids, mask, n) => runOnnxModel(teacher.opened.session, card, columns(ids, mask), n, rowsPerRun, L);
  return { card, layout, classes, idsColumn, maskColumn, predict, columns };
}

/**
 * Loads a sequence student and checks it against the teacher: same context, same output classes,
 * causal exactly when the teacher predicts the next token.
 * @throws DataError naming model.json and the mismatch.
 */
export async function loadCheckedStudent(modelJson: string, teacher: SequenceTeacher, what: string): Promise<{ student: SequenceStudent; predict: SequencePredictor }> {
  const student = await loadSequenceStudent(modelJson);
  const { shape } = student;
  const problems: string[] = [];
  if (shape.context !== teacher.layout.context) problems.push(`its context is ${shape.context} tokens, the dataset's ${teacher.layout.context}`);
  if (outputClasses(shape) !== teacher.classes) problems.push(`it outputs ${outputClasses(shape)} classes per position, the teacher ${teacher.classes}`);
  if (shape.causal !== (teacher.layout.target === 'next-token')) problems.push(`it is ${shape.causal ? 'causal' : 'bidirectional'}, but the task is ${teacher.layout.target === 'next-token' ? 'causal-lm' : 'token-classification'}`);
  if (problems.length > 0) {
    student.dispose();
    throw new DataError(`${modelJson} (${what}) does not fit the teacher and dataset: ${problems.join('; ')}`);
  }
  const L = shape.context;
  const rowsPerBatch = Math.max(1, Math.min(64, Math.floor(STUDENT_BATCH_VALUES / (L * teacher.classes))));
  const predict: SequencePredictor = (ids, mask, n) => Promise.resolve(predictSequenceStudent(student, ids, mask, n, rowsPerBatch));
  return { student, predict };
}
