/**
 * The saved form of a sequence student: `model.json` (format `distill-sequence-student`: the student
 * section it was built from, its shape, and where each named variable lies in `weights.bin`) next to
 * `weights.bin` (float32 little-endian, variables in the student's fixed order). train-student writes
 * it; evaluate and export rebuild the student from it with {@link loadSequenceStudent}, or convert it
 * to ONNX with {@link sequenceExportInput} without tfjs.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StudentSection } from '../../config/experiment-config.ts';
import { tf } from '../../engines/tfjs.ts';
import { DataError } from '../../errors.ts';
import type { SequenceExportInput } from '../../export/sequence-to-onnx.ts';
import { atomicWrite, atomicWriteJson } from '../../io/atomic-write.ts';
import { readJsonFile } from '../../io/read-json.ts';
import { sha256Bytes } from '../../io/sha256.ts';
import { findModelJson } from '../load-student-model.ts';
import { buildSequenceStudent, sequenceSpec } from './build-sequence-student.ts';
import type { SequenceShape, SequenceStudent } from './sequence-student.ts';

/** `format` of a sequence student's model.json. */
export const SEQUENCE_MODEL_FORMAT = 'distill-sequence-student';

/** One variable's place in weights.bin. */
export interface SequenceWeightEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
}

/** The model.json of a sequence student. */
export interface SequenceModelFile {
  format: typeof SEQUENCE_MODEL_FORMAT;
  version: 1;
  /** The config's student section it was built from. */
  student: StudentSection;
  shape: SequenceShape;
  params: number;
  macsPerToken: number;
  weightsFile: string;
  weightsSha256: string;
  weights: SequenceWeightEntry[];
}

/** Files written by {@link saveSequenceStudent} (same fields as a layers model's). */
export interface SavedSequenceFiles {
  modelJson: string;
  weights: string;
  weightsSha256: string;
  weightsBytes: number;
}

/** A student's variables by name, as plain arrays. */
export async function sequenceWeights(student: SequenceStudent): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [i, v] of student.variables.entries()) out.set(student.variableNames[i]!, { shape: [...v.shape], values: Float32Array.from(await v.data()) });
  return out;
}

/**
 * Saves `student` (built from `section`) as `model.json` + `weights.bin` in `dir`, each atomically,
 * weights first so model.json never names missing weights.
 */
export async function saveSequenceStudent(student: SequenceStudent, section: StudentSection, dir: string): Promise<SavedSequenceFiles> {
  const weights = await sequenceWeights(student);
  const entries: SequenceWeightEntry[] = [];
  let offset = 0;
  for (const [name, w] of weights) {
    entries.push({ name, shape: w.shape, offset });
    offset += w.values.length;
  }
  const all = new Float32Array(offset);
  for (const [i, w] of [...weights.values()].entries()) all.set(w.values, entries[i]!.offset);
  const bytes = new Uint8Array(all.buffer);
  const weightsSha256 = sha256Bytes(bytes);
  await atomicWrite(join(dir, 'weights.bin'), bytes);
  const file: SequenceModelFile = { format: SEQUENCE_MODEL_FORMAT, version: 1, student: section, shape: student.shape, params: student.params, macsPerToken: student.macsPerToken, weightsFile: 'weights.bin', weightsSha256, weights: entries };
  await atomicWriteJson(join(dir, 'model.json'), file);
  return { modelJson: 'model.json', weights: 'weights.bin', weightsSha256, weightsBytes: bytes.byteLength };
}

/** Whether a parsed model.json is a sequence student's. */
export function isSequenceModelFile(json: unknown): json is SequenceModelFile {
  return typeof json === 'object' && json !== null && (json as { format?: unknown }).format === SEQUENCE_MODEL_FORMAT;
}

/** True when a run folder's model.json (findModelJson) is a sequence student's; false when it has none or another kind. */
export async function isSequenceRun(runDir: string): Promise<boolean> {
  let modelJson: string;
  try {
    modelJson = await findModelJson(runDir);
  } catch {
    return false;
  }
  const read = await readJsonFile(modelJson);
  return read.ok && isSequenceModelFile(read.value);
}

/** A read sequence model file and its weights by name. */
export interface ReadSequenceModel {
  file: SequenceModelFile;
  weights: Map<string, { shape: number[]; values: Float32Array }>;
}

/**
 * Reads model.json and weights.bin, checking the format, the weights' sha256 and every entry's range.
 * @throws DataError naming the file and what was expected.
 */
export async function readSequenceModel(modelJson: string): Promise<ReadSequenceModel> {
  const read = await readJsonFile(modelJson);
  if (!read.ok) throw new DataError(`${modelJson}: ${read.problem}`);
  if (!isSequenceModelFile(read.value)) throw new DataError(`${modelJson}: format is not "${SEQUENCE_MODEL_FORMAT}" (not a sequence student saved by distill train-student)`);
  const file = read.value;
  const weightsPath = join(dirname(modelJson), file.weightsFile);
  let bytes: Buffer;
  try {
    bytes = await readFile(weightsPath);
  } catch (e) {
    throw new DataError(`${weightsPath}: cannot be read (${(e as Error).message}); it is named by ${modelJson}`);
  }
  if (sha256Bytes(bytes) !== file.weightsSha256) throw new DataError(`${weightsPath}: sha256 differs from weightsSha256 in ${modelJson} (changed or truncated weights)`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const e of file.weights) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset < 0 || e.offset + n > all.length) throw new DataError(`${modelJson}: weight ${e.name} [${e.shape.join(', ')}] at offset ${e.offset} lies outside ${weightsPath} (${all.length} values)`);
    weights.set(e.name, { shape: e.shape, values: all.subarray(e.offset, e.offset + n) });
  }
  return { file, weights };
}

/**
 * Rebuilds the saved student on the current tfjs backend and assigns its weights (`embedding`
 * overrides the saved lookup method, e.g. one-hot on wasm).
 * @throws DataError when a variable is missing or has another shape.
 */
export async function loadSequenceStudent(modelJson: string, embedding?: SequenceShape['embedding']): Promise<SequenceStudent> {
  const { file, weights } = await readSequenceModel(modelJson);
  const student = buildSequenceStudent(file.student, { ...file.shape, ...(embedding ? { embedding } : {}) });
  try {
    student.variables.forEach((v, i) => {
      const name = student.variableNames[i]!;
      const w = weights.get(name);
      if (!w || w.shape.join() !== v.shape.join()) throw new DataError(`${modelJson}: weight ${name} [${v.shape.join(', ')}] is ${w ? `[${w.shape.join(', ')}]` : 'missing'} in the file`);
      tf.tidy(() => v.assign(tf.tensor(w.values, w.shape)));
    });
  } catch (e) {
    student.dispose();
    throw e;
  }
  return student;
}

/** The exporter's input for a saved student (no tfjs needed). */
export function sequenceExportInput(model: ReadSequenceModel): SequenceExportInput {
  const spec = sequenceSpec(model.file.student);
  const { vocab, classes, context, causal } = model.file.shape;
  return { arch: spec.arch, vocab, ...(classes !== undefined ? { classes } : {}), context, causal, dModel: spec.dModel, heads: spec.heads, layers: spec.layers, window: spec.window, hidden: spec.hidden, activation: spec.activation, weights: model.weights };
}
