import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve as resolvePath } from 'node:path';
import { ConfigError } from '../errors.ts';
import { sha256Bytes } from '../io/sha256.ts';
import { deepFreeze } from './deep-freeze.ts';
import type { ExperimentConfig } from './experiment-config.ts';
import { checkAgainstSchema } from './validate-schema.ts';

/** A loaded, validated, frozen experiment config and where it came from. */
export interface LoadedExperiment {
  /** The resolved config: file, then command-line overrides, then defaults, validated. Frozen. */
  readonly config: Readonly<ExperimentConfig>;
  /** Absolute path of the config file. */
  readonly file: string;
  /** sha256 of the config file's bytes. */
  readonly fileSha256: string;
  /** The overrides applied, as given (`field.path=value`). */
  readonly overrides: readonly string[];
  /** The workspace root: every path in the config is relative to it and must stay inside it. */
  readonly workspace: string;
}

/** Fields that hold paths; each must resolve inside the workspace. */
const PATH_FIELDS = ['dataset.path', 'teacher.path', 'teacherLogits.store', 'train.run'] as const;

function getField(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Applies one `a.b.c=value` override in place. The value is parsed as JSON when it parses
 * (numbers, booleans, arrays, objects), otherwise taken as a string.
 */
export function applyOverride(target: Record<string, unknown>, override: string): void {
  const eq = override.indexOf('=');
  if (eq <= 0) throw new ConfigError(`override "${override}" must look like field.path=value (e.g. train.epochs=3)`);
  const path = override.slice(0, eq).split('.');
  const raw = override.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  let cur = target;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (next === undefined) cur[key] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      throw new ConfigError(`override "${override}": ${key} is not an object in the config`);
    }
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

/** Resolves a workspace-relative path, refusing one that escapes the workspace. */
export function resolveInWorkspace(workspace: string, field: string, p: string): string {
  const abs = resolvePath(workspace, p);
  const rel = relative(workspace, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new ConfigError(`${field} ${JSON.stringify(p)} escapes the workspace ${workspace}; paths must stay inside it`);
  }
  return abs;
}

/**
 * Loads an experiment config in one fixed order: the file, the command-line overrides, the schema
 * defaults, validation (unknown keys with did-you-mean, types, ranges), path containment; then
 * freezes it.
 *
 * @example
 * const exp = await loadExperiment('artifacts/experiments/mnist-kd/experiment.json', ['train.epochs=1']);
 * exp.config.train?.epochs; // 1
 */
export async function loadExperiment(
  file: string,
  overrides: readonly string[] = [],
  workspace: string = process.cwd(),
): Promise<LoadedExperiment> {
  const abs = resolvePath(workspace, file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the experiment config ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${file} must hold a JSON object, but got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const config = raw as Record<string, unknown>;
  for (const o of overrides) applyOverride(config, o);
  const problems = checkAgainstSchema('experiment', config);
  if (problems.length > 0) {
    const lines = problems.map((p) => `  - ${p.message}`).join('\n');
    throw new ConfigError(`${file}: ${problems.length} problem${problems.length > 1 ? 's' : ''} in the experiment config:\n${lines}`);
  }
  for (const field of PATH_FIELDS) {
    const value = getField(config, field);
    if (typeof value === 'string') resolveInWorkspace(workspace, field, value);
  }
  return deepFreeze({
    config: config as unknown as ExperimentConfig,
    file: abs,
    fileSha256: sha256Bytes(text),
    overrides: [...overrides],
    workspace,
  });
}

/** What a run records about the config that produced it (written as config.resolved.json). */
export function resolvedConfigRecord(exp: LoadedExperiment): Record<string, unknown> {
  return {
    source: relative(exp.workspace, exp.file),
    sourceSha256: exp.fileSha256,
    overrides: exp.overrides,
    config: exp.config,
  };
}
