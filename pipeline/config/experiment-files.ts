import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { readJsonFile } from '../io/read-json.ts';

/** True for JSON that looks like an experiment config: an object with `extends`, or `name` and `dataset`. */
function looksLikeExperiment(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return 'extends' in value || ('name' in value && 'dataset' in value);
}

/**
 * The experiment config files a path names: the file itself, or every `*.json` file of a directory
 * that looks like an experiment config (an object with `extends`, or `name` and `dataset`), sorted,
 * `experiment.json` first. Other JSON files (e.g. reference-metrics.json) are left out. A directory
 * without one is a UsageError.
 */
export async function experimentFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new UsageError(`${path} does not exist`);
  if (!info.isDirectory()) return [path];
  const files: string[] = [];
  for (const name of (await readdir(path)).filter((n) => n.endsWith('.json')).sort()) {
    // A file that is not JSON is not an experiment config.
    const read = await readJsonFile(join(path, name));
    if (read.ok && looksLikeExperiment(read.value)) files.push(join(path, name));
  }
  if (files.length === 0) throw new UsageError(`${path} holds no experiment config (*.json with "name" and "dataset", or "extends")`);
  return files.sort((a, b) => Number(b.endsWith('/experiment.json')) - Number(a.endsWith('/experiment.json')));
}
