import { DistillError } from '../pipeline/errors.ts';

/** The process exit code for an error: the DistillError's own, else 1. */
export function exitCodeOf(err: unknown): number {
  return err instanceof DistillError ? err.exitCode : 1;
}

/** One clear line (or block) for the user; the stack only when verbose. */
export function formatError(err: unknown, verbose: boolean): string {
  if (err instanceof DistillError) {
    const head = `error: ${err.message}`;
    return verbose && err.stack ? `${head}\n${err.stack}` : head;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return verbose ? `internal error: ${e.stack ?? e.message}` : `internal error: ${e.message} (run with --verbose for the stack trace)`;
}
