import { tf } from '../../engines/tfjs.ts';
import { DataError } from '../../errors.ts';
import type { SequenceStudent } from './sequence-student.ts';
import { outputClasses } from './sequence-student.ts';

/**
 * The student's logits at every position of `rows` token rows: `rows * L * C` float32, row-major
 * (row, position, class), C = the student's output classes. `ids` and `mask` are `rows * L` (mask 1 =
 * real token); batches of `batchSize` rows, each in its own tidy scope (no tensor outlives a batch).
 * @throws DataError when the arrays are not rows * L, or L is not the student's context.
 */
export function predictSequenceStudent(student: SequenceStudent, ids: ArrayLike<number>, mask: ArrayLike<number>, rows: number, batchSize = 64): Float32Array {
  const L = student.shape.context;
  const C = outputClasses(student.shape);
  if (ids.length !== rows * L || mask.length !== rows * L) {
    throw new DataError(`predictSequenceStudent: input_ids (${ids.length}) and attention_mask (${mask.length}) must be rows * L = ${rows} * ${L} (the student's context)`);
  }
  const out = new Float32Array(rows * L * C);
  for (let r = 0; r < rows; r += batchSize) {
    const n = Math.min(batchSize, rows - r);
    const idBatch = Int32Array.from({ length: n * L }, (_, i) => ids[r * L + i]!);
    const maskBatch = Float32Array.from({ length: n * L }, (_, i) => mask[r * L + i]!);
    const logits = tf.tidy(() => student.apply(tf.tensor2d(idBatch, [n, L], 'int32'), tf.tensor2d(maskBatch, [n, L], 'float32')));
    out.set(logits.dataSync() as Float32Array, r * L * C);
    logits.dispose();
  }
  return out;
}
