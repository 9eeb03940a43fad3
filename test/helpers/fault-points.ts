/**
 * Deterministic crash trials (test/integration/fault-points.test.ts): the real CLI runs with
 * DISTILL_FAULT_POINT set (pipeline/io/fault-point.ts), so it stops itself (SIGSTOP) right before or
 * right after a named file is renamed into place; the test watches the file system, and once the
 * file (or its temporary file) is there and the process is stopped, ends it with SIGKILL. What the
 * kill left is then described by {@link describeOutputs}, for the tally and the assertions.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { VERIFIED_STAT_FILE } from '../../pipeline/dataset/verified-stat.ts';
import { FAULT_POINT_ENV } from '../../pipeline/io/fault-point.ts';
import type { FaultPhase } from '../../pipeline/io/fault-point.ts';
import { projectRoot } from '../../pipeline/provenance.ts';

/** A point in a stage's writes: before `file` is renamed into place (only its temp file exists), or after. */
export interface FaultPointSpec {
  phase: FaultPhase;
  /** The end of the written path, at a `/` boundary (e.g. `train/part-00001.parquet`). */
  file: string;
}

/** How a run that was meant to be killed at a fault point ended. */
export interface FaultRun {
  /** True when the process stopped at the point and was killed there. */
  killed: boolean;
  /** The exit code when it was not killed (the point was never reached). */
  code: number | null;
  /** The written file (or temporary file) the watcher found, relative to `cwd`. */
  found: string | null;
  stderr: string;
}

/** Every file under `dir` (relative paths), directory locks and the dataset's verified-stat cache left out. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith('.lock') && e.name !== VERIFIED_STAT_FILE)
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Whether a file name is an atomic write's temporary file (`.<name>.tmp-<pid>-<hex>`). */
export const isTempFile = (path: string): boolean => /^\..+\.tmp-\d+-[0-9a-f]+$/.test(basename(path));

/** The file of `point` under `cwd`, as `pid` writes it: the final file (after) or its temp file (before). */
async function written(cwd: string, point: FaultPointSpec, pid: number): Promise<string | null> {
  const files = await filesUnder(cwd);
  if (point.phase === 'after') return files.find((f) => f === point.file || f.endsWith(`/${point.file}`)) ?? null;
  const prefix = `.${basename(point.file)}.tmp-${pid}-`;
  const dir = dirname(point.file);
  return files.find((f) => basename(f).startsWith(prefix) && (dir === '.' || dirname(f) === dir || dirname(f).endsWith(`/${dir}`))) ?? null;
}

/** Whether process `pid` is stopped (state T in /proc/<pid>/stat). */
async function stopped(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return / T /.test(stat.slice(stat.lastIndexOf(')')));
}

/**
 * Runs `distill args` in `cwd` with the fault point set, polls every 5 ms, and SIGKILLs the process
 * once it is stopped and the point's file is on disk. A run that never reaches the point ends by
 * itself (killed false); one that hangs is killed after `timeoutMs` and reported as not killed.
 */
export function runToFaultPoint(args: string[], cwd: string, point: FaultPointSpec, timeoutMs = 120_000): Promise<FaultRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, [FAULT_POINT_ENV]: `${point.phase}:${point.file}` };
    const child = spawn(process.execPath, [join(projectRoot, 'bin/distill.js'), ...args, '--log-format', 'json'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let found: string | null = null;
    let busy = false;
    const poll = setInterval(() => {
      if (busy || found !== null) return;
      busy = true;
      void (async () => {
        if (child.pid !== undefined && (await stopped(child.pid))) {
          found = await written(cwd, point, child.pid);
          if (found !== null) child.kill('SIGKILL');
        }
      })().finally(() => (busy = false));
    }, 5);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      const killed = signal === 'SIGKILL' && found !== null;
      resolve({ killed, code, found, stderr: killed ? stderr : `${stderr}${signal ? ` (ended by ${signal}, the fault point's file not found)` : ''}` });
    });
  });
}

/** The kinds of files a stage writes, in the order a reader wants them named, and the file that marks it complete. */
export interface OutputLayout {
  /** [label, pattern of relative paths]; a label is shown with its count when the count is not 1. */
  kinds: [string, RegExp][];
  /** The label and relative path of the file whose presence means a complete output. */
  complete: [string, string];
}

/**
 * What a killed stage left under `dir`, in words: "nothing written", "temp files only (n)", "<complete
 * label> written (complete)", or the kinds present ("shards 2, part records 2, temp files 1") followed
 * by "no <complete label>". A file of no known kind is named, so an unexpected state shows.
 */
export async function describeOutputs(dir: string, layout: OutputLayout): Promise<string> {
  const files = await filesUnder(dir);
  const finals = files.filter((f) => !isTempFile(f));
  const temps = files.length - finals.length;
  if (files.length === 0) return 'nothing written';
  if (finals.length === 0) return `temp files only (${temps})`;
  const [doneLabel, doneFile] = layout.complete;
  if (finals.includes(doneFile)) return `${doneLabel} written (complete)`;
  const parts: string[] = [];
  for (const [label, pattern] of layout.kinds) {
    const n = finals.filter((f) => pattern.test(f)).length;
    if (n > 0) parts.push(n === 1 ? label : `${label} ${n}`);
  }
  const other = finals.filter((f) => !layout.kinds.some(([, p]) => p.test(f)));
  if (other.length > 0) parts.push(`other: ${other.join(', ')}`);
  if (temps > 0) parts.push(`temp files ${temps}`);
  return `${parts.join(', ')}; no ${doneLabel}`;
}

/** A soft-target store's files (teacher-logits, its workers, finalize). */
export const STORE_LAYOUT: OutputLayout = {
  kinds: [
    ['shards', /^[^/]+\/part-\d+\.(parquet|arrow)$/],
    ['part records', /^[^/]+\/part-\d+\.(parquet|arrow)\.json$/],
    ['part manifests', /^parts\/worker-\d+-of-\d+\.json$/],
    ['config.resolved.json', /^config\.resolved\.json$/],
  ],
  complete: ['manifest', 'manifest.json'],
};

/** A student run's files (train-student). */
export const RUN_LAYOUT: OutputLayout = {
  kinds: [
    ['config.resolved.json', /^config\.resolved\.json$/],
    ['metrics.jsonl', /^metrics\.jsonl$/],
    ['checkpoint', /^checkpoints\/epoch-\d+\.json$/],
    ['checkpoint bin', /^checkpoints\/epoch-\d+\.bin$/],
    ['weights.bin', /^weights\.bin$/],
    ['model.json', /^model\.json$/],
  ],
  complete: ['run manifest', 'run-manifest.json'],
};
