import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { atomicWriteJson } from '../io/atomic-write.ts';
import { decodeTable, readFileBytes, tableFormatOf } from '../io/table-files.ts';
import { sha256Bytes } from '../io/sha256.ts';
import { writeArrowCache } from './read-dataset-file.ts';
import { DataError } from '../errors.ts';
import { softwareProvenance } from '../provenance.ts';
import type { Reporter } from '../reporter.ts';
import { columnTypeName } from './column-type.ts';
import { DATASET_MANIFEST, fingerprintColumns } from './dataset-manifest.ts';
import type { DatasetColumn, DatasetFile, DatasetManifest, DatasetSplit } from './dataset-manifest.ts';
import { RowFingerprint } from './row-fingerprint.ts';
import { ListLengthTracker } from './list-lengths.ts';
import type { ListOptions } from './list-lengths.ts';
import { withFixedLists } from './list-column.ts';
import { checkLabelValues, checkTokenIds, featureKind, isPositionLabel } from './column-checks.ts';
import { decodeImageColumns, encodedImageColumn, encodedImageStorage, imageCacheKey } from './image-column.ts';
import type { ImageTally } from './image-column.ts';
import { imageDecoderName } from '../engines/image-decoder.ts';

/** How to describe a directory of Parquet/Arrow files as a dataset. */
export interface IndexOptions extends ListOptions {
  /** Dataset name recorded in the manifest. */
  name: string;
  /** Label column, or null for an unlabeled dataset. Default: "label" when such a column exists. */
  label?: string | null;
  /** Class count; default max(label) + 1 over all splits. */
  classes?: number;
  /** Feature columns; default every column that is not row, label or a slice. */
  features?: string[];
  /** Slice columns (e.g. a writer id) for per-slice metrics. Default none. */
  slices?: string[];
  /**
   * Logical shape per feature column, e.g. { pixels: [28, 28] }. Required for an encoded-image
   * column (PNG/JPEG bytes): the decoded [H, W] or [H, W, 1] (grayscale) or [H, W, 3] (RGB).
   */
  shapes?: Record<string, number[]>;
  /** Free-form provenance recorded as manifest.source. */
  source?: Record<string, unknown>;
  /** Columns with the roles `mask` (attention_mask) or `length`; never features by default. */
  roles?: Record<string, 'mask' | 'length'>;
  /** Token features: vocabulary size per column (kind tokens; every id is checked to be below it). */
  vocabSizes?: Record<string, number>;
  /** Feature kinds, when the default (tokens with a vocabSize, image for a 2-d/3-d shape, else vector) is wrong. */
  kinds?: Record<string, NonNullable<DatasetColumn['kind']>>;
  /** Recorded in the manifest as they are (token datasets). */
  extra?: Pick<DatasetManifest, 'task' | 'tokenizer' | 'sequence'>;
}

const TABLE_FILE = /\.(parquet|arrow)$/;

