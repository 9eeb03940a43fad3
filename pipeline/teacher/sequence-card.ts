/**
 * Sequence teachers (teacher card `task` token-classification or causal-lm): resolving the card's
 * symbolic "seq" axis to the dataset's context L, the target rule, and the checks between the card
 * and a token dataset (task, tokenizer sha256, context) made before the first batch.
 */
import type { DatasetManifest } from '../dataset/dataset-manifest.ts';
import { featureSizeOf } from '../dataset/feature-size.ts';
import { DataError } from '../errors.ts';
import type { TeacherCard } from './teacher-card.ts';
import { isSequenceCard } from './teacher-card.ts';

/** How a sequence teacher's output maps to store positions. */
export interface SequenceLayout {
  /** token: position t is token t (P = L); next-token: position t predicts t+1 (P = L - 1). */
  target: 'token' | 'next-token';
  /** Context L (tokens per row). */
  context: number;
  /** Stored positions P. */
  positions: number;
  /** The dataset column of the attention mask (1 = real token), or null: every position is real. */
  maskColumn: string | null;
}

/** The card with every "seq" dim replaced by the context L (shapes then have fixed sizes past batch). */
export function resolveSequenceCard(card: TeacherCard, context: number): TeacherCard {
  const dims = <T>(shape: T[]): (T | number)[] => shape.map((d) => (d === 'seq' ? context : d));
  return { ...card, inputs: card.inputs.map((b) => ({ ...b, shape: dims(b.shape) as TeacherCard['inputs'][number]['shape'] })), output: { ...card.output, ...(card.output.shape ? { shape: dims(card.output.shape) as NonNullable<TeacherCard['output']['shape']> } : {}) } };
}

function contextOf(card: TeacherCard, dataset: DatasetManifest, cardPath: string): number {
  if (dataset.sequence) return dataset.sequence.context;
  const b = card.inputs.find((i) => i.shape[1] === 'seq');
  const col = b && dataset.columns.find((c) => c.name === b.column);
  if (!col || !/^(?:fixed_size_list|large_list|list)</.test(col.type)) {
    throw new DataError(`${cardPath}: a sequence teacher needs a token dataset (manifest sequence.context, or a list column bound to a ["batch", "seq"] input)`);
  }
  return featureSizeOf(col);
}

/** The number of token ids a teacher embeds: its tokenizer's declared size, else (causal LM) its output vocabulary. */
function teacherVocabulary(card: TeacherCard): { size: number; field: string } | null {
  if (card.tokenizer?.vocabSize !== undefined) return { size: card.tokenizer.vocabSize, field: 'tokenizer.vocabSize' };
  if (card.task === 'causal-lm') return { size: card.classes.count, field: 'classes.count' };
  return null;
}

/**
 * Refuses (DataError naming the column and both sizes) a token column bound to a teacher input whose
 * ids may lie outside the teacher's vocabulary: every id of a `tokens` column is below its manifest
 * vocabSize (checked when it was indexed), so a vocabSize above the teacher's means out-of-vocabulary
 * ids that ONNX Runtime's embedding Gather would reject mid-run.
 */
export function checkTokenVocabulary(card: TeacherCard, dataset: DatasetManifest, cardPath: string, datasetDir: string): void {
  const vocab = teacherVocabulary(card);
  if (!vocab) return;
  for (const b of card.inputs) {
    const col = dataset.columns.find((c) => c.name === b.column);
    if (col?.kind === 'tokens' && col.vocabSize !== undefined && col.vocabSize > vocab.size) {
      throw new DataError(
        `${datasetDir}: column "${col.name}" holds token ids 0..${col.vocabSize - 1} (vocabulary ${col.vocabSize}), but the teacher ${cardPath} has ${vocab.size} ids (${vocab.field}); ` +
          `ids ${vocab.size}..${col.vocabSize - 1} are out of its vocabulary (tokenize the text with the teacher's tokenizer)`,
      );
    }
  }
}

/**
 * The sequence layout of a sequence teacher on a dataset, or null for a classification teacher.
 * Refuses (DataError naming both sides): a dataset of another task, a tokenizer with another sha256
 * (or none), token ids beyond the teacher's vocabulary (checkTokenVocabulary), a context longer than the
 * teacher's, and (causal LM) a tokenizer larger than the teacher's vocabulary.
 */
export function sequenceLayout(card: TeacherCard, dataset: DatasetManifest, cardPath: string, datasetDir: string): SequenceLayout | null {
  if (card.tokenizer) {
    const theirs = dataset.tokenizer?.sha256;
    if (theirs !== card.tokenizer.sha256) {
      throw new DataError(`${datasetDir}: the dataset was tokenized with ${theirs ? `tokenizer sha256 ${theirs}` : 'no recorded tokenizer'}, but the teacher ${cardPath} was trained with tokenizer sha256 ${card.tokenizer.sha256}; re-tokenize the text with the teacher's tokenizer${card.tokenizer.file ? ` (${card.tokenizer.file})` : ''}`);
    }
  }
  checkTokenVocabulary(card, dataset, cardPath, datasetDir);
  if (!isSequenceCard(card)) return null;
  const task = dataset.task ?? 'classification';
  if (dataset.task !== undefined && task !== card.task) {
    throw new DataError(`${datasetDir}: the dataset's task is ${task}, but the teacher ${cardPath} is a ${card.task} teacher`);
  }
  const context = contextOf(card, dataset, cardPath);
  if (card.context !== undefined && context > card.context) {
    throw new DataError(`${datasetDir}: windows of ${context} tokens are longer than the teacher's context ${card.context} (${cardPath}); rebuild the dataset with --context ${card.context} or less`);
  }
  // A causal LM's outputs are its input vocabulary; a token classifier's are label classes (40 letters in, 15 marks out).
  if (card.task === 'causal-lm' && dataset.tokenizer && dataset.tokenizer.vocabSize > card.classes.count) {
    throw new DataError(`${datasetDir}: the tokenizer has ${dataset.tokenizer.vocabSize} ids, more than the teacher's vocabulary of ${card.classes.count} (${cardPath} classes.count)`);
  }
  const target = card.task === 'causal-lm' ? 'next-token' : 'token';
  const mask = dataset.columns.find((c) => c.role === 'mask') ?? dataset.columns.find((c) => c.name === 'attention_mask');
  return { target, context, positions: target === 'next-token' ? context - 1 : context, maskColumn: mask?.name ?? null };
}
