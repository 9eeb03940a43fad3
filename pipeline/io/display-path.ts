import { isAbsolute, relative } from 'node:path';

/** `p` relative to `base` when inside it, else as given. */
export function displayPath(p: string, base: string = process.cwd()): string {
  const rel = relative(base, p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}
