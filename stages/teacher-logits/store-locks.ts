/**
 * Who may write a soft-target store at once. A single writer (`distill teacher-logits` without
 * workers, `distill finalize`) holds `<store>/.lock` and excludes everyone. Workers of a sharded run
 * each hold their own `<store>/parts/worker-<i>-of-<N>.lock`, so they never block each other; they
 * are excluded by a single writer, and a single writer by any live worker.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LockError } from '../../pipeline/errors.ts';
import { acquireLock, liveLockOwner, lockDir, lockedError } from '../../pipeline/io/dir-lock.ts';
import type { DirLock } from '../../pipeline/io/dir-lock.ts';
import { PARTS_DIR, workerLockPath } from './part-manifest.ts';

/** Worker locks are refreshed this often (ms), so that other hosts see them alive. */
export const WORKER_HEARTBEAT_MS = 15_000;

/**
 * A worker lock of another host not refreshed for this long (ms) is stale: its pod or node died
 * (a retried Kubernetes pod or requeued Slurm task runs on another host name). 8 heartbeats.
 */
export const WORKER_STALE_MS = 120_000;

/** Takes the single-writer lock `<store>/.lock`, then checks that no worker of a sharded run is live. */
export async function lockStoreWriter(storeDir: string, purpose: string): Promise<DirLock> {
  const lock = await lockDir(storeDir, purpose);
  try {
    let entries: string[] = [];
    try {
      entries = await readdir(join(storeDir, PARTS_DIR));
    } catch {
      // No parts folder: no workers.
    }
    for (const name of entries.filter((e) => e.endsWith('.lock')).sort()) {
      const path = join(storeDir, PARTS_DIR, name);
      const owner = await liveLockOwner(path, WORKER_STALE_MS);
      if (owner) throw lockedError(`${storeDir} (worker ${name.replace(/\.lock$/, '')})`, path, owner);
    }
    return lock;
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/**
 * Takes worker i of N's lock `<store>/parts/worker-<i>-of-<N>.lock` (with a heartbeat), then checks
 * that no single writer holds `<store>/.lock`. Two processes running the same worker index get a
 * LockError; different workers never wait for each other.
 */
export async function lockWorker(storeDir: string, worker: { index: number; count: number }, purpose: string): Promise<DirLock> {
  const lock = await acquireLock(join(storeDir, workerLockPath(worker)), `${storeDir} worker ${worker.index} of ${worker.count}`, purpose, {
    heartbeatMs: WORKER_HEARTBEAT_MS,
    staleAfterMs: WORKER_STALE_MS,
  });
  const single = await liveLockOwner(join(storeDir, '.lock'));
  if (single) {
    await lock.release();
    throw new LockError(
      `${storeDir} is locked by a single writer (pid ${single.pid} on ${single.host}, ${single.purpose ?? '?'} since ${single.since ?? '?'}); ` +
        `workers cannot run beside it: wait for it to finish, or remove ${join(storeDir, '.lock')} if that process is gone`,
    );
  }
  return lock;
}
