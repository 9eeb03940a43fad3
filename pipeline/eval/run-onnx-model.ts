import type { EngineSession } from '../engines/onnxruntime.ts';
import { DataError } from '../errors.ts';
import type { NumericArray } from '../io/column-values.ts';
import type { TeacherCard } from '../teacher/teacher-card.ts';
import { inputTensor, toStoredLogits } from '../teacher/teacher-tensors.ts';

/**
 * Runs an ONNX model described by a teacher card (the teacher, or the exported student, which has a
 * card of the same format) over `rows` rows: the card's input bindings build each batch from the
 * columns, the output is converted to logits (probs -> log p). Returns `rows * classes` float32, or
 * `rows * positions * classes` for a sequence model (output [batch, positions, classes]).
 * @param batchSize - rows per session.run; default 256.
 * @param positions - output positions per row (a sequence model's context L); default 1.
 */
export async function runOnnxModel(session: EngineSession, card: TeacherCard, columns: ReadonlyMap<string, NumericArray>, rows: number, batchSize = 256, positions = 1): Promise<Float32Array> {
  const classes = card.classes.count * positions;
  const out = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r += batchSize) {
    const n = Math.min(batchSize, rows - r);
    const feeds = Object.fromEntries(
      card.inputs.map((b) => {
        const values = columns.get(b.column);
        if (!values) throw new DataError(`model ${card.name}: input "${b.name}" reads column "${b.column}", which was not loaded`);
        return [b.name, inputTensor(b, values, r, n)];
      }),
    );
    const result = await session.run(feeds, [card.output.name]);
    const y = result[card.output.name];
    if (!y || !(y.data instanceof Float32Array) || y.data.length !== n * classes) {
      throw new DataError(`model ${card.name}: output "${card.output.name}" has dims ${JSON.stringify(y?.dims ?? null)} and type ${y?.type ?? 'none'}; expected float32 [${n}, ${positions > 1 ? `${positions}, ${card.classes.count}` : classes}]`);
    }
    out.set(toStoredLogits(Float32Array.from(y.data), card.output.kind), r * classes);
  }
  return out;
}
