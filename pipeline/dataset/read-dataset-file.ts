import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { DataError, IntegrityError } from '../errors.ts';
import { atomicWrite } from '../io/atomic-write.ts';
import { sha256Bytes } from '../io/sha256.ts';
import { decodeTable, encodeArrowFile, readFileBytes, tableFormatOf } from '../io/table-files.ts';
import type { DatasetColumn, DatasetFile } from './dataset-manifest.ts';
import { fingerprintColumns } from './dataset-manifest.ts';
import { decodeImageColumns, imageCacheKey } from './image-column.ts';
import { withFixedLists } from './list-column.ts';
import { RowFingerprint } from './row-fingerprint.ts';

/** Folder, inside a dataset directory, of decoded Arrow copies of its Parquet files. */
export const ARROW_CACHE_DIR = '.arrow-cache';

function cachePaths(datasetDir: string, file: Pick<DatasetFile, 'sha256'>, key: string): { data: string; sum: string } {
  const data = join(datasetDir, ARROW_CACHE_DIR, `${file.sha256}${key}.arrow`);
  return { data, sum: `${data}.sha256` };
}

/**
 * Stores a decoded Arrow IPC copy of a dataset's Parquet file, keyed by the Parquet file's sha256
 * (and, for a file with encoded-image columns, `key` = imageCacheKey: the copy then holds the decoded
 * pixels), with the copy's own sha256 beside it. Best effort: a read-only dataset directory just has no cache.
 */
export async function writeArrowCache(datasetDir: string, file: Pick<DatasetFile, 'sha256'>, table: Table, key = ''): Promise<void> {
  const { data, sum } = cachePaths(datasetDir, file, key);
  const bytes = encodeArrowFile(table);
  try {
    await atomicWrite(data, bytes);
    await atomicWrite(sum, sha256Bytes(bytes) + '\n');
  } catch {
    // Not writable (shared, read-only data): every read decodes the Parquet file instead.
  }
}

async function readArrowCache(datasetDir: string, file: DatasetFile, key: string): Promise<Table | null> {
  const { data, sum } = cachePaths(datasetDir, file, key);
  let bytes: Buffer;
  let expected: string;
  try {
    [bytes, expected] = await Promise.all([readFile(data), readFile(sum, 'utf8')]);
  } catch {
    return null;
  }
  if (sha256Bytes(bytes) !== expected.trim()) return null; // damaged copy: decode the Parquet file again
  const table = decodeTable(bytes, 'arrow', data);
  return table.numRows === file.rowEnd - file.rowStart ? table : null;
}

/**
 * Reads one file of a dataset split as an Arrow table, checking its row count against the manifest.
 * With the manifest's `columns`, list columns come back padded to fixed_size_list (withFixedLists): what
 * every reader and the content fingerprint see.
 *
 * Parquet is the datasets' interchange format (DuckDB, pandas and Spark read it), but parquet-wasm
 * decodes a `fixed_size_list<uint8>[784]` column at ~30-100 µs per row, as slow as the demo teacher
 * itself, and the stages read every file once per pass. So the first read of a Parquet file also
 * writes a decoded Arrow IPC copy to `<dataset>/.arrow-cache/<parquet sha256>.arrow` (with its own
 * sha256 beside it) and later reads use the copy (~1 µs per row including its checksum). The copy is
 * keyed by the Parquet file's manifest sha256, so it can never stand in for other content; delete
 * the folder at any time. Arrow datasets are read directly.
 *
 * Encoded-image columns (PNG/JPEG bytes, `image` in the manifest) come back decoded to
 * `fixed_size_list<uint8>[H*W*C]` (decodeImageColumns). Decoding is the slow part there, so such a
 * file (Parquet or Arrow) is decoded once and its pixels cached the same way, under a name that also
 * holds the image spec and decoder version (imageCacheKey). Whenever images are decoded, the file's
 * content fingerprint is recomputed and must equal the manifest's: a decoder that gives other pixels
 * than the one the dataset was indexed with is an IntegrityError, not a silent change of data.
 */
export async function readDatasetFile(datasetDir: string, file: DatasetFile, columns?: readonly DatasetColumn[]): Promise<Table> {
  const path = join(datasetDir, file.path);
  const format = tableFormatOf(path);
  const key = columns ? imageCacheKey(columns) : '';
  let table = format === 'parquet' || key ? await readArrowCache(datasetDir, file, key) : null;
  if (!table) {
    const bytes = await readFileBytes(path);
    table = decodeTable(bytes, format, path);
    if (key) {
      table = await decodeImageColumns(table, columns!, path, file.rowStart);
      checkDecodedFingerprint(withFixedLists(table, columns!, path, file.rowStart), columns!, file, path);
    }
    if ((format === 'parquet' || key) && sha256Bytes(bytes) === file.sha256) await writeArrowCache(datasetDir, file, table, key);
  }
  if (table.numRows !== file.rowEnd - file.rowStart) {
    throw new DataError(`${path}: has ${table.numRows} rows, the dataset manifest says ${file.rowEnd - file.rowStart}`);
  }
  return columns ? withFixedLists(table, columns, path, file.rowStart) : table;
}

/** The fingerprint of freshly decoded image rows must be the one the dataset was indexed with. */
function checkDecodedFingerprint(table: Table, columns: readonly DatasetColumn[], file: DatasetFile, path: string): void {
  if (table.numRows !== file.rowEnd - file.rowStart) return; // the row-count check below reports it
  const fp = new RowFingerprint(fingerprintColumns({ columns: [...columns] }));
  fp.update(table, path);
  const digest = fp.digest();
  if (digest !== file.fingerprint) {
    const decoders = [...new Set(columns.filter((c) => c.image).map((c) => c.image!.decoder))].join(', ');
    throw new IntegrityError(
      `${path}: its decoded images give content fingerprint ${digest}, but the dataset manifest says ${file.fingerprint}: ` +
        `the file changed, or this decoder gives other pixels than the one the dataset was indexed with (${decoders}); re-index it (distill data index) and re-run what used it`,
    );
  }
}
