import { join } from 'node:path';
import { DataError, IntegrityError } from '../errors.ts';
import { openSession } from '../engines/onnxruntime.ts';
import type { OpenSessionOptions, OpenedSession } from '../engines/onnxruntime.ts';
import { sha256File } from '../io/sha256.ts';
import type { Reporter } from '../reporter.ts';
import { checkModelBindings } from './check-bindings.ts';
import { readTeacherCard } from './teacher-card.ts';
import type { LoadedCard } from './teacher-card.ts';

/** A teacher ready to run: its card, its verified model file and an open session. */
export interface LoadedTeacher {
  /** The teacher directory as given. */
  dir: string;
  card: LoadedCard;
  /** Path of the ONNX file. */
  modelPath: string;
  /** sha256 of the ONNX file (equal to card.sha256). */
  sha256: string;
  /** The session and what runs it. */
  opened: OpenedSession;
}

/**
 * Loads a teacher directory: reads and validates card.json, checks the ONNX file's sha256 against the
 * card (IntegrityError), opens an ONNX Runtime session on the requested device, and checks the
 * card's input and output bindings against the session's metadata (DataError showing expected and
 * actual name, dtype and shape). A missing or non-ONNX model file is a DataError naming it.
 *
 * @example
 * const teacher = await loadTeacher('artifacts/teachers/mnist-cnn', { device: 'auto' }, reporter);
 */
export async function loadTeacher(dir: string, options: OpenSessionOptions, reporter: Reporter): Promise<LoadedTeacher> {
  const card = await readTeacherCard(dir);
  const modelPath = join(dir, card.card.model);
  let sha256: string;
  try {
    sha256 = await sha256File(modelPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT' ? `${modelPath}: the ONNX model file named by ${card.path} does not exist` : `${modelPath}: cannot read the ONNX model (${code ?? (err as Error).message})`,
    );
  }
  if (sha256 !== card.card.sha256) {
    throw new IntegrityError(`${modelPath}: sha256 is ${sha256}, but ${card.path} says ${card.card.sha256}; the model is not the one the card describes (update the card's sha256 if the model changed on purpose)`);
  }
  const opened = await openSession(modelPath, options, reporter);
  try {
    checkModelBindings(card.card, opened.session.inputMetadata, opened.session.outputMetadata, modelPath);
  } catch (err) {
    await opened.session.release();
    throw err;
  }
  return { dir, card, modelPath, sha256, opened };
}
