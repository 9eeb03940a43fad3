import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The final name of an atomic write's temporary file (`.<name>.tmp-<pid>-<hex>`, atomic-write.ts), or null. */
export function tempFileTarget(fileName: string): string | null {
  return /^\.(.+)\.tmp-\d+-[0-9a-f]+$/.exec(fileName)?.[1] ?? null;
}

/**
 * Removes the temporary files that interrupted atomic writes left directly in `dir` (not below it),
 * those whose final name `owned` accepts (default: all); returns the names removed. Only a writer that
 * holds the lock over those names may call it: another live writer's temporary file would go too. A
 * missing `dir` removes nothing.
 *
 * @example
 * await removeTempFiles(join(runDir, 'checkpoints')); // under the run's lock
 */
export async function removeTempFiles(dir: string, owned: (finalName: string) => boolean = () => true): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => {
    const target = tempFileTarget(n);
    return target !== null && owned(target);
  });
  for (const n of stale) await rm(join(dir, n), { force: true });
  return stale;
}
