import { join } from 'node:path';
import { atomicWrite, atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { tf } from '../../pipeline/engines/tfjs.ts';

/** The files of a saved tfjs model. */
export interface SavedModelFiles {
  /** `model.json` (tfjs layers-model format; tf.loadLayersModel('file://.../model.json') reads it). */
  modelJson: string;
  /** `weights.bin`, the one weights shard model.json names. */
  weights: string;
  weightsSha256: string;
  weightsBytes: number;
}

/**
 * Saves a LayersModel as `model.json` + `weights.bin` in `dir`, each written atomically (weights
 * first, so model.json never names missing weights). Same layout as tfjs's `file://` handler.
 */
export async function saveTfjsModel(model: tf.LayersModel, dir: string): Promise<SavedModelFiles> {
  let files: SavedModelFiles | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const wd = artifacts.weightData!;
      const data = new Uint8Array(Array.isArray(wd) ? tf.io.concatenateArrayBuffers(wd) : wd);
      await atomicWrite(join(dir, 'weights.bin'), data);
      await atomicWriteJson(join(dir, 'model.json'), {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: 'distill train-student',
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
      });
      files = { modelJson: 'model.json', weights: 'weights.bin', weightsSha256: sha256Bytes(data), weightsBytes: data.byteLength };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return files!;
}
