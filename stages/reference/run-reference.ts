/**
 * The reference experiment runner: trains every variant of an experiment over several seeds and
 * records the results (mean and spread) as the experiment's reference metrics.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { loadExperiment, resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import { atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { softwareProvenance } from '../../pipeline/provenance.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { STORE_MANIFEST } from '../../pipeline/store/store-manifest.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import { RUN_MANIFEST } from '../../pipeline/student/run-manifest.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { runDistillChild } from './run-child.ts';
import { summarize } from './summarize.ts';
import { hardLabelComparisons } from './hard-label-comparisons.ts';
import type { Summary } from './summarize.ts';
import { teacherAccuracy } from './teacher-accuracy.ts';
import type { TeacherAccuracy } from './teacher-accuracy.ts';
import { readJsonFile } from '../../pipeline/io/read-json.ts';

/** The file the runner writes next to the experiment's configs. */
export const REFERENCE_METRICS = 'reference-metrics.json';

/** Options of {@link runReference}. */
export interface ReferenceOptions {
  /** Experiment directory holding experiment.json and its variants (other *.json configs). */
  dir: string;
  /** Seeds to train each variant with. Default [1, 2, 3]. */
  seeds?: number[];
  /** Variant names to run (default all): a variant is named after its train.run folder. */
  variants?: string[];
  /** Trainings run at once (each is one single-threaded tfjs process). Default 1. */
  jobs?: number;
  /** Workspace (paths in configs are relative to it). Default process.cwd(). */
  workspace?: string;
}

/** One trained seed of a variant. */
export interface SeedResult {
  seed: number;
  run: string;
  testErrors: number;
  testAccuracy: number;
  agreement: number | null;
  kl: number | null;
  trainSeconds: number;
  examplesPerSecond: number;
  /** Sequence runs: testErrors/testAccuracy are over labelled token positions (for diacritics, 1 - accuracy is the DER over letters); plus perplexity. */
  sequence?: { labelled: number; tokenErrorRate: number; perplexity: number; tokensPerSecond: number | null };
}

/** A variant's results over the seeds. */
export interface VariantResult {
  config: string;
  alpha: number;
  temperature: number;
  store: string | null;
  encoding: string | null;
  /** The stored views the variant trains on and how (e.g. `K=8 image views (shift 2, rotation 10, zoom 0.1), consistent targets`), null without views. */
  views?: string | null;
  seeds: SeedResult[];
  testErrors: Summary;
  testAccuracy: Summary;
  /** Sequence variants: token error rate and perplexity over the seeds. */
  tokenErrorRate?: Summary;
  perplexity?: Summary;
  /** The `distill reference` run that trained this variant (kept per variant: a `--variants` run merges into the file). */
  command?: string;
  createdAt?: string;
}

/** reference-metrics.json. */
export interface ReferenceMetrics {
  kind: 'distill.reference-metrics';
  experiment: string;
  createdAt: string;
  command: string;
  seeds: number[];
  teacher: TeacherAccuracy & { sha256: string };
  stores: Record<string, { encoding: string; bytesPerExample: number; rows: number; bytes: number; seconds: number | null; bytesPerToken?: number }>;
  variants: Record<string, VariantResult>;
  /** Distilled variants against the hard-label baseline (alpha = 1). */
  comparisons: Record<string, { against: string; gap: number; spread: number; beats: boolean }>;
  software: ReturnType<typeof softwareProvenance>;
}

/** A store encoding in one line: `dense float16`, `topk k=8 T=1 float16`, `sampled N=12 T=1`, plus `, K=8 views`. */
function encodingLabel(e: { mode: string; k?: number | undefined; temperature?: number | undefined; precision?: string | undefined; samples?: number | undefined }, views?: number): string {
  const base = e.mode === 'topk' ? `topk k=${e.k} T=${e.temperature ?? 1} ${e.precision}` : e.mode === 'sampled' ? `sampled N=${e.samples} T=${e.temperature ?? 1}` : `dense ${e.precision}`;
  return views ? `${base}, K=${views} views` : base;
}

