import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve as resolvePath } from 'node:path';
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
  /** sha256 of the config file's bytes (for a chain of `extends`, of the files' sha256s in order). */
  readonly fileSha256: string;
  /** The files read, the named file first, then what it extends. */
  readonly files: readonly string[];
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

/** Keys that would reach an object's prototype instead of a field. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Applies one `a.b.c=value` override in place. The value is parsed as JSON when it parses
 * (numbers, booleans, arrays, objects), otherwise taken as a string.
 */
export function applyOverride(target: Record<string, unknown>, override: string): void {
  const eq = override.indexOf('=');
  if (eq <= 0) throw new ConfigError(`override "${override}" must look like field.path=value (e.g. train.epochs=3)`);
  const path = override.slice(0, eq).split('.');
  const bad = path.find((k) => k === '' || FORBIDDEN_KEYS.has(k));
  if (bad !== undefined) throw new ConfigError(`override "${override}": ${JSON.stringify(bad)} is not a config field name`);
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
  const chain: { file: string; sha256: string }[] = [];
  const raw = await readWithExtends(abs, file, chain);
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
    fileSha256: chain.length === 1 ? chain[0]!.sha256 : sha256Bytes(chain.map((c) => c.sha256).join('\n')),
    files: chain.map((c) => c.file),
    overrides: [...overrides],
    workspace,
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge for `extends`: objects merge key by key; any other value (arrays too) replaces. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = Object.hasOwn(out, k) ? out[k] : undefined;
    // defineProperty: a "__proto__" key from JSON stays a plain (unknown, refused) key, never a prototype.
    Object.defineProperty(out, k, { value: isPlainObject(b) && isPlainObject(v) ? mergeConfig(b, v) : v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Reads a config file and, recursively, the file it `extends` (relative to it), merged. */
async function readWithExtends(abs: string, shown: string, chain: { file: string; sha256: string }[]): Promise<Record<string, unknown>> {
  if (chain.some((c) => c.file === abs)) {
    throw new ConfigError(`${shown}: "extends" forms a cycle (${[...chain.map((c) => c.file), abs].join(' -> ')})`);
  }
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the experiment config ${shown}: ${(err as Error).message}`);
  }
  chain.push({ file: abs, sha256: sha256Bytes(text) });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${shown} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(raw)) {
    throw new ConfigError(`${shown} must hold a JSON object, but got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const { extends: parent, ...own } = raw;
  if (parent === undefined) return own;
  if (typeof parent !== 'string') throw new ConfigError(`${shown}: extends must be a path string, but got ${JSON.stringify(parent)}`);
  const parentAbs = resolvePath(dirname(abs), parent);
  return mergeConfig(await readWithExtends(parentAbs, parent, chain), own);
}

/** What a run records about the config that produced it (written as config.resolved.json). */
export function resolvedConfigRecord(exp: LoadedExperiment): Record<string, unknown> {
  return {
    source: relative(exp.workspace, exp.file),
    sourceSha256: exp.fileSha256,
    files: exp.files.map((f) => relative(exp.workspace, f)),
    overrides: exp.overrides,
    config: exp.config,
  };
}
