/**
 * `distill reproduce`: re-runs an experiment's recorded stages from the recorded resolved configs
 * into a fresh scratch folder and compares the outputs with the recorded ones (and with the
 * experiment's reference-metrics.json when present).
 */
import { access, mkdir, readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import type { ExperimentConfig } from '../../pipeline/config/experiment-config.ts';
import type { SessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import type { BackendRequest } from '../../pipeline/engines/tfjs.ts';
import { UsageError } from '../../pipeline/errors.ts';
import { atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import { runTeacherLogits } from '../teacher-logits/run-teacher-logits.ts';
import { runTrainStudent } from '../train-student/run-train-student.ts';
import { RUN_MANIFEST } from '../../pipeline/student/run-manifest.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { experimentFiles } from '../../pipeline/config/experiment-files.ts';
import type { ComparisonRow } from './comparison-table.ts';
import { compareMetrics, compareRuns } from './compare-runs.ts';
import type { RecordedMetrics } from './compare-runs.ts';
import { compareStores } from './compare-stores.ts';
import { readJsonFile } from '../../pipeline/io/read-json.ts';

/** The stages reproduce can re-run. */
export type ReproduceStage = 'teacher-logits' | 'train-student';

/** Options of {@link runReproduce}. */
export interface ReproduceOptions {
  /** Stages to re-run. Default both. With train-student alone, the runs read the recorded stores. */
  stages?: readonly ReproduceStage[];
  /** Runs to re-train, by name (the last folder of train.run, e.g. "distilled"). Default all. */
  runs?: readonly string[];
  /** Scratch folder (workspace-relative; must be new or empty). Default `.scratch/reproduce/<experiment>-<time>`. */
  out?: string;
  /** Workspace the recorded paths are relative to. Default process.cwd(). */
  workspace?: string;
  /** tfjs backend. Default: the backend the recorded run used (its config's when there is no record). */
  backend?: BackendRequest;
  /** ONNX Runtime session factory (tests). Default the stage's. */
  sessionFactory?: SessionFactory;
}

/** What a reproduction compared. */
export interface ReproduceResult {
  /** The scratch folder holding the reproduced stores, runs and configs. */
  scratch: string;
  rows: ComparisonRow[];
  /** Rows whose verdict is "diverged". */
  diverged: number;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** The config a store or run was produced with: its config.resolved.json, else the experiment file's config now. */
async function recordedConfig(dir: string, fallback: Readonly<ExperimentConfig>): Promise<{ config: ExperimentConfig; from: string }> {
  const read = await readJsonFile(join(dir, 'config.resolved.json'));
  const rec = read.ok ? (read.value as { config?: ExperimentConfig } | null) : null;
  if (rec?.config) return { config: structuredClone(rec.config), from: 'config.resolved.json' };
  return { config: structuredClone(fallback) as ExperimentConfig, from: 'the experiment file (no recorded config)' };
}

/** The metrics of run `name` at `seed` in reference-metrics.json, when there are some. */
function referenceMetrics(reference: unknown, name: string, seed: number): RecordedMetrics | null {
  const variant = (reference as { variants?: Record<string, { seeds?: { seed: number; testAccuracy?: number; agreement?: number | null; kl?: number | null }[] }> } | null)?.variants?.[name];
  const s = variant?.seeds?.find((x) => x.seed === seed);
  return s ? { accuracy: s.testAccuracy ?? null, agreement: s.agreement ?? null, kl: s.kl ?? null } : null;
}

interface StorePlan {
  recorded: string;
  config: ExperimentConfig;
  from: string;
}

interface RunPlan {
  name: string;
  recorded: string;
  config: ExperimentConfig;
  from: string;
}

/**
 * Re-runs the recorded stages of the experiment at `path` (a directory of configs or one config)
 * into a scratch folder and compares: each shard's sha256 with the recorded store's (the decoded
 * values within tolerance when the capture environment differs), each run's weights sha256 and final
 * metrics with its recorded run manifest, and with reference-metrics.json's entry for the run and
 * seed. Recorded artifacts are only read. Where none were recorded (a fresh clone) the stages run
 * from the experiment files and only the reference metrics are compared.
 *
 * @example
 * const result = await runReproduce('artifacts/experiments/mnist-kd', { runs: ['distilled'] }, reporter);
 * result.diverged; // 0
 */
export async function runReproduce(path: string, opts: ReproduceOptions, reporter: Reporter): Promise<ReproduceResult> {
  const workspace = opts.workspace ?? process.cwd();
  const stages = new Set(opts.stages ?? ['teacher-logits', 'train-student']);
  const files = await experimentFiles(resolve(workspace, path));
  const expDir = dirname(files[0]!);
  const stores = new Map<string, StorePlan>();
  const runs: RunPlan[] = [];
  for (const file of files) {
    const exp = await loadExperiment(relative(workspace, file), [], workspace);
    const cfg = exp.config;
    if (cfg.teacherLogits && cfg.teacher) {
      const dir = resolve(workspace, cfg.teacherLogits.store);
      if (!stores.has(dir)) stores.set(dir, { recorded: dir, ...(await recordedConfig(dir, cfg)) });
    }
    if (cfg.train) {
      const dir = resolve(workspace, cfg.train.run);
      runs.push({ name: basename(dir), recorded: dir, ...(await recordedConfig(dir, cfg)) });
    }
  }
  const unknown = (opts.runs ?? []).filter((r) => !runs.some((p) => p.name === r));
  if (unknown.length > 0) throw new UsageError(`--runs ${unknown.join(',')}: no such run in ${displayPath(expDir, workspace)} (runs: ${runs.map((r) => r.name).join(', ')})`);
  const selected = runs.filter((r) => !opts.runs || opts.runs.includes(r.name));
  const chosenRuns = stages.has('train-student') ? selected : [];
  const storeOf = (c: ExperimentConfig): string | null => (c.teacherLogits ? resolve(workspace, c.teacherLogits.store) : null);
  const chosenStores = stages.has('teacher-logits') ? [...stores.values()].filter((s) => !opts.runs || selected.some((r) => storeOf(r.config) === s.recorded)) : [];

  if (chosenStores.length + chosenRuns.length === 0) throw new UsageError(`nothing to reproduce in ${displayPath(expDir, workspace)} for --stages ${[...stages].join(',')}${opts.runs ? ` --runs ${opts.runs.join(',')}` : ''}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const scratch = resolve(workspace, opts.out ?? join('.scratch', 'reproduce', `${basename(expDir)}-${stamp}`));
  const recordedDirs = [...stores.keys(), ...runs.map((r) => r.recorded)];
  for (const d of recordedDirs) {
    const rel = relative(d, scratch);
    if (rel === '' || !(rel.startsWith('..') || isAbsolute(rel))) {
      throw new UsageError(`--out ${displayPath(scratch, workspace)} is inside the recorded artifact ${displayPath(d, workspace)}; reproduce never writes there`);
    }
  }
  if ((await exists(scratch)) && (await readdir(scratch)).length > 0) throw new UsageError(`--out ${displayPath(scratch, workspace)} is not empty; reproduce writes into a fresh folder only`);
  await mkdir(join(scratch, 'configs'), { recursive: true });
  reporter.info(`reproducing ${displayPath(expDir, workspace)} into ${displayPath(scratch, workspace)}: ${chosenStores.length} store(s), ${chosenRuns.length} run(s)`);

  const rows: ComparisonRow[] = [];
  const shown = (p: string): string => displayPath(p, workspace);
  const writeConfig = async (name: string, config: ExperimentConfig): Promise<string> => {
    const file = join(scratch, 'configs', `${name}.json`);
    await atomicWriteJson(file, config);
    return relative(workspace, file);
  };
  const reproducedStores = new Map<string, string>();
  for (const s of chosenStores) {
    const out = join(scratch, 'stores', basename(s.recorded));
    const config = s.config;
    config.teacherLogits!.store = relative(workspace, out);
    const exp = await loadExperiment(await writeConfig(`store-${basename(s.recorded)}`, config), [], workspace);
    reporter.info(`teacher-logits: ${shown(s.recorded)} from ${s.from}`);
    await runTeacherLogits(exp, opts.sessionFactory ? { sessionFactory: opts.sessionFactory } : {}, reporter);
    reproducedStores.set(s.recorded, out);
    if (await exists(join(s.recorded, 'manifest.json'))) rows.push(...(await compareStores(await openStore(s.recorded), await openStore(out), shown)));
    else rows.push({ artifact: shown(s.recorded), check: 'shards', recorded: 'absent', reproduced: shown(out), tolerance: '-', verdict: 'info', note: 'no recorded store to compare with (fresh clone?)' });
  }

  const referenceRead = await readJsonFile(join(expDir, 'reference-metrics.json'));
  const reference: unknown = referenceRead.ok ? referenceRead.value : null;
  for (const r of chosenRuns) {
    const out = join(scratch, 'runs', r.name);
    const config = r.config;
    config.train!.run = relative(workspace, out);
    const store = storeOf(config);
    if (store && reproducedStores.has(store)) config.teacherLogits!.store = relative(workspace, reproducedStores.get(store)!);
    const manifestRead = await readJsonFile(join(r.recorded, RUN_MANIFEST));
    const recordedManifest = manifestRead.ok ? (manifestRead.value as RunManifest | null) : null;
    const exp = await loadExperiment(await writeConfig(`run-${r.name}`, config), [], workspace);
    reporter.info(`train-student: ${shown(r.recorded)} from ${r.from}`);
    const backend = opts.backend ?? (recordedManifest?.backend.backend as BackendRequest | undefined);
    const manifest = await runTrainStudent(exp, backend ? { backend } : {}, reporter);
    if (recordedManifest) rows.push(...compareRuns(shown(r.recorded), recordedManifest, manifest));
    else rows.push({ artifact: shown(r.recorded), check: 'run', recorded: 'absent', reproduced: shown(out), tolerance: '-', verdict: 'info', note: 'no recorded run to compare with (fresh clone?)' });
    const ref = referenceMetrics(reference, r.name, config.seed);
    if (ref) rows.push(...compareMetrics(shown(r.recorded), `reference seed ${config.seed}`, ref, manifest));
  }
  return { scratch, rows, diverged: rows.filter((r) => r.verdict === 'diverged').length };
}
