import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../../../pipeline/errors.ts';
import { readJsonFileOrThrow } from '../../../pipeline/io/read-json.ts';

/** One verse of quran.json as read (its text is never logged or written anywhere). */
export interface RawVerse {
  chapter: number;
  verse: number;
  text: string;
}

/** `dist/quran.json` of the installed `quran-json` package. */
export function quranPackageFile(): string {
  return join(dirname(createRequire(import.meta.url).resolve('quran-json/package.json')), 'dist', 'quran.json');
}

/**
 * The verses of quran.json in file order (an array of chapters `{id, verses: [{id, text}]}`); a malformed
 * file is a DataError naming the chapter/verse position and field (never the text).
 */
export async function readQuran(path: string): Promise<RawVerse[]> {
  const { value } = await readJsonFileOrThrow(path, 'install the quran-json package (npm ci)');
  if (!Array.isArray(value)) throw new DataError(`${path}: expected an array of chapters`);
  const out: RawVerse[] = [];
  value.forEach((ch: unknown, i: number) => {
    const chapter = ch as { id?: unknown; verses?: unknown };
    if (!Number.isInteger(chapter.id) || !Array.isArray(chapter.verses)) {
      throw new DataError(`${path}: chapter [${i}] needs an integer "id" and a "verses" array`);
    }
    chapter.verses.forEach((v: unknown, k: number) => {
      const verse = v as { id?: unknown; text?: unknown };
      if (!Number.isInteger(verse.id) || typeof verse.text !== 'string') {
        throw new DataError(`${path}: chapter ${String(chapter.id)} verse [${k}] needs an integer "id" and a string "text"`);
      }
      out.push({ chapter: chapter.id as number, verse: verse.id as number, text: verse.text });
    });
  });
  return out;
}
