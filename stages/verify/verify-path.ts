import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { UsageError } from '../../pipeline/errors.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import { CHECKPOINT_DIR } from '../../pipeline/student/checkpoint.ts';
import { RUN_MANIFEST } from '../../pipeline/student/run-manifest.ts';
import { experimentFiles } from '../../pipeline/config/experiment-files.ts';
import { verifyDatasetDir } from './verify-dataset-dir.ts';
import { verifyExperiment } from './verify-experiment.ts';
import { readJson } from './verify-report.ts';
import type { VerifyReport } from './verify-report.ts';
import { verifyRunDir } from './verify-run-dir.ts';
import { verifyStoreDir } from './verify-store-dir.ts';

/** What a path holds, as `distill verify` decides it. */
export type ArtifactKind = VerifyReport['kind'];

const isFile = (p: string): Promise<boolean> => stat(p).then((s) => s.isFile(), () => false);
const isDir = (p: string): Promise<boolean> => stat(p).then((s) => s.isDirectory(), () => false);

/**
 * Decides what `path` is: a run (run-manifest.json, or checkpoints/ without it), a store or a dataset
 * (manifest.json's `kind`: distill.soft-targets / distill.dataset; a folder of part files without a
 * manifest is an incomplete store), or an experiment (a config file, or a folder of them). A file
 * named manifest.json or run-manifest.json stands for its folder. Anything else is a UsageError.
 */
export async function detectArtifact(path: string): Promise<{ kind: ArtifactKind; dir: string }> {
  let p = resolve(path);
  if ((await isFile(p)) && (basename(p) === 'manifest.json' || basename(p) === RUN_MANIFEST)) p = dirname(p);
  if (await isFile(p)) return { kind: 'experiment', dir: p };
  if (!(await isDir(p))) throw new UsageError(`${path} does not exist`);
  if ((await isFile(resolve(p, RUN_MANIFEST))) || (await isDir(resolve(p, CHECKPOINT_DIR)))) return { kind: 'run', dir: p };
  const m = await readJson(resolve(p, 'manifest.json'), path);
  if ('value' in m) {
    const kind = (m.value as { kind?: unknown } | null)?.kind;
    if (kind === 'distill.soft-targets') return { kind: 'store', dir: p };
    if (kind === 'distill.dataset') return { kind: 'dataset', dir: p };
    throw new UsageError(`${path}/manifest.json has kind ${JSON.stringify(kind)}; distill verify knows "distill.soft-targets" (a store) and "distill.dataset" (a dataset)`);
  }
  if ((await isFile(resolve(p, 'config.resolved.json'))) && !(await isFile(resolve(p, 'experiment.json')))) return { kind: 'store', dir: p };
  return { kind: 'experiment', dir: p };
}

/**
 * Verifies whatever `path` is (see detectArtifact) and returns every problem found. Recorded paths
 * inside manifests are resolved against `workspace` (default: the current directory).
 *
 * @example
 * const report = await verifyPath('artifacts/experiments/mnist-kd');
 * report.problems; // [] when every artifact matches its manifest
 */
export async function verifyPath(path: string, workspace: string = process.cwd()): Promise<VerifyReport> {
  const { kind, dir } = await detectArtifact(path);
  switch (kind) {
    case 'store':
      return verifyStoreDir(dir, workspace);
    case 'run':
      return verifyRunDir(dir, workspace);
    case 'dataset':
      return verifyDatasetDir(dir, workspace);
    case 'experiment':
      return verifyExperiment(await experimentFiles(dir), displayPath(dir, workspace), workspace);
  }
}
