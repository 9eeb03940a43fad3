/**
 * The rows a sequence evaluation reads: the test rows (evaluate.limitRows, else all) and the
 * validation rows (a named split or the carve-out of train), ids and masks only (the models' outputs
 * are scored batch by batch: stream-split-positions.ts), and what the train split contributes (word
 * counts for diacritisation, token-frequency buckets for a causal LM), the validation carve-out left
 * out of it.
 */
import { describeValidation } from '../../pipeline/config/validation-rows.ts';
import { TOKEN_FREQUENCY_BUCKETS, frequencyBuckets } from '../../pipeline/dataset/token-frequency-buckets.ts';
import { DataError } from '../../pipeline/errors.ts';
import { readTokenSplit } from '../../pipeline/eval/read-token-split.ts';
import type { TokenSplit } from '../../pipeline/eval/read-token-split.ts';
import type { SequenceEvaluateInputs } from './sequence-evaluate-inputs.ts';
import type { SequenceSelection } from './sequence-evaluate-report.ts';
import type { DiacriticOptions } from './sequence-report.ts';
import type { TokenVocabulary } from './token-vocabulary.ts';
import { trainWordCounts } from './word-frequency-buckets.ts';

/** The test and validation rows. */
export interface SequenceEvalRows {
  test: TokenSplit;
  validation: TokenSplit | null;
  selection: SequenceSelection;
}

/** What the columns are and how big the outputs are. */
export interface TokenShape {
  idsColumn: string;
  maskColumn: string | null;
  L: number;
  P: number;
  C: number;
}

/** Reads the test rows (the first evaluate.limitRows, else all) and every validation row. */
export async function readSequenceEvalRows(inp: SequenceEvaluateInputs, s: TokenShape): Promise<SequenceEvalRows> {
  const base = { dir: inp.datasetDir, manifest: inp.dataset, idsColumn: s.idsColumn, maskColumn: s.maskColumn, labels: inp.task === 'token-classification' };
  const wanted = Math.min(inp.ev.limitRows ?? inp.splitInfo.rows, inp.splitInfo.rows);
  const test = await readTokenSplit({ ...base, split: inp.split, slices: true, limitRows: wanted });
  const plan = inp.validation;
  const validation = plan ? await readTokenSplit({ ...base, split: plan.split, ...(plan.kind === 'carve-out' ? { rowIds: plan.rows } : {}) }) : null;
  const selection: SequenceSelection = plan && validation
    ? { on: 'validation', split: plan.split, rows: validation.rows, description: describeValidation(plan) }
    : { on: 'test', split: inp.split, rows: test.rows, description: 'the test rows themselves (no dataset.validation): chosen and scored on the same rows, so optimistic' };
  return { test, validation, selection };
}

/** The train rows, without a validation carve-out's rows. */
async function trainRows(inp: SequenceEvaluateInputs, s: TokenShape, trainSplit: string, labels: boolean): Promise<TokenSplit> {
  const plan = inp.validation;
  const total = inp.dataset.splits[trainSplit]?.rows ?? 0;
  let rowIds: Uint32Array | undefined;
  if (plan?.kind === 'carve-out' && plan.split === trainSplit) {
    const held = new Set(plan.rows);
    rowIds = Uint32Array.from({ length: total }, (_, i) => i).filter((i) => !held.has(i));
  }
  return readTokenSplit({ dir: inp.datasetDir, manifest: inp.dataset, split: trainSplit, idsColumn: s.idsColumn, maskColumn: s.maskColumn, labels, ...(rowIds ? { rowIds } : {}) });
}

/**
 * What the train split gives the report: word counts (token classification over a character
 * vocabulary with separators: the diacritisation part) or the frequency bucket of every token id
 * (causal LM: frequent / middle / rare by the share of train tokens, the lm-brown rule); neither for
 * other datasets.
 */
export async function trainStatistics(inp: SequenceEvaluateInputs, s: TokenShape, vocab: TokenVocabulary, trainSplit: string): Promise<{ diacritics?: DiacriticOptions; tokenBuckets?: Map<number, string> }> {
  if (inp.task === 'token-classification') {
    if (vocab.kind !== 'char' || vocab.separators.length === 0) return {};
    const train = await trainRows(inp, s, trainSplit, true);
    const separators = new Set(vocab.separators);
    return { diacritics: { separators, trainWordCounts: trainWordCounts(train.inputIds, train.attentionMask, train.labels!, s.L, separators) } };
  }
  const train = await trainRows(inp, s, trainSplit, false);
  const counts = new Array<number>(s.C).fill(0);
  train.inputIds.forEach((id, i) => {
    if (train.attentionMask[i] !== 1) return;
    if (id < 0 || id >= s.C) throw new DataError(`${inp.datasetDir} split "${trainSplit}": token id ${id} at flat position ${i} is outside the teacher's vocabulary [0, ${s.C})`);
    counts[id]! += 1;
  });
  // Inserted bucket by bucket, so the report lists frequent, middle, rare in that order.
  const bucketOf = frequencyBuckets(counts);
  const ids = bucketOf.map((_, id) => id).sort((a, b) => bucketOf[a]! - bucketOf[b]! || a - b);
  return { tokenBuckets: new Map(ids.map((id) => [id, TOKEN_FREQUENCY_BUCKETS[bucketOf[id]!]!])) };
}

/** Largest number of distinct values a slice column may have to be broken down in the report. */
export const MAX_SLICE_VALUES = 50;

/** The slice columns of the test rows to break down, and those with too many values. */
export function slicesToReport(test: TokenSplit): { position: string[]; row: string[]; skipped: { column: string; values: number }[] } {
  const skipped: { column: string; values: number }[] = [];
  const keep = (column: string, values: ArrayLike<number | string>, mask?: Uint8Array): boolean => {
    const distinct = new Set<number | string>();
    for (let i = 0; i < values.length; i++) if (!mask || mask[i] === 1) distinct.add(values[i]!);
    if (distinct.size <= MAX_SLICE_VALUES) return true;
    skipped.push({ column, values: distinct.size });
    return false;
  };
  const position = Object.keys(test.positionSlices).filter((c) => keep(c, test.positionSlices[c]!, test.attentionMask));
  const row = Object.keys(test.rowSlices).filter((c) => keep(c, test.rowSlices[c]!));
  return { position, row, skipped };
}
