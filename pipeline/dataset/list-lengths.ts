import type { DataType, Table } from 'apache-arrow';
import { DataError } from '../errors.ts';
import type { DatasetColumn, ListSequence } from './dataset-manifest.ts';
import { isVariableList, listLengths } from './list-column.ts';

/** How list columns are declared when a dataset is indexed. */
export interface ListOptions {
  /** Maximum length per variable-length list column; required for ragged columns. */
  maxLengths?: Record<string, number>;
  /** Pad side for shorter rows. Default right. */
  padding?: ListSequence['padding'];
  /** Pad value. Default 0. */
  padValue?: number;
}

interface Stats {
  min: number;
  max: number;
  sum: number;
  rows: number;
  /** Where the first row's length was seen. */
  first: string;
}

/**
 * Follows the `list<T>` / `large_list<T>` columns of a dataset while it is indexed: gives each a
 * `sequence` (declared maximum length, or the length of its first row for a constant-length list
 * used as a fixed feature), refuses ragged lists without a declared maximum (DataError naming file,
 * row and column), and records lengths min/mean/max at the end.
 */
export class ListLengthTracker {
  private readonly stats = new Map<string, Stats>();
  constructor(private readonly opts: ListOptions) {}

  /** Gives the list columns of `table` (the first file) their sequence. */
  attach(columns: DatasetColumn[], table: Table, file: string): void {
    for (const c of columns) {
      const vec = table.getChild(c.name);
      if (!vec || !isVariableList(vec.type as DataType) || c.sequence) continue;
      const declared = this.opts.maxLengths?.[c.name];
      const firstLength = table.numRows > 0 ? listLengths(vec.slice(0, 1), c.name, file)[0]! : 0;
      const maxLength = declared ?? firstLength;
      if (!(Number.isInteger(maxLength) && maxLength >= 1)) throw new DataError(`${file}: list column "${c.name}" needs a maximum length >= 1 (--max-length ${c.name}=N)`);
      c.sequence = { maxLength, padding: this.opts.padding ?? 'right', padValue: this.opts.padValue ?? 0, lengths: { min: 0, mean: 0, max: 0 } };
      this.stats.set(c.name, { min: Infinity, max: 0, sum: 0, rows: 0, first: `${file} row 0 has ${firstLength}` });
    }
  }

  /** Checks and counts the list lengths of one file (rows from `rowStart`). */
  observe(columns: readonly DatasetColumn[], table: Table, file: string, rowStart: number): void {
    for (const c of columns) {
      const st = this.stats.get(c.name);
      if (!st) continue;
      const lengths = listLengths(table.getChild(c.name)!, c.name, file);
      const declared = this.opts.maxLengths?.[c.name] !== undefined;
      for (let i = 0; i < lengths.length; i++) {
        const n = lengths[i]!;
        if (!declared && n !== c.sequence!.maxLength) {
          throw new DataError(
            `${file}: row ${rowStart + i} of list column "${c.name}" has ${n} values, but ${st.first}: a variable-length (ragged) column needs a declared maximum length ` +
              `(--max-length ${c.name}=N, and --padding right|left, --pad-value V)`,
          );
        }
        st.min = Math.min(st.min, n);
        st.max = Math.max(st.max, n);
        st.sum += n;
        st.rows++;
      }
    }
  }

  /** Writes the lengths (min/mean/max over all rows) into the columns' sequence. */
  finish(columns: readonly DatasetColumn[]): void {
    for (const c of columns) {
      const st = this.stats.get(c.name);
      if (st && c.sequence) c.sequence.lengths = { min: st.rows ? st.min : 0, mean: st.rows ? st.sum / st.rows : 0, max: st.max };
    }
  }
}
