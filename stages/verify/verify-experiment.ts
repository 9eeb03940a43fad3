import { access } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadExperiment, resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import { RUN_MANIFEST } from '../../pipeline/student/run-manifest.ts';
import { verifyDatasetDir } from './verify-dataset-dir.ts';
import { jsonDiffs, newReport, readJson } from './verify-report.ts';
import type { VerifyReport } from './verify-report.ts';
import { verifyRunDir } from './verify-run-dir.ts';
import { verifyStoreDir } from './verify-store-dir.ts';

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** Adds a sub-report's problems and notes, prefixed by what it was about. */
function merge(into: VerifyReport, sub: VerifyReport): void {
  into.problems.push(...sub.problems);
  into.notes.push(...sub.notes);
  into.checked.push(`${sub.kind} ${sub.path}: ${sub.problems.length === 0 ? 'OK' : `${sub.problems.length} problems`}`);
}

/**
 * Verifies an experiment: each config file (see experimentFiles) loads and validates; its dataset,
 * store (teacherLogits.store) and run (train.run) verify (each once, see verifyDatasetDir,
 * verifyStoreDir, verifyRunDir); and the recorded resolved configs still match the config files
 * (re-resolved with the recorded overrides): a store's teacherLogits section, a run's whole config.
 * A store or run that was never produced is a problem (nothing to verify).
 */
export async function verifyExperiment(files: readonly string[], shown: string, workspace: string = process.cwd()): Promise<VerifyReport> {
  const report = newReport('experiment', shown);
  const done = new Set<string>();
  for (const file of files) {
    const name = displayPath(file, workspace);
    let exp: LoadedExperiment;
    try {
      exp = await loadExperiment(relative(workspace, file), [], workspace);
    } catch (err) {
      report.problems.push({ file: name, problem: (err as Error).message.replace(/^[^:]*: /, '') });
      continue;
    }
    const cfg = exp.config;
    const datasetDir = resolveInWorkspace(workspace, 'dataset.path', cfg.dataset.path);
    if (!done.has(datasetDir)) {
      done.add(datasetDir);
      merge(report, await verifyDatasetDir(datasetDir, workspace));
    }
    const storeDir = cfg.teacherLogits ? resolveInWorkspace(workspace, 'teacherLogits.store', cfg.teacherLogits.store) : null;
    const distills = cfg.train !== undefined && cfg.train.alpha < 1;
    if (storeDir && !done.has(storeDir) && (distills || (await exists(storeDir)))) {
      done.add(storeDir);
      merge(report, await verifyStoreDir(storeDir, workspace));
      const rec = await readJson(join(storeDir, 'config.resolved.json'), '');
      if ('value' in rec) {
        const diffs = jsonDiffs((rec.value as { config?: { teacherLogits?: unknown } }).config?.teacherLogits, cfg.teacherLogits);
        if (diffs.length > 0) report.problems.push({ file: displayPath(storeDir, workspace), problem: `was made with another teacherLogits config than ${name} resolves to now (recorded vs now): ${diffs.join('; ')}` });
      }
    }
    if (cfg.train) {
      const runDir = resolveInWorkspace(workspace, 'train.run', cfg.train.run);
      if (!(await exists(join(runDir, RUN_MANIFEST))) && !(await exists(runDir))) {
        report.problems.push({ file: displayPath(runDir, workspace), problem: `does not exist: the run of ${name} was never trained (distill train-student -c ${name})` });
        continue;
      }
      merge(report, await verifyRunDir(runDir, workspace));
      const rec = await readJson(join(runDir, 'config.resolved.json'), '');
      if ('value' in rec) {
        const r = rec.value as { config?: unknown; overrides?: string[] };
        const now = await loadExperiment(relative(workspace, file), r.overrides ?? [], workspace).catch(() => exp);
        const diffs = jsonDiffs(r.config, now.config);
        if (diffs.length > 0) report.problems.push({ file: displayPath(runDir, workspace), problem: `was trained with another config than ${name} resolves to now (recorded vs now): ${diffs.join('; ')}` });
      }
    }
  }
  return report;
}
