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
  /** `mask` = attention_mask (1 = real token), `length` = real tokens per row. */
  role: 'row' | 'feature' | 'label' | 'slice' | 'mask' | 'length';
  /** feature: logical shape of one value. */
  shape?: number[];
  /** label: class count. */
  classes?: number;
  /** feature: image (an image shape [H,W] or [C,H,W]/[H,W,C]), vector (plain numeric) or tokens (integer ids < vocabSize). */
  kind?: 'image' | 'vector' | 'tokens';
  /** tokens feature: vocabulary size; every id is in 0..vocabSize-1. */
  vocabSize?: number;
  /** A variable-length list column read as a fixed-length feature (see pipeline/dataset/list-column.ts). */
  sequence?: ListSequence;
  /** An encoded-image column (PNG/JPEG bytes) read as decoded pixels (see pipeline/dataset/image-column.ts). */
  image?: EncodedImage;
}

/**
 * How an encoded-image column becomes pixels. The column's `type` is what readers see,
 * `fixed_size_list<uint8>[H*W*C]`, and its `shape` the declared [H, W] or [H, W, C]; the files hold
 * `storage`. Pixels are uint8 0..255 as decoded (no scaling), rows of pixels top to bottom, channels
 * interleaved (HWC, R G B). An image of another size or channel count is refused, never resized or
 * converted.
 */
export interface EncodedImage {
  /** The column's Arrow type in the files: `binary`, `large_binary`, or `struct<bytes: binary, path: utf8>` (Hugging Face Image feature). */
  storage: string;
  /** gray: 1 channel; rgb: 3 channels in the order R, G, B. */
  channels: 'gray' | 'rgb';
  /** Always HWC (channels last). */
  layout: 'HWC';
  /** The decoder and its version; the content fingerprint covers the pixels it produced. */
  decoder: string;
  /** Images per encoded format over all splits. */
  formats: { png: number; jpeg: number };
}

/** How a variable-length `list<T>` column becomes fixed-length rows: padded (or refused when longer) to maxLength. */
export interface ListSequence {
  maxLength: number;
  /** Where pad values go. */
  padding: 'right' | 'left';
  padValue: number;
  /** Real values per row over the whole dataset. */
  lengths: { min: number; mean: number; max: number };
}

/** What a row's labels mean; absent = classification (one label per row). */
export type DatasetTask = 'classification' | 'token-classification' | 'causal-lm';

/** The tokenizer a token dataset was built with; its file is copied into the dataset directory. */
export interface DatasetTokenizer {
  kind: 'char' | 'hf';
  /** Relative to the dataset directory. */
  file: string;
  /** sha256 of the file's bytes (a teacher card naming a tokenizer compares this). */
  sha256: string;
  vocabSize: number;
  /** Unicode normalisation applied to text before tokenizing, e.g. NFC. */
  normalization?: string;
}

/** Windowing of a token dataset. */
export interface DatasetSequence {
  /** Context L: tokens per row (input_ids is fixed_size_list<int32>[L]). */
  context: number;
  /** Tokens between the starts of consecutive windows of one document. */
  stride: number;
  /** Real tokens per row over all splits. */
  lengths: { min: number; mean: number; max: number };
  /** Documents per split (after duplicates were removed). */
  documents?: Record<string, number>;
  /** Documents removed from a later split because an earlier split holds the same text. */
  duplicatesRemoved?: number;
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
  /** Absent = classification. */
  task?: DatasetTask;
  tokenizer?: DatasetTokenizer;
  sequence?: DatasetSequence;
  software?: SoftwareProvenance;
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
