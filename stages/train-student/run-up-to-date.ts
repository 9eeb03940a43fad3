import { join } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import { readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { pathExists } from '../../pipeline/io/path-exists.ts';
import { sha256Bytes, sha256File } from '../../pipeline/io/sha256.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { STORE_MANIFEST } from '../../pipeline/store/store-manifest.ts';
import { codeVersion, outputKeyDifferences } from '../../pipeline/up-to-date.ts';
import type { OutputKey } from '../../pipeline/up-to-date.ts';

/** The key a finished run recorded: its resolved config's sha256, its inputs' fingerprints and its code version. */
export function recordedRunKey(m: RunManifest): OutputKey {
  const inputs: Record<string, string | null> = { 'store manifest': m.inputs.store?.manifestSha256 ?? null };
  for (const [s, rec] of Object.entries(m.inputs.dataset.splits)) inputs[`dataset split ${s}`] = rec.fingerprint;
  return { config: m.config.resolvedSha256, inputs, code: `distill ${m.software.distill} ${m.software.gitCommit ?? '(no git checkout)'}` };
}

/**
 * The same key for what `exp` would train now, over the splits the run recorded: the dataset
 * manifest's split fingerprints (not re-hashing the files: the dataset's own check does that when a
 * run trains) and the sha256 of the store manifest train-student would read (null without one).
 */
export async function currentRunKey(exp: LoadedExperiment, recorded: RunManifest): Promise<OutputKey> {
  const cfg = exp.config;
  const dataset = await readDatasetManifest(resolveInWorkspace(exp.workspace, 'dataset.path', cfg.dataset.path)).catch(() => null);
  const inputs: Record<string, string | null> = { 'store manifest': null };
  if (cfg.teacherLogits) {
    const file = join(resolveInWorkspace(exp.workspace, 'teacherLogits.store', cfg.teacherLogits.store), STORE_MANIFEST);
    if (await pathExists(file)) inputs['store manifest'] = await sha256File(file);
  }
  for (const s of Object.keys(recorded.inputs.dataset.splits)) inputs[`dataset split ${s}`] = dataset?.splits[s]?.fingerprint ?? null;
  return { config: sha256Bytes(JSON.stringify(cfg)), inputs, code: codeVersion() };
}

/** What differs between a finished run and what `exp` would train now; empty when the run is up to date. */
export async function finishedRunDifferences(exp: LoadedExperiment, m: RunManifest): Promise<string[]> {
  return outputKeyDifferences(recordedRunKey(m), await currentRunKey(exp, m));
}
