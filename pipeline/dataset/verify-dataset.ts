import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError } from '../errors.ts';
import { sha256File } from '../io/sha256.ts';
import type { DatasetManifest } from './dataset-manifest.ts';

/** A mismatch between a dataset's files and its manifest. */
export interface DatasetProblem {
  file: string;
  problem: string;
}

/** Checks every file of the listed splits (default all) against the manifest's bytes and sha256. */
export async function checkDatasetFiles(dir: string, manifest: DatasetManifest, splits?: readonly string[]): Promise<DatasetProblem[]> {
  const problems: DatasetProblem[] = [];
  for (const [name, split] of Object.entries(manifest.splits)) {
    if (splits && !splits.includes(name)) continue;
    for (const f of split.files) {
      const path = join(dir, f.path);
      try {
        const size = (await stat(path)).size;
        if (size !== f.bytes) {
          problems.push({ file: f.path, problem: `is ${size} bytes, the manifest says ${f.bytes}` });
          continue;
        }
        const sha = await sha256File(path);
        if (sha !== f.sha256) problems.push({ file: f.path, problem: `sha256 is ${sha}, the manifest says ${f.sha256}` });
      } catch (err) {
        problems.push({ file: f.path, problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      }
    }
  }
  return problems;
}

/** Like {@link checkDatasetFiles} but throws an IntegrityError listing every problem. */
export async function verifyDatasetFiles(dir: string, manifest: DatasetManifest, splits?: readonly string[]): Promise<void> {
  const problems = await checkDatasetFiles(dir, manifest, splits);
  if (problems.length > 0) {
    throw new IntegrityError(`dataset ${dir} does not match its manifest:\n${problems.map((p) => `  - ${p.file} ${p.problem}`).join('\n')}`);
  }
}
