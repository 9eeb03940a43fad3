import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../pipeline/provenance.ts';

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  /** The signal that ended the process, if one did (e.g. SIGKILL from a test). */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment without the variables through which a batch engine names a sharded worker
 * (docs/scale-out.md): tests that run inside a Kubernetes Indexed Job or a Slurm array must not turn
 * every `distill teacher-logits` they start into a worker. Tests pass them explicitly in `env`.
 */
function hermetic(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'JOB_COMPLETION_INDEX' && k !== 'DISTILL_NUM_SHARDS' && !k.startsWith('SLURM_ARRAY_')));
}

/**
 * Runs the real `distill` CLI (bin/distill.js) in `cwd` with JSON logs. `onSpawn` gets the
 * child process (e.g. to kill it midway).
 */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (child: ChildProcess) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin/distill.js'), ...args], {
      cwd: opts.cwd ?? projectRoot,
      env: { ...hermetic(process.env), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 300_000,
    });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Parses JSON log lines from stdout. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
