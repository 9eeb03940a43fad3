import type { EngineSession } from '../engines/onnxruntime.ts';
import { DataError } from '../errors.ts';
import type { NumericArray } from '../io/column-values.ts';
import type { TeacherCard } from '../teacher/teacher-card.ts';
import { runOnnxModel } from '../eval/run-onnx-model.ts';

/** Default tolerance of the export check: max |ORT - tfjs| over every output value. */
export const EXPORT_TOLERANCE = 1e-4;

/** Result of {@link checkExportParity}. */
export interface ExportParity {
  rows: number;
  /** Max |ONNX Runtime - tfjs| over every row and class. */
  maxAbsDiff: number;
  tolerance: number;
  /** Row and class (and, for a sequence model, position) of the largest difference. */
  worst: { row: number; class: number; position?: number };
}

/**
 * Runs the exported model with ONNX Runtime on the rows tfjs already predicted and compares every
 * output value. Compares what each model outputs (logits, or probabilities for a softmax head).
 * @throws DataError when the largest difference exceeds `tolerance` (default 1e-4).
 */
export async function checkExportParity(
  session: EngineSession,
  card: TeacherCard,
  columns: ReadonlyMap<string, NumericArray>,
  rows: number,
  tfjsOutputs: Float32Array,
  opts: { tolerance?: number; batchSize?: number; where: string; positions?: number },
): Promise<ExportParity> {
  const tolerance = opts.tolerance ?? EXPORT_TOLERANCE;
  // Compare raw outputs: a card of kind probs would be converted to log p by runOnnxModel.
  const raw: TeacherCard = { ...card, output: { ...card.output, kind: 'logits' } };
  const positions = opts.positions ?? 1;
  const ort = await runOnnxModel(session, raw, columns, rows, opts.batchSize ?? 256, positions);
  if (ort.length !== tfjsOutputs.length) throw new DataError(`${opts.where}: ONNX Runtime gave ${ort.length} values, tfjs ${tfjsOutputs.length}`);
  let maxAbsDiff = 0;
  let at = 0;
  for (let i = 0; i < ort.length; i++) {
    const d = Math.abs(ort[i]! - tfjsOutputs[i]!);
    if (Number.isNaN(d)) {
      maxAbsDiff = NaN;
      at = i;
      break;
    }
    if (d > maxAbsDiff) {
      maxAbsDiff = d;
      at = i;
    }
  }
  const classes = card.classes.count;
  const worst = { row: Math.floor(at / (classes * positions)), class: at % classes, ...(positions > 1 ? { position: Math.floor(at / classes) % positions } : {}) };
  const result = { rows, maxAbsDiff, tolerance, worst };
  if (!(maxAbsDiff <= tolerance)) {
    const where = `row ${worst.row}${worst.position !== undefined ? `, position ${worst.position}` : ''}, class ${worst.class}`;
    throw new DataError(`${opts.where}: the ONNX export differs from tfjs by ${maxAbsDiff} (${where}), more than the tolerance ${tolerance}; the export is wrong, do not ship it`);
  }
  return result;
}
