/**
 * Reading and encoding the two table file formats of the project: Parquet (through parquet-wasm,
 * a Rust/WebAssembly build of the arrow-rs Parquet implementation) and Arrow IPC files (apache-arrow).
 */
import { readFile } from 'node:fs/promises';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { DataError } from '../errors.ts';

/** Table file formats, named by their extension. */
export type TableFormat = 'parquet' | 'arrow';

/** Parquet compression used for everything this project writes. */
export type ParquetCompression = 'zstd' | 'snappy' | 'uncompressed';

/** The format of a table file from its extension, or a DataError. */
export function tableFormatOf(path: string): TableFormat {
  if (path.endsWith('.parquet')) return 'parquet';
  if (path.endsWith('.arrow') || path.endsWith('.feather')) return 'arrow';
  throw new DataError(`${path}: unknown table file type (expected .parquet or .arrow)`);
}

/** Encodes an Arrow table as Parquet bytes. */
export function encodeParquet(table: Table, compression: ParquetCompression = 'zstd'): Uint8Array {
  const codec = { zstd: parquet.Compression.ZSTD, snappy: parquet.Compression.SNAPPY, uncompressed: parquet.Compression.UNCOMPRESSED }[compression];
  const props = new parquet.WriterPropertiesBuilder().setCompression(codec).setCreatedBy('distill').build();
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(table, 'stream'));
  return parquet.writeParquet(wasmTable, props);
}

/** Encodes an Arrow table as an Arrow IPC file. */
export function encodeArrowFile(table: Table): Uint8Array {
  return tableToIPC(table, 'file');
}

/** Encodes a table in the given format. */
export function encodeTable(table: Table, format: TableFormat): Uint8Array {
  return format === 'parquet' ? encodeParquet(table) : encodeArrowFile(table);
}

/** Decodes table bytes in the given format; a malformed file is a DataError naming it. */
export function decodeTable(bytes: Uint8Array, format: TableFormat, name: string): Table {
  try {
    if (format === 'parquet') return tableFromIPC(parquet.readParquet(bytes).intoIPCStream());
    return tableFromIPC(bytes);
  } catch (err) {
    throw new DataError(`${name}: not a readable ${format} file (${(err as Error).message ?? String(err)})`, { cause: err });
  }
}

/** Reads a file's bytes; a missing or unreadable file is a DataError naming it. */
export async function readFileBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Reads a whole table file (.parquet or .arrow) into memory. */
export async function readTableFile(path: string): Promise<Table> {
  return decodeTable(await readFileBytes(path), tableFormatOf(path), path);
}
