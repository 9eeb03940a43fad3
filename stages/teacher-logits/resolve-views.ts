/**
 * `teacherLogits.views` checked against the teacher and the dataset and turned into the policy a
 * store records (pipeline/augment/view-policy.ts). Everything that cannot be captured as views is a
 * ConfigError before the first batch, naming the field and what is allowed.
 */
import type { TeacherLogitsSection } from '../../pipeline/config/experiment-config.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { elementTypeOf } from '../../pipeline/dataset/feature-size.ts';
import { imageGeometry } from '../../pipeline/augment/image-geometry.ts';
import type { ViewPolicy } from '../../pipeline/augment/view-policy.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import type { SequenceLayout } from '../../pipeline/teacher/sequence-card.ts';
import type { TeacherCard } from '../../pipeline/teacher/teacher-card.ts';

/**
 * The store's view policy, or null without `teacherLogits.views`. Refused: a token (sequence)
 * teacher, a teacher with more than one input, sampled encodings, neither or both of `image` and
 * `noise`, an image policy that changes nothing, image views of a column without an image shape or
 * of other than uint8/float values, noise views of a non-float column.
 */
export function resolveViews(cfg: TeacherLogitsSection, card: TeacherCard, dataset: DatasetManifest, sequence: SequenceLayout | null): ViewPolicy | null {
  const v = cfg.views;
  if (!v) return null;
  if (sequence) throw new ConfigError(`teacherLogits.views: views of token inputs are not supported (the teacher is a ${sequence.target === 'next-token' ? 'causal LM' : 'token classifier'}); views augment images (views.image) or float vectors (views.noise)`);
  if (card.inputs.length !== 1) throw new ConfigError(`teacherLogits.views: the teacher has ${card.inputs.length} inputs (${card.inputs.map((b) => b.name).join(', ')}); views augment the column of a teacher with exactly one input`);
  if (cfg.encoding.mode === 'sampled') throw new ConfigError('teacherLogits.views: views are stored with dense or topk encodings, not sampled (teacherLogits.encoding.mode)');
  if ((v.image === undefined) === (v.noise === undefined)) throw new ConfigError(`teacherLogits.views needs exactly one of "image" (image columns) or "noise" (float vectors), but got ${v.image && v.noise ? 'both' : 'neither'}`);
  const columnName = card.inputs[0]!.column;
  const column = dataset.columns.find((c) => c.name === columnName);
  if (!column) throw new ConfigError(`teacherLogits.views: the teacher's input reads column "${columnName}", which the dataset does not have`);
  const elem = elementTypeOf(column.type);
  const base = { count: v.count, seed: v.seed ?? 0, column: columnName };
  if (v.image) {
    const { shift = 0, rotation = 0, scale = 0 } = v.image;
    if (shift === 0 && rotation === 0 && scale === 0) throw new ConfigError('teacherLogits.views.image: shift, rotation and scale are all 0, so every view would be the unaugmented input; set at least one');
    if (!['uint8', 'float32', 'float64'].includes(elem)) throw new ConfigError(`teacherLogits.views.image: column "${columnName}" holds ${elem} values; image views need uint8 (rounded to 0..255) or float32/float64 pixels`);
    const geometry = imageGeometry(columnName, column.shape);
    if (shift >= Math.min(geometry.height, geometry.width)) throw new ConfigError(`teacherLogits.views.image.shift is ${shift}, but the images of "${columnName}" are ${geometry.height}x${geometry.width}; a shift must be smaller than the image`);
    return { ...base, augment: { kind: 'image', shift, rotation, scale, geometry } };
  }
  if (!['float32', 'float64'].includes(elem)) throw new ConfigError(`teacherLogits.views.noise: column "${columnName}" holds ${elem} values; noise views need a float32/float64 column (use views.image for images)`);
  return { ...base, augment: { kind: 'noise', sd: v.noise!.sd } };
}
