import { join } from 'node:path';
import type { DatasetManifest } from '../dataset/dataset-manifest.ts';
import { getSplit } from '../dataset/dataset-manifest.ts';
import { SplitReader } from '../dataset/split-reader.ts';
import { DataError } from '../errors.ts';
import { columnValues } from '../io/column-values.ts';
import type { NumericArray } from '../io/column-values.ts';
import { featureSizeOf } from '../dataset/feature-size.ts';

/** The first rows of a split, column by column, in memory. */
export interface EvalRows {
  rows: number;
  /** Numeric feature columns by name, row-major (`rows * width` values). */
  features: Map<string, NumericArray>;
  /** Labels as integers (empty when no label column was read). */
  labels: Int32Array;
  /** Slice columns by name: one value per row (numbers, bigints or strings). */
  slices: Map<string, (string | number | bigint)[]>;
}

/** What {@link readEvalRows} reads. */
export interface ReadEvalRowsOptions {
  dir: string;
  manifest: DatasetManifest;
  split: string;
  /** Feature columns to read. */
  features: readonly string[];
  /** The label column (one integer per row); absent: none is read (e.g. a causal-LM token dataset). */
  label?: string;
  /** Slice columns to read. Default none. */
  slices?: readonly string[];
  /** Read the first N rows only. Default all. */
  limitRows?: number;
  /** Read only these rows (sorted split row ids, e.g. a validation carve-out), in this order; limitRows then caps their count. Default: every row. */
  rowIds?: Uint32Array;
}

/** Rows `ids` of a row-major array of `width` values per row. */
function gather<T extends NumericArray>(values: T, ids: Uint32Array, width: number): T {
  const Ctor = values.constructor as new (n: number) => T;
  const out = new Ctor(ids.length * width);
  ids.forEach((r, i) => {
    for (let j = 0; j < width; j++) out[i * width + j] = values[r * width + j]!;
  });
  return out;
}

/**
 * Reads the first `limitRows` rows of a split (the whole split by default), or the rows `rowIds`
 * (the first `limitRows` of them), into memory.
 */
export async function readEvalRows(opts: ReadEvalRowsOptions): Promise<EvalRows> {
  const split = getSplit(opts.manifest, opts.split, join(opts.dir, 'manifest.json'));
  const ids = opts.rowIds ? opts.rowIds.subarray(0, Math.min(opts.limitRows ?? opts.rowIds.length, opts.rowIds.length)) : null;
  if (ids && ids.length > 0 && ids[ids.length - 1]! >= split.rows) throw new DataError(`${opts.dir}: split "${opts.split}" has ${split.rows} rows, but row ${ids[ids.length - 1]} was asked for`);
  const rows = ids ? ids.length : Math.min(opts.limitRows ?? split.rows, split.rows);
  if (rows === 0) throw new DataError(`${opts.dir}: split "${opts.split}" has no rows to evaluate`);
  const table = await new SplitReader(opts.dir, opts.manifest, opts.split).readRows(0, ids ? ids[ids.length - 1]! + 1 : rows);
  const column = (name: string) => {
    const v = table.getChild(name);
    if (!v) throw new DataError(`${opts.dir}: split "${opts.split}" has no column "${name}"`);
    return v;
  };
  const features = new Map<string, NumericArray>();
  for (const name of opts.features) {
    const col = opts.manifest.columns.find((c) => c.name === name);
    if (!col) throw new DataError(`${opts.dir}: the dataset manifest has no column "${name}"`);
    const values = columnValues(column(name), featureSizeOf(col));
    features.set(name, ids ? gather(values, ids, featureSizeOf(col)) : values);
  }
  const lv = opts.label !== undefined ? columnValues(column(opts.label), 1) : new Int32Array(0);
  const labels = opts.label !== undefined ? Int32Array.from((ids ? gather(lv, ids, 1) : lv) as ArrayLike<number>, (v) => Number(v)) : new Int32Array(0);
  const slices = new Map<string, (string | number | bigint)[]>();
  for (const name of opts.slices ?? []) {
    const all = [...column(name)].map((v) => (v === null ? 'null' : (v as string | number | bigint)));
    slices.set(name, ids ? Array.from(ids, (r) => all[r]!) : all);
  }
  return { rows, features, labels, slices };
}