interface Variant {
  name: string;
  file: string;
  exp: LoadedExperiment;
}

/** Whether a JSON file in an experiment folder is a config (it extends one, has a train or teacherLogits section, or names the experiment schema), not a data record. */
async function isExperimentConfig(file: string): Promise<boolean> {
  const read = await readJsonFile(file);
  if (!read.ok || typeof read.value !== 'object' || read.value === null) return true; // let loadExperiment name the problem
  const v = read.value as Record<string, unknown>;
  return typeof v.extends === 'string' || 'train' in v || 'teacherLogits' in v || (typeof v.$schema === 'string' && v.$schema.endsWith('experiment.schema.json'));
}

async function discoverVariants(dir: string, workspace: string): Promise<Variant[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.json') && f !== REFERENCE_METRICS && !f.endsWith('.resolved.json')).sort();
  if (!names.includes('experiment.json')) throw new ConfigError(`${dir}: no experiment.json (an experiment directory holds experiment.json and optional variants)`);
  const variants: Variant[] = [];
  for (const f of names) {
    const file = join(dir, f);
    if (f !== 'experiment.json' && !(await isExperimentConfig(file))) continue;
    const exp = await loadExperiment(file, [], workspace);
    if (!exp.config.train) continue;
    variants.push({ name: basename(exp.config.train.run), file, exp });
  }
  const seen = new Set<string>();
  for (const v of variants) {
    if (seen.has(v.name)) throw new ConfigError(`${dir}: two variants train into runs named "${v.name}"; give each a distinct train.run`);
    seen.add(v.name);
  }
  return variants;
}

async function readJson<T>(path: string): Promise<T> {
  const read = await readJsonFile(path);
  if (!read.ok) throw new DataError(`${path}: cannot read (${read.problem})`);
  return read.value as T;
}

async function pool<T>(tasks: (() => Promise<T>)[], jobs: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tasks.length)) }, worker));
  return results;
}

/** Trains variant `v` at `seed` in a child process and reads its result from the run manifest. */
async function trainSeed(v: Variant, seed: number, workspace: string, reporter: Reporter): Promise<[string, SeedResult]> {
  const rel = (p: string): string => relative(workspace, p);
  const run = `${v.exp.config.train!.run}-seed${seed}`;
  const label = `${v.name} seed ${seed}`;
  reporter.info(`${label}: training into ${run}`);
  await runDistillChild(['train-student', '-c', rel(v.file), '--set', `seed=${seed}`, '--set', `train.run=${run}`, '--force'], workspace, label, reporter);
  const m = await readJson<RunManifest>(join(resolveInWorkspace(workspace, 'train.run', run), RUN_MANIFEST));
  // The test split, scored once after training (runs before dataset.validation: the last epoch's eval was the test split).
  const e = m.test ?? m.final.eval;
  const sq = e.sequence;
  const result: SeedResult = {
    seed,
    run,
    testErrors: Math.round((1 - e.accuracy) * (sq ? sq.labelled : e.rows)),
    testAccuracy: e.accuracy,
    agreement: e.agreement ?? null,
    kl: e.kl ?? null,
    trainSeconds: Math.round((Date.parse(m.finishedAt) - Date.parse(m.createdAt)) / 100) / 10,
    examplesPerSecond: Math.round(m.final.examplesPerSecond),
    ...(sq ? { sequence: { labelled: sq.labelled, tokenErrorRate: 1 - e.accuracy, perplexity: sq.perplexity, tokensPerSecond: m.final.tokensPerSecond === undefined ? null : Math.round(m.final.tokensPerSecond) } } : {}),
  };
  reporter.info(`${label}: ${result.testErrors} test errors (accuracy ${(100 * result.testAccuracy).toFixed(2)}%)`);
  return [v.name, result];
}

