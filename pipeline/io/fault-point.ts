/**
 * Deterministic fault points for the crash tests (test/integration/crash-resume.test.ts,
 * docs/reliability.md). With `DISTILL_FAULT_POINT=<phase>:<file>` in the environment, the process
 * stops itself (SIGSTOP) at one named point of {@link atomicWrite}, so that the test watching the
 * file system finds it frozen in exactly that state and ends it with SIGKILL:
 *
 * - `before:<file>`: the temporary file of `<file>` is written and fsynced, not yet renamed (a crash
 *   that leaves only a `.tmp-*` file behind);
 * - `after:<file>`: `<file>` is in place under its final name (and its folder fsynced).
 *
 * `<file>` matches the end of the written path at a `/` boundary (`train/part-00001.parquet` matches
 * `<store>/train/part-00001.parquet`, not `part-00001.parquet.json`). Unset (always, outside these
 * tests), it costs one comparison per write. A stopped process is not a crash by itself: only the
 * test that set the variable, and watches for the file, ends it.
 *
 * [atomicWrite]: ./atomic-write.ts
 */

/** Where in a write a fault point stops the process. */
export type FaultPhase = 'before' | 'after';

/** The environment variable that names the fault point. */
export const FAULT_POINT_ENV = 'DISTILL_FAULT_POINT';

/** Whether the fault point `spec` (`<phase>:<file>`) names this phase of writing `path`. */
export function faultPointMatches(spec: string | undefined, phase: FaultPhase, path: string): boolean {
  if (spec === undefined || spec === '' || !spec.startsWith(`${phase}:`)) return false;
  const file = spec.slice(phase.length + 1);
  return file !== '' && (path === file || path.endsWith(`/${file}`));
}

/** Stops this process (SIGSTOP) when DISTILL_FAULT_POINT names this phase of writing `path`. */
export function faultPoint(phase: FaultPhase, path: string): void {
  if (faultPointMatches(process.env[FAULT_POINT_ENV], phase, path)) process.kill(process.pid, 'SIGSTOP');
}
