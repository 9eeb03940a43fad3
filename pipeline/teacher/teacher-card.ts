/**
 * The teacher card (`card.json` next to the ONNX file; schemas/teacher-card.schema.json,
 * docs/teacher-card.md) and its loader.
 */
import { readJsonFileOrThrow } from '../io/read-json.ts';
import { join } from 'node:path';
import { checkAgainstSchema } from '../config/validate-schema.ts';
import { DataError } from '../errors.ts';
import { sha256Bytes } from '../io/sha256.ts';

/** The card file name inside a teacher directory. */
export const TEACHER_CARD = 'card.json';

/** Element types a model input can have. */
export type InputDtype = 'float32' | 'float64' | 'uint8' | 'int8' | 'int32' | 'int64';

/** One model input fed from a dataset column. */
export interface InputBinding {
  /** Model input name. */
  name: string;
  /** Dataset feature column. */
  column: string;
  /** Element type of the model input. */
  dtype: InputDtype;
  /** Dims, "batch" first for the batch dim, e.g. ["batch", 1, 28, 28]; sequence teachers ["batch", "seq"]. */
  shape: (number | 'batch' | 'seq')[];
  /** Informative layout, e.g. NCHW. */
  layout?: string;
  /** input = value * scale + offset. Default scale 1, offset 0 (float inputs only). */
  preprocess?: { scale?: number; offset?: number };
}

/** What the read output holds. probs are stored as log(p), log_probs and logits as is. */
export type OutputKind = 'logits' | 'probs' | 'log_probs';

/** card.json of a teacher. */
export interface TeacherCard {
  formatVersion: 1;
  name: string;
  description?: string;
  /** ONNX file name in the teacher directory. */
  model: string;
  /** sha256 (hex) of the ONNX file. */
  sha256: string;
  inputs: InputBinding[];
  /** shape: informative for classification; sequence teachers ["batch", "seq", vocab]. */
  output: { name: string; kind: OutputKind; shape?: (number | 'batch' | 'seq')[] };
  /** Classes C; the vocabulary size V of a sequence teacher. */
  classes: { count: number; names?: string[] };
  /** Absent = classification; token-classification / causal-lm: a [batch, seq, vocab] sequence teacher. */
  task?: 'classification' | 'token-classification' | 'causal-lm';
  /** Sequence teachers: the longest sequence the model takes (its position table). */
  context?: number;
  /** The tokenizer the teacher was trained with; a dataset tokenized with another one is refused. */
  tokenizer?: { kind?: 'char' | 'hf'; file?: string; sha256: string; vocabSize?: number; padId?: number };
}

/** True for a teacher with a [batch, seq, vocab] output (token-classification or causal-lm). */
export function isSequenceCard(card: TeacherCard): boolean {
  return card.task === 'token-classification' || card.task === 'causal-lm';
}

/** A card read from disk, with its own hash. */
export interface LoadedCard {
  card: TeacherCard;
  /** Absolute or as-given path of card.json. */
  path: string;
  /** sha256 of card.json's bytes. */
  sha256: string;
}

/** Reads and validates `<dir>/card.json`; any problem is a DataError naming the file and field. */
export async function readTeacherCard(dir: string): Promise<LoadedCard> {
  const path = join(dir, TEACHER_CARD);
  const { value, text } = await readJsonFileOrThrow(path, 'a teacher directory needs a card.json (see docs/teacher-card.md)');
  const problems = checkAgainstSchema('teacher-card', value);
  const card = value as TeacherCard;
  if (problems.length === 0) {
    card.inputs.forEach((b, i) => {
      const batch = b.shape.filter((d) => d === 'batch').length;
      if (batch !== 1 || b.shape[0] !== 'batch') problems.push({ field: `inputs[${i}].shape`, message: `inputs[${i}].shape must have "batch" exactly once, first, but got ${JSON.stringify(b.shape)}` });
      const seq = b.shape.indexOf('seq');
      if (seq >= 0 && (!isSequenceCard(card) || seq !== 1 || b.shape.length !== 2)) problems.push({ field: `inputs[${i}].shape`, message: `inputs[${i}].shape ${JSON.stringify(b.shape)}: "seq" is allowed only as ["batch", "seq"] in a sequence teacher (task token-classification or causal-lm), but the task is ${card.task ?? 'classification'}` });
      if (!b.dtype.startsWith('float') && b.preprocess && ((b.preprocess.scale ?? 1) !== 1 || (b.preprocess.offset ?? 0) !== 0)) {
        problems.push({ field: `inputs[${i}].preprocess`, message: `inputs[${i}].preprocess scales an integer input (${b.dtype}); scale/offset apply to float inputs only` });
      }
    });
    if (card.classes.names && card.classes.names.length !== card.classes.count) {
      problems.push({ field: 'classes.names', message: `classes.names has ${card.classes.names.length} names, but classes.count is ${card.classes.count}` });
    }
  }
  if (problems.length > 0) {
    throw new DataError(`${path} is not a valid teacher card:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
  }
  return { card, path, sha256: sha256Bytes(text) };
}
