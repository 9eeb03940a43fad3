import { access } from 'node:fs/promises';

/** Whether something exists at `path` (any kind, readable or not). */
export async function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
