import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBListValue } from '@duckdb/node-api';

/** Columns of one split read back by DuckDB (an independent Parquet reader), in row order. */
export interface SplitReadBack {
  rows: number;
  /** sha256 of the little-endian int32 concatenation of each column's values (lists flattened). */
  int32Sha256: Record<string, string>;
  /** Every column's values per row (lists as number arrays), for closer checks. */
  values: Record<string, (number | string | number[])[]>;
}

/**
 * Reads `<dir>/<split>/*.parquet` with DuckDB ordered by `row`, checks that rows run 0..n-1, and hashes the
 * named integer columns as little-endian int32 (the form the experiments' data-record.json hashes take).
 */
export async function readSplitWithDuckDb(dir: string, split: string, columns: readonly string[], keepValues = false): Promise<SplitReadBack> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const reader = await con.runAndReadAll(`select row, ${columns.join(', ')} from read_parquet('${dir}/${split}/*.parquet') order by row`);
    const hashes = columns.map(() => createHash('sha256'));
    const values: Record<string, (number | string | number[])[]> = Object.fromEntries(columns.map((c) => [c, []]));
    let n = 0;
    for (const [row, ...cells] of reader.getRows()) {
      if (Number(row) !== n) throw new Error(`${dir}/${split}: row ${n} has row index ${String(row)}`);
      cells.forEach((cell, k) => {
        const v = typeof cell === 'object' && cell !== null && 'items' in cell ? ((cell as DuckDBListValue).items as number[]).map(Number) : (cell as number | string);
        if (typeof v !== 'string') hashes[k]!.update(new Uint8Array(Int32Array.from(Array.isArray(v) ? v : [Number(v)]).buffer));
        if (keepValues) values[columns[k]!]!.push(v);
      });
      n++;
    }
    return { rows: n, int32Sha256: Object.fromEntries(columns.map((c, k) => [c, hashes[k]!.digest('hex')])), values };
  } finally {
    con.closeSync();
  }
}