/** The views a variant trains on, as text (null without teacherLogits.views). */
function viewsText(exp: LoadedExperiment): string | null {
  const v = exp.config.teacherLogits?.views;
  if (!v) return null;
  const policy = v.image ? `image views (shift ${v.image.shift}, rotation ${v.image.rotation}, zoom ${v.image.scale})` : `noise views (sd ${v.noise!.sd})`;
  const how = exp.config.train!.alpha >= 1 ? 'hard labels' : `${exp.config.train!.viewTargets ?? 'consistent'} targets`;
  return `K=${v.count} ${policy}, ${how}`;
}

/** Each store's encoding, size and capture time, and the teacher's accuracy (from the dense store when there is one). */
async function storeFactsOf(stores: ReadonlyMap<string, Variant>, workspace: string): Promise<{ storeFacts: ReferenceMetrics['stores']; teacher: ReferenceMetrics['teacher'] | undefined }> {
  const storeFacts: ReferenceMetrics['stores'] = {};
  let teacher: ReferenceMetrics['teacher'] | undefined;
  let teacherRank = Infinity;
  for (const [store, v] of stores) {
    const dir = resolveInWorkspace(workspace, 'teacherLogits.store', store);
    const m = await readJson<StoreManifest>(join(dir, STORE_MANIFEST));
    const train = m.splits[v.exp.config.dataset.trainSplit] ?? Object.values(m.splits)[0]!;
    const bytes = train.shards.reduce((a, s) => a + s.bytes, 0);
    storeFacts[store] = { encoding: encodingLabel(m.encoding, m.encoding.views?.count), rows: train.rows, bytes, bytesPerExample: Math.round((10 * bytes) / train.rows) / 10, seconds: m.timing?.seconds ?? null, ...(m.encoding.bytesPerToken !== undefined ? { bytesPerToken: m.encoding.bytesPerToken } : {}) };
    // The teacher's top-1 is exact from dense or top-k targets, an estimate (the most drawn id) from sampled ones.
    const rank = (mode: string): number => ['dense', 'topk', 'sampled'].indexOf(mode);
    if (!teacher || rank(m.encoding.mode) < teacherRank) {
      teacherRank = rank(m.encoding.mode);
      const datasetDir = resolveInWorkspace(workspace, 'dataset.path', v.exp.config.dataset.path);
      teacher = { ...(await teacherAccuracy(dir, datasetDir, v.exp.config.dataset.evalSplit)), sha256: m.teacher.sha256 };
    }
  }
  return { storeFacts, teacher };
}

/**
 * Runs an experiment's reference protocol: for every store a variant needs, `distill teacher-logits`
 * (resumes, so an existing complete store is reused); for every variant and seed, `distill
 * train-student --set seed=S --set train.run=<run>-seed<S> --force`; then the teacher's accuracy from
 * the dense store, each store's bytes per example, each variant's errors over the seeds (mean,
 * sample std, range) and whether each distilled variant beats the hard-label one by more than the
 * spread. Writes `<dir>/reference-metrics.json` atomically and returns it.
 *
 * @example
 * await runReference({ dir: 'artifacts/experiments/mnist-kd', seeds: [1, 2, 3], jobs: 2 }, reporter);
 */
