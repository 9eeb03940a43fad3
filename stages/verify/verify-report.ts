/**
 * What `distill verify` finds: every problem of an artifact (a store, a student run, a dataset, an
 * experiment), each naming the file and what is wrong, plus what it checked and what it could not.
 */
import { readJsonFile } from '../../pipeline/io/read-json.ts';

/** One problem: the file it is about and what is wrong, with the recorded and the actual value. */
export interface VerifyProblem {
  /** The file (workspace-relative when inside it). */
  file: string;
  problem: string;
}

/** The result of verifying one artifact. */
export interface VerifyReport {
  kind: 'store' | 'run' | 'dataset' | 'experiment';
  /** The artifact as shown to the user. */
  path: string;
  /** What was checked, one short line each. */
  checked: string[];
  /** Every problem found; empty when the artifact verifies. */
  problems: VerifyProblem[];
  /** What could not be checked and why (e.g. the teacher is not on disk). Not problems. */
  notes: string[];
}

/** An empty report to fill. */
export function newReport(kind: VerifyReport['kind'], path: string): VerifyReport {
  return { kind, path, checked: [], problems: [], notes: [] };
}

/** The report as text: a head line, then one indented line per problem, then the notes. */
export function formatVerifyReport(report: VerifyReport): string {
  const n = report.problems.length;
  const head = n === 0 ? `verify ${report.kind} ${report.path}: OK` : `verify ${report.kind} ${report.path}: ${n} problem${n > 1 ? 's' : ''}`;
  const lines = [head, ...report.problems.map((p) => `  - ${p.file}: ${p.problem}`)];
  if (n === 0 && report.checked.length > 0) lines.push(...report.checked.map((c) => `  checked: ${c}`));
  lines.push(...report.notes.map((note) => `  note: ${note}`));
  return lines.join('\n');
}

/** A JSON file's value, or the problem reading it (missing, unreadable, not JSON), named `shown`. */
export async function readJson(path: string, shown: string): Promise<{ value: unknown } | { problem: VerifyProblem }> {
  const read = await readJsonFile(path);
  return read.ok ? { value: read.value } : { problem: { file: shown, problem: read.missing ? 'is missing' : read.problem } };
}

/** JSON with object keys sorted: equal for equal values whatever the key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
}

/** The dotted fields where two JSON values differ (at most `limit`), e.g. ["train.epochs: 8 vs 3"]. */
export function jsonDiffs(a: unknown, b: unknown, limit = 8, field = ''): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, f: string): void => {
    if (out.length >= limit) return;
    const obj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (obj(x) && obj(y)) {
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) walk(x[k], y[k], f ? `${f}.${k}` : k);
    } else if (canonicalJson(x) !== canonicalJson(y)) {
      out.push(`${f || '(value)'}: ${x === undefined ? '(absent)' : JSON.stringify(x)} vs ${y === undefined ? '(absent)' : JSON.stringify(y)}`);
    }
  };
  walk(a, b, field);
  return out;
}
