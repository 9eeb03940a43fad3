import type { OutputKey } from '../up-to-date.ts';
import { join, relative } from 'node:path';
import { openSession } from '../engines/onnxruntime.ts';
import type { OpenSessionOptions, OpenedSession } from '../engines/onnxruntime.ts';
import type { tf } from '../engines/tfjs.ts';
import { atomicWriteJson } from '../io/atomic-write.ts';
import type { NumericArray } from '../io/column-values.ts';
import { sha256File } from '../io/sha256.ts';
import { softwareProvenance } from '../provenance.ts';
import type { Reporter } from '../reporter.ts';
import { checkExportParity } from './check-export-parity.ts';
import type { ExportParity } from './check-export-parity.ts';
import type { StudentRun } from '../student/resolve-student-run.ts';
import { writeStudentOnnx } from './write-student-onnx.ts';
import type { WrittenOnnx } from './write-student-onnx.ts';

/** File name of the export manifest. */
export const EXPORT_MANIFEST = 'export-manifest.json';

/** What {@link exportCheckedStudent} needs. */
export interface ExportCheckedOptions {
  run: StudentRun;
  model: tf.LayersModel;
  /** Output folder. */
  dir: string;
  /** Card / graph name. */
  name: string;
  classNames?: readonly string[];
  /** Eval rows (by column) the parity check runs on, and tfjs's outputs on them. */
  columns: ReadonlyMap<string, NumericArray>;
  rows: number;
  tfjsOutputs: Float32Array;
  /** Split name, for the manifest. */
  split: string;
  /** ONNX Runtime session options (device, threads). */
  session: OpenSessionOptions;
  /** Keep the ORT session open and return it (evaluate times it). Default false. */
  keepSession?: boolean;
  workspace: string;
  /** The up-to-date key recorded in export-manifest.json (pipeline/up-to-date.ts); default none. */
  key?: OutputKey;
}

/** The checked export. */
export interface CheckedExport {
  written: WrittenOnnx;
  parity: ExportParity;
  manifestPath: string;
  /** The session, when `keepSession`. */
  opened: OpenedSession | null;
}

/**
 * Writes the student as ONNX (+ card), checks it with ONNX Runtime against tfjs's outputs on the
 * given rows (max abs diff <= 1e-4 or a DataError), then writes export-manifest.json (last, so its
 * presence means a checked export).
 */
export async function exportCheckedStudent(opts: ExportCheckedOptions, reporter: Reporter): Promise<CheckedExport> {
  const written = await writeStudentOnnx(opts.model, {
    dir: opts.dir,
    name: opts.name,
    feature: opts.run.feature,
    inputScale: opts.run.inputScale,
    ...(opts.classNames ? { classNames: opts.classNames } : {}),
  });
  const opened = await openSession(written.modelPath, opts.session, reporter);
  let parity: ExportParity;
  try {
    parity = await checkExportParity(opened.session, written.card, opts.columns, opts.rows, opts.tfjsOutputs, { where: written.modelPath });
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
    onnx: { file: 'model.onnx', sha256: written.sha256, bytes: written.bytes.byteLength, opset: 13, parameters: written.conversion.parameters, outputKind: written.conversion.outputKind },
    input: { name: opts.run.feature, dtype: 'float32', shape: ['batch', ...written.conversion.inputShape], preprocess: { scale: opts.run.inputScale, offset: 0 } },
    layers: written.conversion.layers,
    parity: { split: opts.split, ...parity, executionProvider: opened.executionProvider, onnxruntime: opened.onnxruntimeVersion },
    software: softwareProvenance(),
    ...(opts.key ? { key: opts.key } : {}),
  });
  reporter.info(`exported the student to ${written.modelPath}: ONNX Runtime matches tfjs within ${parity.maxAbsDiff.toExponential(2)} (tolerance ${parity.tolerance}) on ${parity.rows} ${opts.split} rows`, {
    sha256: written.sha256,
    maxAbsDiff: parity.maxAbsDiff,
  });
  if (!opts.keepSession) {
    await opened.session.release();
    return { written, parity, manifestPath, opened: null };
  }
  return { written, parity, manifestPath, opened };
}
