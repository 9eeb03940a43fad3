import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';

/**
 * An `onSpawn` for runCli: SIGKILLs the capture as soon as `dir` holds a completed shard (its
 * `.parquet.json` part record, not a temp file), polling every 5 ms, so a resume test starts from a
 * store with some but not all shards.
 */
export function killAtFirstShard(dir: string): (child: ChildProcess) => void {
  return (child) => {
    const poll = setInterval(() => {
      void readdir(dir).then((f) => f.some((x) => x.endsWith('.parquet.json') && !x.startsWith('.')) && child.kill('SIGKILL'), () => undefined);
    }, 5);
    child.on('close', () => clearInterval(poll));
  };
}
