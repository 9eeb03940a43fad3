import { join } from 'node:path';
import type { tf } from '../engines/tfjs.ts';
import { atomicWrite, atomicWriteJson } from '../io/atomic-write.ts';
import { sha256Bytes } from '../io/sha256.ts';
import { encodeModel } from '../onnx/encode-model.ts';
import type { TeacherCard } from '../teacher/teacher-card.ts';
import { layersToOnnx } from './layers-to-onnx.ts';
import type { LayersToOnnxResult } from './layers-to-onnx.ts';

/** File name of the exported model. */
export const EXPORT_MODEL = 'model.onnx';
/** File name of its card (teacher-card format, schemas/teacher-card.schema.json). */
export const EXPORT_CARD = 'card.json';

/** What {@link writeStudentOnnx} needs to know about the student's input. */
export interface StudentOnnxOptions {
  /** Output folder. */
  dir: string;
  /** Model name in the card, e.g. `mnist-kd-student`. */
  name: string;
  /** Dataset feature column the student reads; also the ONNX input name. */
  feature: string;
  /** Factor applied to the feature values (the card's preprocess.scale). */
  inputScale: number;
  /** Class names for the card; default none. */
  classNames?: readonly string[];
  /** Provenance written into the card's description. */
  description?: string;
}

/** The written export. */
export interface WrittenOnnx {
  modelPath: string;
  cardPath: string;
  card: TeacherCard;
  bytes: Uint8Array;
  sha256: string;
  conversion: LayersToOnnxResult;
}

/**
 * Converts the student to ONNX and writes `model.onnx` and `card.json` (model first, each atomic).
 * The card uses the teacher-card format, so the exported student can be loaded like a teacher:
 * input `<feature>` float32 `["batch", ...input shape]` = feature value * inputScale.
 */
export async function writeStudentOnnx(model: tf.LayersModel, opts: StudentOnnxOptions): Promise<WrittenOnnx> {
  const docString = `distill student; input "${opts.feature}" = dataset feature "${opts.feature}" * ${opts.inputScale} (float32, layout as the tfjs model: channels-last)`;
  const conversion = layersToOnnx(model, { inputName: opts.feature, outputName: 'logits', graphName: opts.name, docString });
  const bytes = encodeModel(conversion.spec);
  const sha256 = sha256Bytes(bytes);
  const card: TeacherCard = {
    formatVersion: 1,
    name: opts.name,
    description: opts.description ?? docString,
    model: EXPORT_MODEL,
    sha256,
    inputs: [
      {
        name: opts.feature,
        column: opts.feature,
        dtype: 'float32',
        shape: ['batch', ...conversion.inputShape],
        ...(conversion.inputShape.length === 3 ? { layout: 'NHWC' } : {}),
        preprocess: { scale: opts.inputScale, offset: 0 },
      },
    ],
    output: { name: 'logits', kind: conversion.outputKind },
    classes: { count: conversion.outputSize, ...(opts.classNames && opts.classNames.length === conversion.outputSize ? { names: [...opts.classNames] } : {}) },
  };
  const modelPath = join(opts.dir, EXPORT_MODEL);
  const cardPath = join(opts.dir, EXPORT_CARD);
  await atomicWrite(modelPath, bytes);
  await atomicWriteJson(cardPath, card);
  return { modelPath, cardPath, card, bytes, sha256, conversion };
}
