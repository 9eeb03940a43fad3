import { DataError } from '../errors.ts';
import type { TextDocument } from './split-documents.ts';
import type { TextTokenizer } from './text-tokenizer.ts';
import { tokenWindows } from './token-windows.ts';
import type { WindowOptions } from './token-windows.ts';
import type { TokenRow } from './token-table.ts';

/**
 * Tokenizes documents and cuts each into windows (tokenWindows): one TokenRow per window, in
 * document order, with slices `document` (the document's index in `documentIndex`, int32) and the
 * document's own slices; per-character `labels` (char tokenizer) and a row `label` follow the windows.
 */
export function windowDocuments(docs: readonly TextDocument[], tokenizer: Pick<TextTokenizer, 'encode'>, opts: WindowOptions, documentIndex: ReadonlyMap<string, number>): TokenRow[] {
  const rows: TokenRow[] = [];
  for (const d of docs) {
    const ids = tokenizer.encode(d.text);
    if (d.labels && d.labels.length !== ids.length) {
      throw new DataError(`${d.where}: ${d.labels.length} labels for ${ids.length} characters (after NFC); give one label per character`);
    }
    const slices = { document: documentIndex.get(d.id) ?? -1, ...d.slices };
    for (const w of tokenWindows(ids.length, opts)) {
      // Fields assigned one by one (not spread): every row of a corpus gets the same object shape, which
      // keeps this loop and tokenTable's reads monomorphic (benchmarks.md, "data text").
      const row: TokenRow = { inputIds: ids.subarray(w.start, w.end), slices };
      if (d.labels) row.labels = d.labels.slice(w.start, w.end);
      if (d.label !== undefined) row.label = d.label;
      rows.push(row);
    }
  }
  return rows;
}
