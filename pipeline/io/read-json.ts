import { readFile } from 'node:fs/promises';
import { DataError } from '../errors.ts';

/** A JSON file read from disk: its value and text, or what went wrong. */
export type JsonFileRead = { ok: true; value: unknown; text: string } | { ok: false; missing: boolean; problem: string };

/** Reads and parses a JSON file without throwing: `problem` says why it could not be read or parsed. */
export async function readJsonFile(path: string): Promise<JsonFileRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === 'ENOENT', problem: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown, text };
  } catch (err) {
    return { ok: false, missing: false, problem: `is not valid JSON (${(err as Error).message})` };
  }
}

/**
 * Reads and parses a JSON file, or throws a DataError naming it: `<path> does not exist: <missingHint>`
 * when it is absent, `<path> cannot be read (...)` / `<path> is not valid JSON (...)` otherwise.
 */
export async function readJsonFileOrThrow(path: string, missingHint?: string): Promise<{ value: unknown; text: string }> {
  const read = await readJsonFile(path);
  if (!read.ok) throw new DataError(`${path} ${read.problem}${read.missing && missingHint ? `: ${missingHint}` : ''}`);
  return read;
}