/** The split directories and their table files, sorted by name. */
async function listSplits(dir: string): Promise<Map<string, string[]>> {
  const splits = new Map<string, string[]>();
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new DataError(`${dir}: cannot list the dataset directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  for (const e of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = (await readdir(join(dir, e.name))).filter((f) => TABLE_FILE.test(f) && !f.startsWith('.')).sort();
    if (files.length > 0) splits.set(e.name, files.map((f) => `${e.name}/${f}`));
  }
  if (splits.size === 0) throw new DataError(`${dir}: no split folders with .parquet or .arrow files (expected e.g. ${dir}/train/part-00000.parquet)`);
  return splits;
}

/** A column as describeColumns gives it: without the sequence that list tracking adds, image formats not yet counted. */
function withoutList(c: DatasetColumn): DatasetColumn {
  const rest = { ...c };
  delete rest.sequence;
  if (rest.image) rest.image = { ...rest.image, formats: { png: 0, jpeg: 0 } };
  return rest;
}

function describeColumns(table: Table, file: string, opts: IndexOptions): DatasetColumn[] {
  const names = table.schema.fields.map((f) => f.name);
  const label = opts.label === undefined ? (names.includes('label') ? 'label' : null) : opts.label;
  const slices = opts.slices ?? [];
  const roles = opts.roles ?? {};
  const features = opts.features ?? names.filter((n) => n !== 'row' && n !== label && !slices.includes(n) && !(n in roles));
  for (const want of ['row', ...(label ? [label] : []), ...features, ...Object.keys(roles), ...slices]) {
    if (!names.includes(want)) throw new DataError(`${file}: no column "${want}" (columns: ${names.join(', ')})`);
  }
  if (features.length === 0) throw new DataError(`${file}: no feature columns`);
  const typeOf = (n: string): string => {
    const t = columnTypeName(table.schema.fields.find((f) => f.name === n)!.type);
    if (!t) throw new DataError(`${file}: column "${n}" has an unsupported type ${String(table.schema.fields.find((f) => f.name === n)!.type)}`);
    return t;
  };
  if (typeOf('row') !== 'int64') throw new DataError(`${file}: column "row" must be int64, but is ${typeOf('row')}`);
  const cols: DatasetColumn[] = [{ name: 'row', type: 'int64', role: 'row' }];
  for (const f of features) {
    const shape = opts.shapes?.[f];
    const storage = encodedImageStorage(table.schema.fields.find((field) => field.name === f)!.type);
    if (storage) {
      cols.push(encodedImageColumn(f, storage, shape, imageDecoderName(), file));
      continue;
    }
    const vocabSize = opts.vocabSizes?.[f];
    const kind = opts.kinds?.[f] ?? featureKind(shape, vocabSize);
    if (kind === 'tokens' && (vocabSize === undefined || !/^((fixed_size_|large_)?list<)?u?int\d+/.test(typeOf(f)))) {
      throw new DataError(`${file}: token feature "${f}" needs integer ids (it is ${typeOf(f)}) and a vocabulary size (--vocab-size)`);
    }
    cols.push({ name: f, type: typeOf(f), role: 'feature', ...(shape ? { shape } : {}), kind, ...(vocabSize !== undefined ? { vocabSize } : {}) });
  }
  if (label) {
    const t = typeOf(label);
    if (!/^(fixed_size_list<)?u?int\d+(>\[\d+\])?$/.test(t)) throw new DataError(`${file}: label column "${label}" must be an integer type (or a fixed-size list of per-position labels), but is ${t}`);
    cols.push({ name: label, type: t, role: 'label' });
  }
  for (const [name, role] of Object.entries(roles)) cols.push({ name, type: typeOf(name), role });
  for (const s of slices) cols.push({ name: s, type: typeOf(s), role: 'slice' });
  return cols;
}

/**
 * Describes a directory of table files as a dataset and writes its manifest.json (atomically, last):
 * `<dir>/<split>/*.parquet|*.arrow`, files of a split sorted by name and holding consecutive
 * `row` values from 0. Every file is read: row coverage, column types and label range are checked,
 * and the per-file and per-split content fingerprints computed.
 *
 * @example
 * await indexDataset('artifacts/data/my-set', { name: 'my-set', label: 'y', shapes: { x: [32, 32, 3] } }, reporter);
 */
export async function indexDataset(dir: string, opts: IndexOptions, reporter: Reporter): Promise<DatasetManifest> {
  const splitFiles = await listSplits(dir);
  let columns: DatasetColumn[] | undefined;
  const splits: Record<string, DatasetSplit> = {};
  const labelMax: { value: number; where: string } = { value: -1, where: '' };
  const lists = new ListLengthTracker(opts);
  const images: ImageTally = new Map();
  for (const [split, files] of splitFiles) {
    const splitPrint: { fp?: RowFingerprint } = {};
    const entries: DatasetFile[] = [];
    const counts: number[] = [];
    let next = 0;
    const progress = reporter.progress(`index ${split}`, files.length, 'files');
    for (const rel of files) {
      const path = join(dir, rel);
      const bytes = await readFileBytes(path);
      const format = tableFormatOf(path);
      const raw = decodeTable(bytes, format, path);
      const sha256 = sha256Bytes(bytes);
      const cols = describeColumns(raw, rel, opts);
      if (!columns) {
        columns = cols;
        lists.attach(columns, raw, rel);
      } else if (JSON.stringify(cols) !== JSON.stringify(columns.map(withoutList))) {
        throw new DataError(`${rel}: columns ${JSON.stringify(cols)} differ from the dataset's ${JSON.stringify(columns.map(withoutList))}`);
      }
      lists.observe(columns, raw, rel, next);
      const decoded = await decodeImageColumns(raw, columns, rel, next, images);
      const table = withFixedLists(decoded, columns, rel, next);
      const rows = table.getChild('row')!.toArray() as BigInt64Array;
      for (let i = 0; i < rows.length; i++) {
        if (rows[i] !== BigInt(next + i)) throw new DataError(`${rel}: row ${i} has row index ${rows[i]}, expected ${next + i} (rows must run 0, 1, 2, ... across the files of a split in name order)`);
      }
      const labelCol = columns.find((c) => c.role === 'label');
      if (labelCol) {
        const max = checkLabelValues(table, labelCol, opts.classes, rel, next, counts);
        if (max > labelMax.value) Object.assign(labelMax, { value: max, where: rel });
      }
      for (const c of columns.filter((c) => c.kind === 'tokens')) checkTokenIds(table, c, rel, next);
      const fpCols = fingerprintColumns({ columns });
      splitPrint.fp ??= new RowFingerprint(fpCols);
      splitPrint.fp.update(table, rel);
      const filePrint = new RowFingerprint(fpCols);
      filePrint.update(table, rel);
      entries.push({ path: rel, rowStart: next, rowEnd: next + table.numRows, bytes: bytes.length, sha256, fingerprint: filePrint.digest() });
      if (format === 'parquet' || decoded !== raw) await writeArrowCache(dir, { sha256 }, decoded, imageCacheKey(columns));
      next += table.numRows;
      progress.tick(1);
    }
    progress.done();
    const rowLabels = columns!.some((c) => c.role === 'label' && !isPositionLabel(c));
    splits[split] = { rows: next, fingerprint: splitPrint.fp!.digest(), files: entries, ...(rowLabels ? { labelCounts: counts } : {}) };
  }
  lists.finish(columns!);
  for (const c of columns!) if (c.image) c.image.formats = images.get(c.name) ?? { png: 0, jpeg: 0 };
  const labelCol = columns!.find((c) => c.role === 'label');
  if (labelCol) {
    labelCol.classes = opts.classes ?? labelMax.value + 1;
    for (const s of Object.values(splits)) if (s.labelCounts) s.labelCounts = Array.from({ length: labelCol.classes }, (_, i) => s.labelCounts?.[i] ?? 0);
  }
  const manifest: DatasetManifest = {
    formatVersion: 1,
    kind: 'distill.dataset',
    name: opts.name,
    createdAt: new Date().toISOString(),
    ...(opts.source ? { source: opts.source } : {}),
    columns: columns!,
    splits,
    ...opts.extra,
    software: softwareProvenance(),
  };
  await atomicWriteJson(join(dir, DATASET_MANIFEST), manifest);
  return manifest;
}
