import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { LockError } from '../errors.ts';

/** A held lock; release it in a finally block. */
export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock: a lock file created with O_EXCL holding the owner's pid and host. A lock
 * left by a dead process on this host is taken over; a live owner, or an owner on another host
 * (shared filesystems), makes this throw a LockError naming it. `what` is the thing being locked,
 * named in the error.
 */
export async function acquireLock(path: string, what: string, purpose: string): Promise<DirLock> {
  await mkdir(dirname(path), { recursive: true });
  const me = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify(me) + '\n');
      await handle.sync();
      await handle.close();
      return { path, release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: { pid?: number; host?: string; purpose?: string; since?: string } = {};
      try {
        owner = JSON.parse(await readFile(path, 'utf8')) as typeof owner;
      } catch {
        // Unreadable lock file (crashed mid-write): treat as stale below.
      }
      const stale = owner.host === undefined || (owner.host === me.host && !processAlive(owner.pid ?? -1));
      if (!stale) {
        throw new LockError(
          `${what} is locked by another writer (pid ${owner.pid} on ${owner.host}, ${owner.purpose ?? '?'} since ${owner.since ?? '?'}); ` +
            `wait for it to finish, or remove ${path} if that process is gone`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new LockError(`could not take the lock ${path}`);
}

/** Locks an output directory through `<dir>/.lock`; see {@link acquireLock}. */
export function lockDir(dir: string, purpose: string): Promise<DirLock> {
  return acquireLock(join(dir, '.lock'), dir, purpose);
}
