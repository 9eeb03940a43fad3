import { join } from 'node:path';
import { checkAgainstSchema } from '../config/validate-schema.ts';
import { DataError } from '../errors.ts';
import { readJsonFileOrThrow } from '../io/read-json.ts';
import type { SoftwareProvenance } from '../provenance.ts';

/** The manifest file name inside a dataset directory. */
export const DATASET_MANIFEST = 'manifest.json';

/** One column of a dataset and its role. */
export interface DatasetColumn {
  name: string;
  /** Type name as produced by columnTypeName, e.g. `fixed_size_list<uint8>[784]`. */
  type: string;
  role: 'row' | 'feature' | 'label' | 'slice' | 'mask' | 'length';
  /** feature: image (has an image shape), vector (plain numeric) or tokens (integer ids, `vocabSize`). */
  kind?: 'image' | 'vector' | 'tokens';
  /** tokens: vocabulary size. */
  vocabSize?: number;
  /** feature: logical shape of one value. */
  shape?: number[];
  /** label: class count. */
  classes?: number;
}

/** One table file of a split. */
export interface DatasetFile {
  /** Relative to the dataset directory. */
  path: string;
  rowStart: number;
  /** Exclusive. */
  rowEnd: number;
  bytes: number;
  sha256: string;
  /** Row fingerprint of the file's rows (see RowFingerprint). */
  fingerprint: string;
}

/** One split (train, test, ...). */
export interface DatasetSplit {
  rows: number;
  /** Row fingerprint over the whole split. */
  fingerprint: string;
  /** Rows per label value, when the dataset has a label. */
  labelCounts?: number[];
  files: DatasetFile[];
}

/** manifest.json of a dataset directory (schemas/dataset-manifest.schema.json). */
export interface DatasetManifest {
  formatVersion: 1;
  kind: 'distill.dataset';
  name: string;
  createdAt: string;
  source?: Record<string, unknown>;
  columns: DatasetColumn[];
  splits: Record<string, DatasetSplit>;
  software?: SoftwareProvenance;
  /** Task kind; absent = classification. */
  task?: 'classification' | 'token-classification' | 'causal-lm';
  /** The tokenizer of a token dataset: its file (copied into the dataset dir, relative), sha256, vocab size. */
  tokenizer?: { kind: 'char' | 'hf'; file: string; sha256: string; vocabSize: number; normalization?: string };
  /** Windows of a token dataset: context L, stride, real-token lengths, documents per split, duplicates removed. */
  sequence?: {
    context: number;
    stride: number;
    lengths: { min: number; mean: number; max: number };
    documents?: Record<string, number>;
    duplicatesRemoved?: number;
  };
}

/** Reads and validates a dataset manifest; any problem is a DataError naming the file and field. */
export async function readDatasetManifest(dir: string): Promise<DatasetManifest> {
  const path = join(dir, DATASET_MANIFEST);
  const { value } = await readJsonFileOrThrow(
    path,
    `${dir} is not a dataset (run \`distill data mnist\`, or \`distill data index\` for your own Parquet files)`,
  );
  const problems = checkAgainstSchema('dataset-manifest', value);
  if (problems.length > 0) {
    throw new DataError(`${path} is not a valid dataset manifest:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
  }
  return value as DatasetManifest;
}

/** Columns with a role, in manifest order. */
export function columnsWithRole(manifest: DatasetManifest, role: DatasetColumn['role']): DatasetColumn[] {
  return manifest.columns.filter((c) => c.role === role);
}

/** The columns a row fingerprint covers: every column except `row`, in manifest order. */
export function fingerprintColumns(manifest: Pick<DatasetManifest, 'columns'>): string[] {
  return manifest.columns.filter((c) => c.role !== 'row').map((c) => c.name);
}

/** A split of the manifest, or a DataError listing the splits there are. */
export function getSplit(manifest: DatasetManifest, split: string, where: string): DatasetSplit {
  const s = manifest.splits[split];
  if (!s) throw new DataError(`${where}: the dataset has no split "${split}" (it has: ${Object.keys(manifest.splits).join(', ')})`);
  return s;
}