export async function runReference(opts: ReferenceOptions, reporter: Reporter): Promise<ReferenceMetrics> {
  const workspace = opts.workspace ?? process.cwd();
  const seeds = opts.seeds ?? [1, 2, 3];
  const all = await discoverVariants(opts.dir, workspace);
  const variants = opts.variants ? all.filter((v) => opts.variants!.includes(v.name)) : all;
  const unknown = (opts.variants ?? []).filter((n) => !all.some((v) => v.name === n));
  if (unknown.length > 0) throw new ConfigError(`unknown variant ${unknown.join(', ')}; ${opts.dir} has: ${all.map((v) => v.name).join(', ')}`);
  const rel = (p: string): string => relative(workspace, p);

  const stores = new Map<string, Variant>();
  for (const v of variants) {
    const s = v.exp.config.teacherLogits?.store;
    if (s && !stores.has(s)) stores.set(s, v);
  }
  for (const [store, v] of stores) {
    reporter.info(`store ${store}: distill teacher-logits -c ${rel(v.file)}`);
    await runDistillChild(['teacher-logits', '-c', rel(v.file)], workspace, `teacher-logits ${basename(store)}`, reporter);
  }

  const tasks = variants.flatMap((v) => seeds.map((seed) => (): Promise<[string, SeedResult]> => trainSeed(v, seed, workspace, reporter)));
  const results = await pool(tasks, opts.jobs ?? 1);

  const command = `distill reference ${rel(opts.dir)} --seeds ${seeds.join(',')}${opts.variants ? ` --variants ${opts.variants.join(',')}` : ''}`;
  const createdAt = new Date().toISOString();
  const out: Record<string, VariantResult> = {};
  for (const v of variants) {
    const seedsOf = results.filter(([n]) => n === v.name).map(([, r]) => r);
    const tl = v.exp.config.teacherLogits;
    out[v.name] = {
      config: rel(v.file),
      alpha: v.exp.config.train!.alpha,
      temperature: v.exp.config.train!.temperature,
      // A hard-label variant on stored views reads the store (for the views' parameters) but not its targets.
      store: (v.exp.config.train!.alpha < 1 || tl?.views) && tl ? tl.store : null,
      encoding: v.exp.config.train!.alpha < 1 && tl ? encodingLabel(tl.encoding, tl.views?.count) : null,
      views: viewsText(v.exp),
      seeds: seedsOf,
      testErrors: summarize(seedsOf.map((s) => s.testErrors)),
      testAccuracy: summarize(seedsOf.map((s) => s.testAccuracy)),
      ...(seedsOf.every((s) => s.sequence) && seedsOf.length > 0
        ? { tokenErrorRate: summarize(seedsOf.map((s) => s.sequence!.tokenErrorRate)), perplexity: summarize(seedsOf.map((s) => s.sequence!.perplexity)) }
        : {}),
      command,
      createdAt,
    };
  }

  const facts = await storeFactsOf(stores, workspace);
  if (!facts.teacher) throw new ConfigError(`${opts.dir}: no variant names a teacherLogits store, so there is no teacher to compare with`);
  const { teacher, stores: storeFacts, variants: recorded } = opts.variants
    ? await mergeWithRecorded(opts.dir, all, seeds, { teacher: facts.teacher, stores: facts.storeFacts, variants: out }, reporter)
    : { teacher: facts.teacher, stores: facts.storeFacts, variants: out };

  const configOf = (name: string): LoadedExperiment['config'] => all.find((v) => v.name === name)!.exp.config;
  const comparisons: ReferenceMetrics['comparisons'] = hardLabelComparisons(
    Object.fromEntries(
      Object.entries(recorded).map(([name, r]) => {
        const c = configOf(name);
        return [name, { alpha: r.alpha, testErrors: r.testErrors, setup: { student: c.student, views: c.teacherLogits?.views ?? null, epochs: c.train?.epochs ?? null } }];
      }),
    ),
  );
  const metrics: ReferenceMetrics = {
    kind: 'distill.reference-metrics',
    experiment: variants[0]?.exp.config.name ?? basename(opts.dir),
    createdAt,
    command,
    seeds,
    teacher,
    stores: storeFacts,
    variants: recorded,
    comparisons,
    software: softwareProvenance(),
  };
  await stat(opts.dir);
  await atomicWriteJson(join(opts.dir, REFERENCE_METRICS), metrics);
  return metrics;
}

type Recorded = Pick<ReferenceMetrics, 'teacher' | 'stores' | 'variants'>;

/**
 * A `--variants` run keeps the other variants of the recorded reference-metrics.json (each with the
 * command and date of the run that trained it), when that file was made with the same seeds and the
 * same teacher and the variant still has a config here; otherwise it is replaced, with one line
 * saying why. The recorded teacher accuracy is kept (it came from the most exact store of a fuller run).
 */
