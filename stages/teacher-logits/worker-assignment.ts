/**
 * Which worker of a sharded teacher-logits run this process is: from `--num-shards N --shard-index i`,
 * from the `teacherLogits.workers` config section, or from the environment of the engine that
 * launched it (Kubernetes Indexed Jobs, Slurm job arrays). Pure: the environment is a parameter.
 * See docs/scale-out.md.
 */
import { ConfigError } from '../../pipeline/errors.ts';

/** Where the worker's index and count came from. */
export type WorkerSource = 'flags' | 'config' | 'kubernetes' | 'slurm';

/** Which launching engine's environment is read: `auto` detects it, `none` ignores the environment. */
export type WorkerEnvironment = 'auto' | 'none' | 'kubernetes' | 'slurm';

/** This process's place among the workers of a sharded run. */
export interface WorkerAssignment {
  /** Worker index i, 0 <= i < count. */
  index: number;
  /** Number of workers N (>= 1). */
  count: number;
  /** Where the index came from (the count may come from another place; see `describe`). */
  source: WorkerSource;
  /** Human-readable origin of both values, e.g. `JOB_COMPLETION_INDEX=2, --num-shards 3`. */
  describe: string;
}

/** The explicit values: command-line flags and the config section. */
export interface WorkerInputs {
  /** `--num-shards N`. */
  numShards?: number;
  /** `--shard-index i`. */
  shardIndex?: number;
  /** `--worker-env`. */
  environment?: WorkerEnvironment;
  /** `teacherLogits.workers` of the experiment config. */
  config?: { count?: number; index?: number; environment?: WorkerEnvironment };
}

/** Environment variable through which a Kubernetes Indexed Job passes its completion count (Kubernetes exposes only the index). */
export const NUM_SHARDS_ENV = 'DISTILL_NUM_SHARDS';

interface Value {
  value: number;
  from: string;
}

/** A non-negative integer from an environment variable, or a ConfigError naming it. */
function envInt(env: NodeJS.ProcessEnv, name: string): Value | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\s*\d+\s*$/.test(raw)) throw new ConfigError(`environment variable ${name} must be a non-negative integer, but got ${JSON.stringify(raw)}`);
  return { value: Number(raw), from: `${name}=${raw.trim()}` };
}

function explicitInt(v: number | undefined, from: string, min: number): Value | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`${from} must be an integer >= ${min}, but got ${JSON.stringify(Number.isNaN(v) ? String(v) : v)}`);
  return { value: v, from: `${from} ${v}` };
}

/** The index and count an engine's environment states. */
interface EngineValues {
  engine: 'kubernetes' | 'slurm';
  index: Value;
  count?: Value;
}

function kubernetes(env: NodeJS.ProcessEnv): EngineValues | null {
  const index = envInt(env, 'JOB_COMPLETION_INDEX');
  if (!index) return null;
  const count = envInt(env, NUM_SHARDS_ENV);
  return { engine: 'kubernetes', index, ...(count ? { count } : {}) };
}

/**
 * Slurm job arrays: SLURM_ARRAY_TASK_ID, and the array's SLURM_ARRAY_TASK_COUNT / _MIN / _MAX /
 * _STEP. The index is (ID - MIN) / STEP; the array must be a contiguous range (`--array=0-(N-1)`,
 * any MIN and STEP), or the indices would not tile 0..N-1.
 */
function slurm(env: NodeJS.ProcessEnv): EngineValues | null {
  const id = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (!id) return null;
  const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? { value: 0, from: 'SLURM_ARRAY_TASK_MIN unset (0)' };
  const max = envInt(env, 'SLURM_ARRAY_TASK_MAX');
  const step = envInt(env, 'SLURM_ARRAY_TASK_STEP') ?? { value: 1, from: '' };
  const countVar = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
  if (step.value < 1) throw new ConfigError(`SLURM_ARRAY_TASK_STEP must be >= 1, but got ${step.value}`);
  if (id.value < min.value || (max && id.value > max.value) || (id.value - min.value) % step.value !== 0) {
    throw new ConfigError(`${id.from} is not in the job array ${min.value}-${max?.value ?? '?'}${step.value > 1 ? `:${step.value}` : ''} (${[min.from, max?.from, step.from].filter(Boolean).join(', ')})`);
  }
  const span = max ? (max.value - min.value) / step.value + 1 : undefined;
  if (countVar && span !== undefined && Math.floor(span) !== countVar.value) {
    throw new ConfigError(
      `the Slurm job array is not a contiguous range: ${countVar.from}, but ${min.from} and ${max!.from} span ${Math.floor(span)} tasks; ` +
        'submit it as --array=0-(N-1) (a %limit is fine), so that task indices tile 0..N-1',
    );
  }
  const index = { value: (id.value - min.value) / step.value, from: id.from + (min.value !== 0 ? ` - ${min.from}` : '') };
  const count = countVar ?? (max && span !== undefined ? { value: Math.floor(span), from: `${min.from}, ${max.from}` } : undefined);
  return { engine: 'slurm', index, ...(count ? { count } : {}) };
}

