import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, DataError, IntegrityError } from '../errors.ts';
import { openSession } from '../engines/onnxruntime.ts';
import type { OpenSessionOptions, OpenedSession } from '../engines/onnxruntime.ts';
import { sha256Bytes, sha256File } from '../io/sha256.ts';
import type { Reporter } from '../reporter.ts';
import { checkModelBindings } from './check-bindings.ts';
import { readTeacherCard } from './teacher-card.ts';
import type { LoadedCard } from './teacher-card.ts';
import { appendTopKGraph } from './top-k-graph.ts';
import type { TopKGraph } from './top-k-graph.ts';

/** `teacherLogits.reduceInGraph`: the top-k reduction to append to the teacher's graph before opening it. */
export interface TopKReduction {
  /** Kept classes k. */
  k: number;
  /** Capture temperature T_c. */
  temperature: number;
}

/** The model that runs when the reduction is appended: its sha256, outputs and what was appended (no bytes). */
export type ReducedModel = Omit<TopKGraph, 'bytes'> & { bytes: number };

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
  /** With a top-k reduction: the rewritten model the session runs (its sha256 is not the file's). Else null. */
  reduced: ReducedModel | null;
}

/**
 * Loads a teacher directory: reads and validates card.json, checks the ONNX file's sha256 against the
 * card (IntegrityError), opens an ONNX Runtime session on the requested device, and checks the
 * card's input and output bindings against the session's metadata (DataError showing expected and
 * actual name, dtype and shape). A missing or non-ONNX model file is a DataError naming it. With
 * `topK`, the session runs the model with the top-k reduction of the card's output appended
 * (pipeline/teacher/top-k-graph.ts), built in memory from the verified bytes; `reduced` says what ran.
 *
 * @example
 * const teacher = await loadTeacher('artifacts/teachers/mnist-cnn', { device: 'auto' }, reporter);
 */
export async function loadTeacher(dir: string, options: OpenSessionOptions, reporter: Reporter, topK?: TopKReduction): Promise<LoadedTeacher> {
  const card = await readTeacherCard(dir);
  const modelPath = join(dir, card.card.model);
  // Only a rewrite needs the bytes in memory; otherwise hash the file as a stream and let ORT read it.
  let bytes: Uint8Array | null = null;
  let sha256: string;
  try {
    if (topK) {
      bytes = await readFile(modelPath);
      sha256 = sha256Bytes(bytes);
    } else sha256 = await sha256File(modelPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT' ? `${modelPath}: the ONNX model file named by ${card.path} does not exist` : `${modelPath}: cannot read the ONNX model (${code ?? (err as Error).message})`,
    );
  }
  if (sha256 !== card.card.sha256) {
    throw new IntegrityError(`${modelPath}: sha256 is ${sha256}, but ${card.path} says ${card.card.sha256}; the model is not the one the card describes (update the card's sha256 if the model changed on purpose)`);
  }
  let reduced: TopKGraph | null = null;
  if (topK && bytes) {
    const classes = card.card.classes.count;
    if (topK.k > classes) throw new ConfigError(`teacherLogits.encoding.k must be at most the teacher's ${classes} classes, but got ${topK.k}`);
    reduced = appendTopKGraph(bytes, modelPath, { output: card.card.output.name, kind: card.card.output.kind, classes, k: topK.k, temperature: topK.temperature });
    reporter.info(`top-k reduction appended to the teacher's graph (k ${topK.k}, T_c ${topK.temperature}: ${reduced.ops.join(', ')}); the rewritten model's sha256 is ${reduced.sha256}`);
  }
  const opened = reduced ? await openSession(reduced.bytes, options, reporter, `${modelPath} (with the top-k reduction appended)`) : await openSession(modelPath, options, reporter);
  try {
    checkModelBindings(card.card, opened.session.inputMetadata, opened.session.outputMetadata, modelPath);
  } catch (err) {
    await opened.session.release();
    throw err;
  }
  return { dir, card, modelPath, sha256, opened, reduced: reduced ? { sha256: reduced.sha256, outputs: reduced.outputs, opsetVersion: reduced.opsetVersion, ops: reduced.ops, bytes: reduced.bytes.byteLength } : null };
}