async function mergeWithRecorded(dir: string, all: readonly Variant[], seeds: readonly number[], fresh: Recorded, reporter: Reporter): Promise<Recorded> {
  const read = await readJsonFile(join(dir, REFERENCE_METRICS));
  if (!read.ok) return fresh;
  const old = read.value as ReferenceMetrics;
  const why =
    old.kind !== 'distill.reference-metrics' ? 'it is not a reference-metrics file'
    : JSON.stringify(old.seeds) !== JSON.stringify(seeds) ? `its seeds ${old.seeds.join(',')} differ from ${seeds.join(',')}`
    : old.teacher?.sha256 !== fresh.teacher.sha256 ? 'it was made with another teacher'
    : null;
  if (why !== null) {
    reporter.warn(`${join(dir, REFERENCE_METRICS)}: replaced, not merged (${why})`);
    return fresh;
  }
  const variants: Record<string, VariantResult> = {};
  for (const [name, v] of Object.entries(old.variants)) {
    if (fresh.variants[name]) continue;
    const train = all.find((a) => a.name === name)?.exp.config.train;
    if (!train || train.alpha !== v.alpha || train.temperature !== v.temperature) {
      reporter.warn(`${join(dir, REFERENCE_METRICS)}: variant ${name} left out (no longer a variant here, or its alpha/temperature changed); re-run it with --variants ${name}`);
      continue;
    }
    variants[name] = { ...v, command: v.command ?? old.command, createdAt: v.createdAt ?? old.createdAt };
  }
  const kept = Object.keys(variants);
  if (kept.length > 0) reporter.info(`kept the recorded results of ${kept.join(', ')} (${REFERENCE_METRICS})`);
  const teacher = old.teacher.split === fresh.teacher.split ? old.teacher : fresh.teacher;
  // In the folder's order (experiment.json first), kept and re-trained variants alike.
  const merged = { ...variants, ...fresh.variants };
  const ordered = Object.fromEntries(all.filter((v) => merged[v.name]).map((v) => [v.name, merged[v.name]!]));
  return { teacher, stores: { ...old.stores, ...fresh.stores }, variants: ordered };
}

/** A markdown table of the reference metrics (as README shows it). */
export function referenceTable(m: ReferenceMetrics): string {
  const fmt = (s: Summary): string => `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)} (${s.min}-${s.max})`;
  const pct = (s: Summary): string => `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}`;
  const what = (v: VariantResult): string => (v.alpha === 1 ? 'hard labels only (alpha = 1)' : `distilled, ${v.encoding}, T = ${v.temperature}, alpha = ${v.alpha}`) + (v.views ? `; ${v.views}` : '');
  const sequence = Object.values(m.variants).some((v) => v.tokenErrorRate);
  if (sequence) {
    const lines = [
      `| model | token error rate % (test, labelled positions), mean ± std over seeds ${m.seeds.join(', ')} | perplexity | cache bytes/token |`,
      '|---|---|---|---|',
      `| teacher (${m.teacher.sha256.slice(0, 12)}) | ${(100 * (1 - m.teacher.accuracy)).toFixed(2)} | | |`,
    ];
    for (const [name, v] of Object.entries(m.variants)) {
      const store = v.store ? m.stores[v.store] : undefined;
      lines.push(`| student ${name}: ${what(v)} | ${v.tokenErrorRate ? pct(v.tokenErrorRate) : '-'} | ${v.perplexity ? `${v.perplexity.mean.toFixed(3)} ± ${v.perplexity.std.toFixed(3)}` : '-'} | ${store?.bytesPerToken ?? ''} |`);
    }
    return lines.join('\n');
  }
  const lines = [
    '| model | test errors (of 10,000), mean ± std (range) over seeds ' + m.seeds.join(', ') + ' | cache bytes/example |',
    '|---|---|---|',
    `| teacher (${m.teacher.sha256.slice(0, 12)}) | ${m.teacher.errors} | |`,
  ];
  for (const [name, v] of Object.entries(m.variants)) {
    const store = v.store ? m.stores[v.store] : undefined;
    lines.push(`| student ${name}: ${what(v)} | ${fmt(v.testErrors)} | ${store ? store.bytesPerExample : ''} |`);
  }
  return lines.join('\n');
}
