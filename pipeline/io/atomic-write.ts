import { randomBytes } from 'node:crypto';
import { open, rename, rm, mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { WriteError } from '../errors.ts';
import { faultPoint } from './fault-point.ts';

/** The WriteError for a failed write of `path`: names the file and the system's reason. */
function writeError(path: string, err: unknown): WriteError {
  const e = err as NodeJS.ErrnoException;
  const reason = e.code === 'ENOSPC' ? 'ENOSPC: no space left on device' : (e.code ?? e.message);
  return new WriteError(`${path}: cannot write (${reason}); nothing was written under this name and an existing file is unchanged`, { cause: err });
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory, fsync, rename over
 * the target, fsync of the directory. A reader sees either the old complete file or the new one,
 * never a half-written file under the final name; a crash leaves at most a `.tmp-*` file behind.
 * A failure (a full disk: ENOSPC) removes the temporary file and throws a WriteError naming `path`.
 */
export async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    faultPoint('before', path);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw writeError(path, err);
  }
  await fsyncDir(dir);
  faultPoint('after', path);
}

/** Writes JSON (2-space indent, trailing newline) atomically. */
export async function atomicWriteJson(path: string, value: unknown): Promise<void> {
  await atomicWrite(path, JSON.stringify(value, null, 2) + '\n');
}

/** fsyncs a directory so that a rename inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
