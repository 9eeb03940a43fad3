import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The project's root directory (where package.json lives), from the sources or from their build in dist/. */
export const projectRoot = rootAbove(dirname(fileURLToPath(import.meta.url)));

/** The nearest directory at or above `dir` that holds package.json (pipeline/.. or dist/pipeline/../..). */
function rootAbove(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return join(dir, '..');
  }
}

/** The version of an installed package, read from its package.json without importing it; null if absent. */
export function packageVersion(name: string): string | null {
  try {
    const main = require.resolve(name);
    let dir = dirname(main);
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? null;
      } catch {
        // keep walking up
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return null;
}

/** This project's own version. */
export function distillVersion(): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The two git calls behind {@link gitCommit}: the checked-out commit, and the modified tracked files. */
const GIT_HEAD = ['rev-parse', 'HEAD'];
const GIT_STATUS = ['status', '--porcelain', '--untracked-files=no'];

/** `head`, with `-dirty` when `status` (GIT_STATUS's output) lists modified tracked files. */
function commitOf(head: string, status: string): string {
  return status.trim() !== '' ? `${head.trim()}-dirty` : head.trim();
}

/** The git commit of the project checkout, with `-dirty` when tracked files are modified; null outside git. */
export function gitCommit(): string | null {
  try {
    const opts = { cwd: projectRoot, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    return commitOf(execFileSync('git', GIT_HEAD, opts).toString(), execFileSync('git', GIT_STATUS, opts).toString());
  } catch {
    return null;
  }
}

/** What every manifest records about the software that produced it. */
export interface SoftwareProvenance {
  distill: string;
  node: string;
  platform: string;
  gitCommit: string | null;
  /**
   * The CPU model (first core as the OS reports it) and the core count, e.g. "AMD EPYC 7B13 x2":
   * float kernels may pick other code paths on another CPU, so `distill reproduce` expects
   * byte-identical outputs only on the same one. Absent in manifests written before it was recorded.
   */
  cpu?: string;
}

/** Collects {@link SoftwareProvenance} for the running process. */
export function softwareProvenance(): SoftwareProvenance {
  return provenanceWith(gitCommit());
}

/**
 * {@link softwareProvenance} with the two git calls run as child processes while the caller goes on:
 * a stage starts it first and awaits it when it writes its manifest. A synchronous spawn from a
 * process already holding a dataset cost ~0.12 s of blocked main thread (docs/benchmarks.md).
 */
export async function softwareProvenanceAsync(): Promise<SoftwareProvenance> {
  const git = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => execFile('git', args, { cwd: projectRoot }, (err, out) => (err ? reject(err) : resolve(out))));
  const commit = await Promise.all([git(GIT_HEAD), git(GIT_STATUS)]).then(([head, status]) => commitOf(head, status), () => null);
  return provenanceWith(commit);
}

function provenanceWith(commit: string | null): SoftwareProvenance {
  return {
    distill: distillVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gitCommit: commit,
    cpu: `${cpus()[0]?.model.trim() ?? 'unknown'} x${cpus().length}`,
  };
}
