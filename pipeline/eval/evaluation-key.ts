/**
 * The up-to-date keys of evaluate's report and of an export (pipeline/up-to-date.ts): the resolved
 * config, the student run (its run manifest's sha256, which pins the weights; model.json's when the
 * folder has no manifest), the baseline run, the teacher card (which pins the ONNX file's sha256), the
 * dataset splits read, and the code version.
 */
import { join } from 'node:path';
import type { LoadedExperiment } from '../config/load-experiment.ts';
import type { DatasetManifest } from '../dataset/dataset-manifest.ts';
import { pathExists } from '../io/path-exists.ts';
import { sha256Bytes, sha256File } from '../io/sha256.ts';
import { RUN_MANIFEST } from '../student/run-manifest.ts';
import type { StudentRun } from '../student/resolve-student-run.ts';
import { codeVersion } from '../up-to-date.ts';
import type { OutputKey } from '../up-to-date.ts';

/** sha256 of a run folder's run-manifest.json, else of its model.json. */
async function runFingerprint(run: StudentRun): Promise<string> {
  const manifest = join(run.dir, RUN_MANIFEST);
  return sha256File((await pathExists(manifest)) ? manifest : run.modelJson);
}

/** What an evaluation or an export reads. */
export interface EvaluationKeyParts {
  run: StudentRun;
  baselineRun?: StudentRun | null;
  /** Teacher folder (its card.json is fingerprinted); absent for an export. */
  teacherDir?: string;
  dataset: DatasetManifest;
  /** Dataset splits read (their fingerprints). */
  splits: readonly string[];
}

/** The key of an evaluation or export of `exp` over `parts`. */
export async function evaluationKey(exp: LoadedExperiment, parts: EvaluationKeyParts): Promise<OutputKey> {
  const inputs: Record<string, string | null> = { 'student run': await runFingerprint(parts.run) };
  if (parts.baselineRun !== undefined) inputs['baseline run'] = parts.baselineRun ? await runFingerprint(parts.baselineRun) : null;
  if (parts.teacherDir !== undefined) inputs['teacher card'] = await sha256File(join(parts.teacherDir, 'card.json')).catch(() => null);
  for (const s of parts.splits) inputs[`dataset split ${s}`] = parts.dataset.splits[s]?.fingerprint ?? null;
  return { config: sha256Bytes(JSON.stringify(exp.config)), inputs, code: codeVersion() };
}
