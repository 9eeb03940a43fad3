import { open, rm, mkdir, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { LockError } from '../errors.ts';
import { readJsonFile } from './read-json.ts';

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

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /**
   * Refresh the lock file's mtime every this many ms while held (a heartbeat), so that other hosts can
   * tell a live owner from a dead one. Default 0: no heartbeat.
   */
  heartbeatMs?: number;
  /**
   * A lock owned by another host whose mtime is older than this many ms is stale and taken over
   * (its owner stopped heart-beating: the pod or node died). Default Infinity: a lock of another
   * host is never taken over. Use with a heartbeat several times shorter (clock skew between hosts
   * eats into the margin).
   */
  staleAfterMs?: number;
}

/** Who holds a lock, as written in its file. */
export interface LockOwner {
  pid?: number;
  host?: string;
  purpose?: string;
  since?: string;
}

/**
 * The live owner of the lock file at `path`, or null when there is none or it is stale: a lock left
 * by a dead process on this host, an unreadable lock file, or (with `staleAfterMs`) a lock of another
 * host whose mtime is older than that.
 */
export async function liveLockOwner(path: string, staleAfterMs = Infinity): Promise<LockOwner | null> {
  let owner: LockOwner = {};
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
  const read = await readJsonFile(path);
  if (!read.ok) return null; // Unreadable lock file (crashed mid-write): stale.
  owner = (read.value as LockOwner | null) ?? {};
  if (owner.host === undefined) return null;
  if (owner.host === hostname()) return processAlive(owner.pid ?? -1) ? owner : null;
  return Date.now() - mtimeMs > staleAfterMs ? null : owner;
}

/**
 * Takes an exclusive lock: a lock file created with O_EXCL holding the owner's pid and host. A lock
 * left by a dead process on this host is taken over; a live owner, or an owner on another host
 * (shared filesystems) that is not stale by `opts.staleAfterMs`, makes this throw a LockError naming
 * it. `what` is the thing being locked, named in the error.
 */
export async function acquireLock(path: string, what: string, purpose: string, opts: LockOptions = {}): Promise<DirLock> {
  await mkdir(dirname(path), { recursive: true });
  const me = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify(me) + '\n');
      await handle.sync();
      await handle.close();
      const beat = opts.heartbeatMs
        ? setInterval(() => {
            const now = new Date();
            utimes(path, now, now).catch(() => undefined);
          }, opts.heartbeatMs)
        : null;
      beat?.unref();
      return {
        path,
        release: () => {
          if (beat) clearInterval(beat);
          return rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = await liveLockOwner(path, opts.staleAfterMs);
      if (owner) throw lockedError(what, path, owner);
      await rm(path, { force: true });
    }
  }
  throw new LockError(`could not take the lock ${path}`);
}

/** The LockError for a lock held by `owner`. */
export function lockedError(what: string, path: string, owner: LockOwner): LockError {
  return new LockError(
    `${what} is locked by another writer (pid ${owner.pid} on ${owner.host}, ${owner.purpose ?? '?'} since ${owner.since ?? '?'}); ` +
      `wait for it to finish, or remove ${path} if that process is gone`,
  );
}

/** Locks an output directory through `<dir>/.lock`; see {@link acquireLock}. */
export function lockDir(dir: string, purpose: string): Promise<DirLock> {
  return acquireLock(join(dir, '.lock'), dir, purpose);
}
