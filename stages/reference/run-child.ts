import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DistillError } from '../../pipeline/errors.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import type { Reporter } from '../../pipeline/reporter.ts';

/**
 * Runs one `distill` command as a child process (JSON logs), relaying its warnings and final
 * messages through `reporter` prefixed with `label`. Resolves when it exits 0; otherwise rejects with
 * a DistillError quoting the end of its stderr.
 */
export function runDistillChild(args: readonly string[], cwd: string, label: string, reporter: Reporter): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin/distill.js'), ...args, '--log-format', 'json'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        let event: { level?: string; msg?: string; final?: boolean };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          continue;
        }
        if (event.level === 'warn') reporter.warn(`${label}: ${event.msg}`);
        else if (event.level === 'info' || (event.level === 'progress' && event.final)) reporter.info(`${label}: ${event.msg}`);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new DistillError(`${label}: \`distill ${args.join(' ')}\` exited with ${code}:\n${stderr.trim()}`));
    });
  });
}
