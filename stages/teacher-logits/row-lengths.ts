import type { Table } from 'apache-arrow';
import { DataError } from '../../pipeline/errors.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import type { SequenceLayout } from '../../pipeline/teacher/sequence-card.ts';

/**
 * The real tokens of each row of a token-dataset table: the number of 1s of its attention mask, which
 * must be a prefix (right padding: 1...1 0...0), or L for every row when the dataset has no mask.
 * A mask with a 1 after a 0, or a value other than 0/1, is a DataError naming the row.
 */
export function rowLengths(table: Table, seq: SequenceLayout, rowStart: number, where: string): Int32Array {
  const rows = table.numRows;
  const l = seq.context;
  const out = new Int32Array(rows).fill(l);
  if (seq.maskColumn === null) return out;
  const mask = columnValues(table.getChild(seq.maskColumn)!, l);
  for (let r = 0; r < rows; r++) {
    let len = 0;
    for (let t = 0; t < l; t++) {
      const v = Number(mask[r * l + t]!);
      if (v !== 0 && v !== 1) throw new DataError(`${where} row ${rowStart + r}: ${seq.maskColumn}[${t}] is ${v}, expected 0 or 1`);
      if (v === 1 && len !== t) throw new DataError(`${where} row ${rowStart + r}: ${seq.maskColumn} has a real token at position ${t} after padding at ${len}; per-position stores need right padding (1...1 0...0)`);
      if (v === 1) len++;
    }
    out[r] = len;
  }
  return out;
}
