import { DataError } from '../../../pipeline/errors.ts';
import { isPyBlank, pySplitWhitespace } from '../../../pipeline/dataset/python-whitespace.ts';

/**
 * Plain text of one Brown Form-C (POS-tagged) file, by the rules of
 * artifacts/experiments/lm-brown/data_spec.md ("Text"), the twin of build_data.py's `document_text`:
 * lines at `\n` (after Python's universal-newline reading: `\r\n` and `\r` become `\n`); a blank line
 * (whitespace only) ends a paragraph; each token `word/tag` keeps what is before its LAST `/`; words of a
 * line, and lines of a paragraph, are joined by one space; paragraphs by one `\n`; the result is NFC.
 *
 * @param raw the file's text
 * @param file the file name, for errors (a token without a tag is a DataError naming file, line and token)
 */
export function brownDocumentText(raw: string, file: string): string {
  const paragraphs: string[] = [];
  let current: string[] = [];
  const lines = raw.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (isPyBlank(line)) {
      if (current.length > 0) paragraphs.push(current.join(' '));
      current = [];
      continue;
    }
    current.push(stripTags(line, file, i + 1).join(' '));
  }
  if (current.length > 0) paragraphs.push(current.join(' '));
  return paragraphs.join('\n').normalize('NFC');
}

/** Tokens `word/tag` of one line -> words (everything before the last `/`). */
export function stripTags(line: string, file: string, lineNo: number): string[] {
  return pySplitWhitespace(line).map((tok) => {
    const cut = tok.lastIndexOf('/');
    if (cut <= 0) {
      throw new DataError(`${file}:${lineNo}: token ${JSON.stringify(tok)} is not word/tag (expected a "/" with a word before it)`);
    }
    return tok.slice(0, cut);
  });
}
