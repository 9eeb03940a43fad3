/** Locks: O_EXCL ownership, takeover of dead owners, and the heartbeat that worker locks use across hosts. */
import assert from 'node:assert/strict';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock, liveLockOwner } from '../../../../pipeline/io/dir-lock.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

test('a lock of another host is live forever by default, and stale after staleAfterMs without a heartbeat', async () => {
  const dir = await tmpDir('distill-lock-');
  const path = join(dir, 'worker-0-of-2.lock');
  await writeFile(path, JSON.stringify({ pid: 1, host: 'node-7.cluster', purpose: 'worker', since: 'earlier' }));
  const old = new Date(Date.now() - 10 * 60_000);
  await utimes(path, old, old);
  assert.deepEqual(await liveLockOwner(path), { pid: 1, host: 'node-7.cluster', purpose: 'worker', since: 'earlier' });
  await assert.rejects(acquireLock(path, 'the store worker 0 of 2', 'test'), { name: 'LockError', message: /the store worker 0 of 2 is locked by another writer \(pid 1 on node-7\.cluster, worker since earlier\)/ });
  await assert.rejects(acquireLock(path, 'w', 'test', { staleAfterMs: 20 * 60_000 }), { name: 'LockError' });
  const lock = await acquireLock(path, 'w', 'taking over', { staleAfterMs: 5 * 60_000 });
  const mine = JSON.parse(await readFile(path, 'utf8')) as { pid: number; host: string; purpose: string };
  assert.deepEqual([mine.pid, mine.host, mine.purpose], [process.pid, hostname(), 'taking over']);
  await lock.release();
  assert.equal(await liveLockOwner(path), null);
});

test('the heartbeat refreshes the lock file while held; a dead owner on this host is stale', async () => {
  const dir = await tmpDir('distill-lock-');
  const path = join(dir, 'a.lock');
  const lock = await acquireLock(path, 'a', 'test', { heartbeatMs: 20 });
  const old = new Date(Date.now() - 60_000);
  await utimes(path, old, old);
  await sleep(120);
  assert.ok(Date.now() - (await stat(path)).mtimeMs < 1000, 'mtime refreshed by the heartbeat');
  assert.equal((await liveLockOwner(path))?.pid, process.pid);
  await lock.release();
  await writeFile(path, JSON.stringify({ pid: 2 ** 22 + 4321, host: hostname(), purpose: 'dead' }));
  assert.equal(await liveLockOwner(path), null, 'no such process on this host');
});
