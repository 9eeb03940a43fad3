/**
 * Python's notion of whitespace (`str.isspace`, `str.split()`, `str.strip()`), which the reference data
 * definitions (build_data.py, ar_data.py) use. It differs from JavaScript's `\s`: Python also counts
 * U+001C..U+001F and U+0085 (NEL), JavaScript also counts U+FEFF. Reimplementing a Python rule with `\s`
 * would therefore disagree on those characters; these helpers do not.
 */

/** The characters Python's `str.isspace()` is true for (Unicode 15: bidi class WS/B/S or category Zs). */
export const PY_WHITESPACE_CLASS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const SPACE_RUN = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'u');
const ONE_SPACE = new RegExp(`^[${PY_WHITESPACE_CLASS}]$`, 'u');

/** Python `ch.isspace()` for one character. */
export function isPySpace(ch: string): boolean {
  return ONE_SPACE.test(ch);
}

const LINE_BREAKS = '\\r\\n|[\\n\\r\\v\\f\\x1c-\\x1e\\x85\\u2028\\u2029]';
const LINE_BREAK = new RegExp(LINE_BREAKS, 'u');

/** Python `text.splitlines()` (without the empty field after a final line break). */
export function pySplitLines(text: string): string[] {
  const lines = text.split(LINE_BREAK);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Python `text.split()`: the non-empty fields between runs of whitespace. */
export function pySplitWhitespace(text: string): string[] {
  return text.split(SPACE_RUN).filter((f) => f.length > 0);
}

/** Python `text.strip() == ''`: true when the text has no character other than whitespace. */
export function isPyBlank(text: string): boolean {
  return pySplitWhitespace(text).length === 0;
}
