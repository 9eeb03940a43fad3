/**
 * Reads a tfjs Layers model saved in the standard layout (`model.json` with `modelTopology` and a
 * `weightsManifest` naming binary weight files next to it) without tfjs-node's file:// handler.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tf } from '../engines/tfjs.ts';
import { DataError } from '../errors.ts';
import { readJsonFile } from '../io/read-json.ts';

/** Where a run folder keeps its model.json, tried in order. */
export const MODEL_JSON_CANDIDATES = ['model.json', 'model/model.json', 'final/model.json'];

/** Finds the model.json of a run folder (see {@link MODEL_JSON_CANDIDATES}); a DataError listing what was tried. */
export async function findModelJson(runDir: string): Promise<string> {
  for (const c of MODEL_JSON_CANDIDATES) {
    const p = join(runDir, c);
    try {
      if ((await stat(p)).isFile()) return p;
    } catch {
      // try the next one
    }
  }
  throw new DataError(`${runDir}: no trained student found (looked for ${MODEL_JSON_CANDIDATES.join(', ')}); run \`distill train-student\` first`);
}

/** A loaded student and the files it came from. */
export interface LoadedStudent {
  model: tf.LayersModel;
  /** Path of model.json. */
  modelJson: string;
  /** Bytes of model.json plus its weight files. */
  bytes: number;
}

/**
 * Loads a Layers model from `model.json` and its weight files.
 * @throws DataError naming the file when model.json or a weight file is missing or malformed.
 */
export async function loadStudentModel(modelJson: string): Promise<LoadedStudent> {
  const read = await readJsonFile(modelJson);
  if (!read.ok) throw new DataError(`${modelJson}: cannot read the student model (${read.problem})`);
  const json = read.value as tf.io.ModelJSON;
  let bytes = Buffer.byteLength(read.text);
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new DataError(`${modelJson}: not a tfjs Layers model.json (needs modelTopology and weightsManifest)`);
  }
  const dir = dirname(modelJson);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const p of group.paths) {
        const file = join(dir, p);
        let buf: Buffer;
        try {
          buf = await readFile(file);
        } catch (err) {
          throw new DataError(`${file}: weight file named by ${modelJson} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
        bytes += buf.byteLength;
        buffers.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
      }
    }
    return [specs, tf.io.concatenateArrayBuffers(buffers)];
  });
  try {
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    return { model, modelJson, bytes };
  } catch (err) {
    throw new DataError(`${modelJson}: tfjs cannot build the model (${(err as Error).message})`, { cause: err });
  }
}
