/**
 * The rows of a token dataset split in memory, as the sequence evaluation and export read them:
 * `input_ids`, the attention mask, the per-position labels of token classification, and the slice
 * columns (a `fixed_size_list<..>[L]` slice is per position, any other per row).
 */
import type { DatasetManifest } from '../dataset/dataset-manifest.ts';
import { columnsWithRole } from '../dataset/dataset-manifest.ts';
import { featureSizeOf } from '../dataset/feature-size.ts';
import { DataError } from '../errors.ts';
import { readEvalRows } from './read-eval-rows.ts';

/** One split's token rows, row-major `[rows * L]` per-position arrays. */
export interface TokenSplit {
  split: string;
  rows: number;
  /** Context L. */
  L: number;
  inputIds: Int32Array;
  /** 1 = real token (all ones when the dataset has no mask column). */
  attentionMask: Uint8Array;
  /** Token classification labels (-100 = no target); null for a dataset without per-position labels. */
  labels: Int32Array | null;
  /** Per-position slice columns (e.g. word_final), `[rows * L]`. */
  positionSlices: Record<string, Int32Array>;
  /** Per-row slice columns (e.g. genre), one value per row. */
  rowSlices: Record<string, (string | number)[]>;
}

/** What {@link readTokenSplit} reads. */
export interface ReadTokenSplitOptions {
  dir: string;
  manifest: DatasetManifest;
  split: string;
  /** The ids column (the student's feature), e.g. input_ids. */
  idsColumn: string;
  /** The mask column, or null: every position is real. */
  maskColumn: string | null;
  /** Read the per-position labels column (role label, L values per row). Default false. */
  labels?: boolean;
  /** Read the slice columns. Default false. */
  slices?: boolean;
  limitRows?: number;
  /** Only these rows (sorted ids, e.g. a validation carve-out). */
  rowIds?: Uint32Array;
}

/** The per-position labels column of a token dataset (role label, L values per row), or null. */
export function tokenLabelColumn(manifest: DatasetManifest, L: number): string | null {
  const c = columnsWithRole(manifest, 'label').find((col) => featureSizeOf(col) === L && L > 1);
  return c?.name ?? null;
}

/**
 * Reads a token split (the first `limitRows` rows, or `rowIds`).
 * @throws DataError when a column is missing or not L values per row.
 */
export async function readTokenSplit(opts: ReadTokenSplitOptions): Promise<TokenSplit> {
  const { manifest } = opts;
  const idsCol = manifest.columns.find((c) => c.name === opts.idsColumn);
  if (!idsCol) throw new DataError(`${opts.dir}: the dataset has no column "${opts.idsColumn}"`);
  const L = featureSizeOf(idsCol);
  const labelColumn = opts.labels ? tokenLabelColumn(manifest, L) : null;
  if (opts.labels && !labelColumn) throw new DataError(`${opts.dir}: a token-classification dataset needs a labels column (role label, ${L} values per row like ${opts.idsColumn}); the manifest has none`);
  const slices = opts.slices ? columnsWithRole(manifest, 'slice') : [];
  const positionSlices = slices.filter((c) => featureSizeOf(c) === L && c.type.startsWith('fixed_size_list')).map((c) => c.name);
  const rowSlices = slices.filter((c) => !positionSlices.includes(c.name)).map((c) => c.name);
  const features = [opts.idsColumn, ...(opts.maskColumn ? [opts.maskColumn] : []), ...(labelColumn ? [labelColumn] : []), ...positionSlices];
  const read = await readEvalRows({ dir: opts.dir, manifest, split: opts.split, features, slices: rowSlices, ...(opts.limitRows ? { limitRows: opts.limitRows } : {}), ...(opts.rowIds ? { rowIds: opts.rowIds } : {}) });
  const n = read.rows;
  const ints = (name: string): Int32Array => {
    const v = read.features.get(name)!;
    if (v.length !== n * L) throw new DataError(`${opts.dir}: split "${opts.split}" column "${name}" has ${v.length / n} values per row, expected ${L} (the context of ${opts.idsColumn})`);
    return Int32Array.from(v as ArrayLike<number>, (x) => Number(x));
  };
  return {
    split: opts.split,
    rows: n,
    L,
    inputIds: ints(opts.idsColumn),
    attentionMask: opts.maskColumn ? Uint8Array.from(ints(opts.maskColumn)) : new Uint8Array(n * L).fill(1),
    labels: labelColumn ? ints(labelColumn) : null,
    positionSlices: Object.fromEntries(positionSlices.map((s) => [s, ints(s)])),
    rowSlices: Object.fromEntries(rowSlices.map((s) => [s, read.slices.get(s)!.map((v) => (typeof v === 'bigint' ? Number(v) : v))])),
  };
}
