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
  /** Labels as integers. */
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
  label: string;
  /** Slice columns to read. Default none. */
  slices?: readonly string[];
  /** Read the first N rows only. Default all. */
  limitRows?: number;
}

/** Reads the first `limitRows` rows of a split (the whole split by default) into memory. */
export async function readEvalRows(opts: ReadEvalRowsOptions): Promise<EvalRows> {
  const split = getSplit(opts.manifest, opts.split, join(opts.dir, 'manifest.json'));
  const rows = Math.min(opts.limitRows ?? split.rows, split.rows);
  if (rows === 0) throw new DataError(`${opts.dir}: split "${opts.split}" has no rows to evaluate`);
  const table = await new SplitReader(opts.dir, opts.manifest, opts.split).readRows(0, rows);
  const column = (name: string) => {
    const v = table.getChild(name);
    if (!v) throw new DataError(`${opts.dir}: split "${opts.split}" has no column "${name}"`);
    return v;
  };
  const features = new Map<string, NumericArray>();
  for (const name of opts.features) {
    const col = opts.manifest.columns.find((c) => c.name === name);
    if (!col) throw new DataError(`${opts.dir}: the dataset manifest has no column "${name}"`);
    features.set(name, columnValues(column(name), featureSizeOf(col)));
  }
  const lv = columnValues(column(opts.label), 1);
  const labels = Int32Array.from(lv as ArrayLike<number>, (v) => Number(v));
  const slices = new Map<string, (string | number | bigint)[]>();
  for (const name of opts.slices ?? []) slices.set(name, [...column(name)].map((v) => (v === null ? 'null' : (v as string | number | bigint))));
  return { rows, features, labels, slices };
}
