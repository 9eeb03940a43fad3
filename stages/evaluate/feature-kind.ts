import type { DatasetColumn } from '../../pipeline/dataset/dataset-manifest.ts';

/** What a feature column holds, which decides its robustness suite (docs/evaluation.md). */
export type FeatureKind = 'image' | 'vector' | 'tokens';

/** An image shape: [H, W], [H, W, C] or [C, H, W] with C <= 4. */
function isImageShape(shape: readonly number[] | undefined): boolean {
  if (!shape) return false;
  if (shape.length === 2) return true;
  return shape.length === 3 && (shape[2]! <= 4 || shape[0]! <= 4);
}

/**
 * The kind of a feature column: the manifest's `kind` when it records one (DatasetColumn.kind), else
 * inferred: an image shape is an image, integer ids with a vocabulary size are tokens, anything else
 * numeric is a plain vector.
 */
export function featureKindOf(column: DatasetColumn): FeatureKind {
  const recorded = (column as DatasetColumn & { kind?: FeatureKind; vocabSize?: number }).kind;
  if (recorded === 'image' || recorded === 'vector' || recorded === 'tokens') return recorded;
  if (isImageShape(column.shape)) return 'image';
  if ((column as { vocabSize?: number }).vocabSize !== undefined) return 'tokens';
  return 'vector';
}