/** The engine values of the environment under `mode`; a ConfigError when both engines are present under auto or the asked engine is absent. */
function detect(mode: WorkerEnvironment, env: NodeJS.ProcessEnv): EngineValues | null {
  if (mode === 'none') return null;
  if (mode === 'kubernetes' || mode === 'slurm') {
    const found = mode === 'kubernetes' ? kubernetes(env) : slurm(env);
    if (!found) throw new ConfigError(`--worker-env ${mode}: ${mode === 'kubernetes' ? 'JOB_COMPLETION_INDEX' : 'SLURM_ARRAY_TASK_ID'} is not set (is this process running in a ${mode === 'kubernetes' ? 'Kubernetes Indexed Job' : 'Slurm job array'}?)`);
    return found;
  }
  const k = kubernetes(env);
  const s = slurm(env);
  if (k && s) {
    throw new ConfigError(
      `both a Kubernetes Indexed Job (${k.index.from}) and a Slurm job array (${s.index.from}) are visible in the environment; ` +
        'choose one with --worker-env kubernetes|slurm, or pass --num-shards and --shard-index',
    );
  }
  return k ?? s;
}

/**
 * Resolves this process's worker assignment, or null for an ordinary single-writer run.
 *
 * Precedence, per value: flags (`--num-shards`, `--shard-index`), then `teacherLogits.workers`
 * (`count`, `index`), then the environment of the launching engine (`--worker-env` /
 * `teacherLogits.workers.environment`, default `auto`):
 * - Kubernetes Indexed Job: index `JOB_COMPLETION_INDEX`; Kubernetes does not expose the completion
 *   count, so it comes from `--num-shards` or `DISTILL_NUM_SHARDS`.
 * - Slurm job array: index `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN` (divided by the step), count
 *   `SLURM_ARRAY_TASK_COUNT`, else `(MAX - MIN) / STEP + 1`.
 *
 * When both the index and the count are explicit the environment is not read at all. When the index
 * comes from the environment and the count is explicit, a count the environment also states must
 * agree. Errors (ConfigError, exit 2): an index without a count or the reverse, a count < 1, an index
 * outside 0..N-1, a non-integer value, both engines present under `auto`, a conflicting count.
 *
 * @example
 * resolveWorkerAssignment({ numShards: 3 }, { JOB_COMPLETION_INDEX: '2' });
 * // { index: 2, count: 3, source: 'kubernetes', describe: 'JOB_COMPLETION_INDEX=2, --num-shards 3' }
 */
export function resolveWorkerAssignment(inputs: WorkerInputs, env: NodeJS.ProcessEnv): WorkerAssignment | null {
  const cfg = inputs.config ?? {};
  const count = explicitInt(inputs.numShards, '--num-shards', 1) ?? explicitInt(cfg.count, 'teacherLogits.workers.count', 1);
  const index = explicitInt(inputs.shardIndex, '--shard-index', 0) ?? explicitInt(cfg.index, 'teacherLogits.workers.index', 0);
  const source: WorkerSource | undefined = inputs.shardIndex !== undefined ? 'flags' : cfg.index !== undefined ? 'config' : undefined;
  const engine = count && index ? null : detect(inputs.environment ?? cfg.environment ?? 'auto', env);
  const finalIndex = index ?? engine?.index;
  const finalCount = count ?? engine?.count;
  if (count && engine?.count && !index && engine.count.value !== count.value) {
    throw new ConfigError(
      `conflicting worker counts: ${count.from}, but the ${engine.engine === 'slurm' ? 'Slurm job array' : 'environment'} says ${engine.count.from}; ` +
        'make them agree (one worker per array task), or pass --worker-env none with --shard-index',
    );
  }
  if (!finalIndex && !finalCount) return null;
  if (!finalIndex) {
    throw new ConfigError(`${finalCount!.from} is given, but not this worker's index: pass --shard-index i (0..${finalCount!.value - 1}), or run it as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job array (SLURM_ARRAY_TASK_ID)`);
  }
  if (!finalCount) {
    const hint = engine?.engine === 'kubernetes' ? ` (Kubernetes does not expose the completion count: pass the Job's spec.completions as --num-shards or ${NUM_SHARDS_ENV})` : '';
    throw new ConfigError(`${finalIndex.from} is given, but not the number of workers: pass --num-shards N or set ${NUM_SHARDS_ENV}${hint}`);
  }
  if (finalCount.value < 1) throw new ConfigError(`the number of workers must be >= 1, but ${finalCount.from}`);
  if (finalIndex.value >= finalCount.value) {
    throw new ConfigError(`worker index out of range: ${finalIndex.from}, but there are ${finalCount.value} workers (${finalCount.from}); the index must be in 0..${finalCount.value - 1}`);
  }
  return {
    index: finalIndex.value,
    count: finalCount.value,
    source: source ?? engine!.engine,
    describe: finalIndex.from === finalCount.from ? finalIndex.from : `${finalIndex.from}, ${finalCount.from}`,
  };
}

/** One shard of the global shard list: split, shard index, rows. */
export interface GlobalShard {
  split: string;
  index: number;
  rowStart: number;
  rowEnd: number;
}

/**
 * The global shard list of a capture: for each split in config order, shard i covers rows
 * [i*shardRows, min((i+1)*shardRows, rows)). It depends only on the split sizes and shardRows.
 */
export function globalShards(splits: readonly { split: string; rows: number }[], shardRows: number): GlobalShard[] {
  const out: GlobalShard[] = [];
  for (const { split, rows } of splits) {
    for (let i = 0, start = 0; start < rows; i++, start += shardRows) out.push({ split, index: i, rowStart: start, rowEnd: Math.min(rows, start + shardRows) });
  }
  return out;
}

/**
 * The shards worker `index` of `count` owns: round-robin over the global shard list (entry k belongs
 * to worker k mod count), so every shard has exactly one owner and the splits are spread evenly.
 */
export function ownedShards(all: readonly GlobalShard[], worker: { index: number; count: number }): GlobalShard[] {
  return all.filter((_, k) => k % worker.count === worker.index);
}
