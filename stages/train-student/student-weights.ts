import { tf } from '../../pipeline/engines/tfjs.ts';
import { DataError } from '../../pipeline/errors.ts';
import type { SavedArray } from '../../pipeline/student/checkpoint.ts';
import type { StudentModel } from './build-student.ts';

/** What checkpoints read and write of a student (a layers student or a sequence student). */
export type TrainableWeights = Pick<StudentModel, 'variables' | 'variableNames'>;

/** The student's weights as saved arrays (name, shape, float32 values), in variable order. */
export async function weightsOf(student: TrainableWeights): Promise<SavedArray[]> {
  const out: SavedArray[] = [];
  for (const [i, v] of student.variables.entries()) {
    out.push({ name: student.variableNames[i]!, shape: [...v.shape], dtype: 'float32', values: Float32Array.from(await v.data()) });
  }
  return out;
}

/**
 * Assigns saved weights to the student. A different count, name or shape is a DataError naming
 * `where` (the checkpoint) and both sides.
 */
export function restoreWeights(student: TrainableWeights, saved: readonly SavedArray[], where: string): void {
  if (saved.length !== student.variables.length) throw new DataError(`${where}: holds ${saved.length} weight arrays, the student has ${student.variables.length}`);
  saved.forEach((s, i) => {
    const v = student.variables[i]!;
    if (s.name !== student.variableNames[i] || JSON.stringify(s.shape) !== JSON.stringify(v.shape)) {
      throw new DataError(`${where}: weight ${i} is ${s.name} ${JSON.stringify(s.shape)}, the student has ${student.variableNames[i]} ${JSON.stringify(v.shape)}`);
    }
    tf.tidy(() => v.assign(tf.tensor(s.values, s.shape, 'float32')));
  });
}
