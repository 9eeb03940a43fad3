/**
 * The sequence student of a run folder as ONNX, checked: model.onnx (sequenceToOnnx on the saved
 * weights, no tfjs needed) and card.json (teacher-card format, task and context recorded, so the
 * export loads like a teacher), then ONNX Runtime against tfjs's logits on the given rows at every
 * position (max abs diff <= 1e-4 or a DataError), then export-manifest.json, written last. An
 * architecture the exporter does not handle (gru, lstm) is returned as `{ exportable: false, reason }`
 * with nothing written: a result the caller reports, not an error.
 */
import { join, relative } from 'node:path';
import { openSession } from '../engines/onnxruntime.ts';
import type { OpenSessionOptions, OpenedSession } from '../engines/onnxruntime.ts';
import { atomicWrite, atomicWriteJson } from '../io/atomic-write.ts';
import { sha256Bytes, sha256File } from '../io/sha256.ts';
import { encodeModel } from '../onnx/encode-model.ts';
import { softwareProvenance } from '../provenance.ts';
import type { Reporter } from '../reporter.ts';
import type { StudentRun } from '../student/resolve-student-run.ts';
import { readSequenceModel, sequenceExportInput } from '../student/sequence/sequence-model-file.ts';
import type { TeacherCard } from '../teacher/teacher-card.ts';
import type { OutputKey } from '../up-to-date.ts';
import { checkExportParity } from './check-export-parity.ts';
import type { ExportParity } from './check-export-parity.ts';
import { EXPORT_MANIFEST } from './export-checked-student.ts';
import { sequenceToOnnx } from './sequence-to-onnx.ts';
import { EXPORT_CARD, EXPORT_MODEL } from './write-student-onnx.ts';

/** Rows the parity check runs on at most. */
export const SEQUENCE_PARITY_ROWS = 64;

/** What {@link exportCheckedSequence} needs. */
export interface SequenceExportOptions {
  run: StudentRun;
  /** Output folder. */
  dir: string;
  /** Card / graph name. */
  name: string;
  task: 'token-classification' | 'causal-lm';
  classNames?: readonly string[];
  /** The dataset's tokenizer, recorded in the card. */
  tokenizer?: TeacherCard['tokenizer'];
  /** Dataset columns the two inputs read (the mask column may be a name the caller fills with ones). */
  idsColumn: string;
  maskColumn: string;
  /** Parity rows: ids and mask `[rows * L]`, and tfjs's logits on them `[rows * L * C]`. */
  rows: number;
  inputIds: Int32Array;
  attentionMask: Uint8Array;
  tfjsOutputs: Float32Array;
  /** Split the parity rows come from, for the manifest. */
  split: string;
  session: OpenSessionOptions;
  /** Keep the ORT session open and return it (evaluate times it). Default false. */
  keepSession?: boolean;
  workspace: string;
  /** The up-to-date key recorded in export-manifest.json. */
  key?: OutputKey;
}

/** The written export. */
export interface WrittenSequenceOnnx {
  modelPath: string;
  cardPath: string;
  card: TeacherCard;
  bytes: Uint8Array;
  sha256: string;
  parameters: number;
  ops: string[];
}

/** A checked export, or why there is none. */
export type CheckedSequenceExport =
  | { exportable: true; written: WrittenSequenceOnnx; parity: ExportParity; manifestPath: string; opened: OpenedSession | null }
  | { exportable: false; reason: string };

/** The card of the exported student. */
function exportCard(opts: SequenceExportOptions, L: number, C: number, sha256: string, arch: string): TeacherCard {
  return {
    formatVersion: 1,
    name: opts.name,
    description: `distill sequence student (${arch}), exported from ${relative(opts.workspace, opts.run.modelJson)}; input_ids int32 and attention_mask float32 (1 = real token) [batch, ${L}], logits [batch, ${L}, ${C}]`,
    model: EXPORT_MODEL,
    sha256,
    task: opts.task,
    context: L,
    inputs: [
      { name: 'input_ids', column: opts.idsColumn, dtype: 'int32', shape: ['batch', L] },
      { name: 'attention_mask', column: opts.maskColumn, dtype: 'float32', shape: ['batch', L] },
    ],
    output: { name: 'logits', kind: 'logits', shape: ['batch', L, C] },
    classes: { count: C, ...(opts.classNames && opts.classNames.length === C ? { names: [...opts.classNames] } : {}) },
    ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}),
  };
}

/**
 * Exports and checks the sequence student of `opts.run` (see the file comment).
 * @throws DataError when ONNX Runtime and tfjs differ by more than 1e-4 (no manifest is written).
 */
export async function exportCheckedSequence(opts: SequenceExportOptions, reporter: Reporter): Promise<CheckedSequenceExport> {
  const model = await readSequenceModel(opts.run.modelJson);
  const input = sequenceExportInput(model);
  const converted = sequenceToOnnx(input);
  if (!converted.exportable) return { exportable: false, reason: converted.reason };
  const L = input.context;
  const C = input.classes ?? input.vocab;
  const bytes = encodeModel(converted.spec);
  const sha256 = sha256Bytes(bytes);
  const card = exportCard(opts, L, C, sha256, input.arch);
  const modelPath = join(opts.dir, EXPORT_MODEL);
  const cardPath = join(opts.dir, EXPORT_CARD);
  await atomicWrite(modelPath, bytes);
  await atomicWriteJson(cardPath, card);
  const opened = await openSession(modelPath, opts.session, reporter);
  let parity: ExportParity;
  try {
    const columns = new Map<string, Int32Array | Uint8Array>([
      [opts.idsColumn, opts.inputIds],
      [opts.maskColumn, opts.attentionMask],
    ]);
    parity = await checkExportParity(opened.session, card, columns, opts.rows, opts.tfjsOutputs, { where: modelPath, positions: L, batchSize: 16 });
  } catch (err) {
    await opened.session.release();
    throw err;
  }
  const manifestPath = join(opts.dir, EXPORT_MANIFEST);
  await atomicWriteJson(manifestPath, {
    formatVersion: 1,
    kind: 'distill.student-export',
    createdAt: new Date().toISOString(),
    run: relative(opts.workspace, opts.run.dir),
    modelJsonSha256: await sha256File(opts.run.modelJson),
    weightsSha256: model.file.weightsSha256,
    onnx: { file: EXPORT_MODEL, sha256, bytes: bytes.byteLength, opset: converted.spec.opsetVersion, parameters: converted.parameters, outputKind: 'logits', ops: converted.ops },
    inputs: card.inputs.map((b) => ({ name: b.name, column: b.column, dtype: b.dtype, shape: b.shape })),
    sequence: { arch: input.arch, task: opts.task, context: L, classes: C, inputVocab: input.vocab, causal: input.causal },
    parity: { split: opts.split, ...parity, executionProvider: opened.executionProvider, onnxruntime: opened.onnxruntimeVersion },
    software: softwareProvenance(),
    ...(opts.key ? { key: opts.key } : {}),
  });
  reporter.info(`exported the sequence student to ${modelPath}: ONNX Runtime matches tfjs within ${parity.maxAbsDiff.toExponential(2)} (tolerance ${parity.tolerance}) at every position of ${parity.rows} ${opts.split} rows`, {
    sha256,
    maxAbsDiff: parity.maxAbsDiff,
  });
  const written: WrittenSequenceOnnx = { modelPath, cardPath, card, bytes, sha256, parameters: converted.parameters, ops: converted.ops };
  if (!opts.keepSession) {
    await opened.session.release();
    return { exportable: true, written, parity, manifestPath, opened: null };
  }
  return { exportable: true, written, parity, manifestPath, opened };
}
