/**
 * The make rule for stage outputs: a finished output whose config, inputs and code match what would
 * produce it now is up to date, and the stage leaves it as it is (exit 0, nothing recomputed). Each
 * stage states its key: the sha256 of the resolved config, one fingerprint per input (a store
 * manifest's sha256, a dataset split's fingerprint, a run manifest's sha256, ...) and the code version.
 */
import { distillVersion, gitCommit } from './provenance.ts';

/** What decides whether a recorded output is up to date. */
export interface OutputKey {
  /** sha256 of the resolved config (as JSON). */
  config: string;
  /** One fingerprint per input, by a name that says what it is; null for an input that is absent. */
  inputs: Record<string, string | null>;
  /** The code version: distill's version and the git commit (with -dirty for modified tracked files). */
  code: string;
}

/** The running code's version as an {@link OutputKey} records it. */
export function codeVersion(): string {
  return `distill ${distillVersion()} ${gitCommit() ?? '(no git checkout)'}`;
}

const short = (v: string | null | undefined): string => (v === null || v === undefined ? 'none' : v.length > 16 ? `${v.slice(0, 16)}…` : v);

/**
 * What differs between a recorded key and the current one, one line per difference (empty when the
 * output is up to date). A missing recorded key (an output from before keys were recorded) differs.
 */
export function outputKeyDifferences(recorded: OutputKey | undefined, now: OutputKey): string[] {
  if (!recorded) return ['the output records no config/inputs/code key (written by an older version)'];
  const out: string[] = [];
  if (recorded.config !== now.config) out.push(`the resolved config changed (sha256 ${short(recorded.config)} -> ${short(now.config)})`);
  for (const name of [...new Set([...Object.keys(recorded.inputs), ...Object.keys(now.inputs)])].sort()) {
    const a = recorded.inputs[name];
    const b = now.inputs[name];
    if (a !== b) out.push(`input ${name} changed (${short(a)} -> ${short(b)})`);
  }
  if (recorded.code !== now.code) out.push(`the code changed (${recorded.code} -> ${now.code})`);
  return out;
}
