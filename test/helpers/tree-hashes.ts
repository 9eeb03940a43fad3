import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { VERIFIED_STAT_FILE } from '../../pipeline/dataset/verified-stat.ts';
import { sha256File } from '../../pipeline/io/sha256.ts';

/** Files that are not content: directory locks, and the dataset's verified-stat record (a cache the stages refresh). */
const NOT_CONTENT = new Set(['.lock', VERIFIED_STAT_FILE]);

/** sha256 of every file under `dir` (relative path -> hex), the files of NOT_CONTENT excluded. */
export async function treeHashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && !NOT_CONTENT.has(e.name)) out.set(relative(dir, p), await sha256File(p));
    }
  };
  await walk(dir);
  return out;
}

/** The files of `before` that are missing or different in `after` (new files are allowed). */
export function changedFiles(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  return [...before].filter(([f, sha]) => after.get(f) !== sha).map(([f]) => f);
}
