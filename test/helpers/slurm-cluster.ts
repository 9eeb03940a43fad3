/**
 * A real single-node Slurm cluster on this machine for `make test-slurm` (docs/scale-out.md): munged,
 * slurmctld and slurmd from Debian's `munge` and `slurm-wlm` packages, run as root in the foreground
 * as children of the test, with a key, config, state and logs in a fresh temporary directory.
 * Loopback only, on free ports, so it never meets another cluster's daemons.
 *
 * The plugins are the ones that work inside a container without a writable cgroup hierarchy:
 * proctrack/linuxproc (jobs are tracked through /proc parentage), task/none, no accounting. The node
 * declares `cpus` CPUs and `memoryMb` of memory whatever the hardware has (SlurmdParameters=
 * config_overrides), so the examples' resource requests fit on a small machine.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathExists } from '../../pipeline/io/path-exists.ts';

const run = promisify(execFile);

/** Where the cluster lives and how to talk to it. */
export interface SlurmCluster {
  /** The temporary directory with slurm.conf, the munge key, state, spool and logs. */
  dir: string;
  /** The environment for client commands (sbatch, squeue, scontrol): SLURM_CONF points at this cluster. */
  env: NodeJS.ProcessEnv;
  /** The node's name in slurm.conf. */
  node: string;
  /** Runs a Slurm client command against this cluster; resolves to its stdout. */
  client(cmd: string, args: string[]): Promise<string>;
  /** The last lines of the daemons' logs (for failure messages). */
  logs(lines?: number): Promise<string>;
  /** Cancels every job, then stops slurmd, slurmctld and munged; idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startSlurmCluster}. */
export interface SlurmClusterOptions {
  /** CPUs the node declares (default 12). */
  cpus?: number;
  /** Memory the node declares, MiB (default 16384). */
  memoryMb?: number;
  /** Job credential lifetime, s: also the wait before a requeued job starts again (Slurm's default 120; here 30). */
  credExpireS?: number;
  /** How long to wait for each daemon to come up, ms (default 30000). */
  startTimeoutMs?: number;
}

const BINARIES = ['mungekey', 'munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'];

/** Throws unless the Slurm and munge binaries are installed and this process is root. */
async function checkPrerequisites(): Promise<void> {
  const missing: string[] = [];
  for (const b of BINARIES) if (!(await pathExists(`/usr/sbin/${b}`)) && !(await pathExists(`/usr/bin/${b}`))) missing.push(b);
  if (missing.length > 0) throw new Error(`Slurm test cluster: ${missing.join(', ')} not installed; run \`make test-slurm\` (it installs Debian's slurm-wlm and munge)`);
  if (process.getuid?.() !== 0) throw new Error('Slurm test cluster: the daemons run as root (SlurmUser=root); run the test as root');
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port from the OS');
  return address.port;
}

/** Polls `probe` every 200 ms until it resolves true; throws `what` after `timeoutMs`. */
async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Slurm test cluster: ${what} within ${timeoutMs} ms`);
}

/** slurm.conf of a one-node cluster on loopback. */
function slurmConf(dir: string, host: string, node: string, ports: [number, number], cpus: number, memoryMb: number, credExpireS: number): string {
  return [
    'ClusterName=distill-test',
    `SlurmctldHost=${host}(127.0.0.1)`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `SlurmctldPort=${ports[0]}`,
    `SlurmdPort=${ports[1]}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    // cred_expire is also how long a requeued job waits before it may start again (default 120 s).
    `AuthInfo=socket=${dir}/run/munge.socket,cred_expire=${credExpireS}`,
    `StateSaveLocation=${dir}/state`,
    `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/run/slurmctld.pid`,
    `SlurmdPidFile=${dir}/run/slurmd.pid`,
    `SlurmctldLogFile=${dir}/log/slurmctld.log`,
    `SlurmdLogFile=${dir}/log/slurmd.log`,
    // No cgroup plugin: the container's cgroup hierarchy is not Slurm's to manage.
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none',
    'MpiDefault=none',
    'SwitchType=switch/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'SchedulerType=sched/backfill',
    'SlurmdParameters=config_overrides',
    'ReturnToService=2',
    // Keep finished jobs visible to scontrol long enough to read their states and times.
    'MinJobAge=900',
    `NodeName=${node} NodeHostname=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memoryMb} State=UNKNOWN`,
    `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

/**
 * Starts munged, slurmctld and slurmd and waits until the node is idle. Stop it with `stop()` (in an
 * `after` hook or `finally`); the daemons are also killed when this process exits.
 */
export async function startSlurmCluster(opts: SlurmClusterOptions = {}): Promise<SlurmCluster> {
  await checkPrerequisites();
  const timeout = opts.startTimeoutMs ?? 30_000;
  const dir = await mkdtemp('/tmp/distill-slurm-');
  // munged insists that every directory above its socket is searchable by all, and its key private.
  await chmod(dir, 0o755);
  for (const [sub, mode] of [['munge', 0o700], ['run', 0o755], ['state', 0o700], ['spool', 0o755], ['log', 0o755]] as const) {
    await mkdir(join(dir, sub));
    await chmod(join(dir, sub), mode);
  }
  const host = hostname().split('.')[0]!;
  const node = 'distill-node';
  const conf = join(dir, 'slurm.conf');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.on('exit', killAll);
  const daemon = async (cmd: string, args: string[]): Promise<void> => {
    const out = await open(join(dir, 'log', `${cmd}.out`), 'w');
    const child = spawn(cmd, args, { env, stdio: ['ignore', out.fd, out.fd] });
    await out.close();
    children.push(child);
    child.on('error', () => undefined);
  };
  const client = async (cmd: string, args: string[]): Promise<string> => (await run(cmd, args, { env, timeout: 30_000 })).stdout;
  const logs = async (lines = 40): Promise<string> => {
    const parts: string[] = [];
    for (const f of ['log/munged.out', 'munge/munged.log', 'log/slurmctld.log', 'log/slurmd.log']) {
      const text = await readFile(join(dir, f), 'utf8').catch(() => '(none)');
      parts.push(`== ${f}\n${text.split('\n').slice(-lines).join('\n')}`);
    }
    return parts.join('\n');
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Jobs first: their processes (slurmstepd and below) would outlive slurmd.
    await client('scancel', ['--full', `--partition=test`]).catch(() => '');
    await waitFor('jobs gone after scancel', 20_000, async () => (await client('squeue', ['-h', '-t', 'all', '-o', '%T'])).split('\n').every((s) => !/RUNNING|COMPLETING|PENDING|CONFIGURING/.test(s))).catch(() => undefined);
    for (const c of [...children].reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    process.off('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await run('mungekey', ['--create', `--keyfile=${dir}/munge/munge.key`]);
    await daemon('munged', ['--foreground', `--socket=${dir}/run/munge.socket`, `--key-file=${dir}/munge/munge.key`, `--pid-file=${dir}/run/munged.pid`, `--log-file=${dir}/munge/munged.log`, `--seed-file=${dir}/munge/munge.seed`]);
    await waitFor('munged did not create its socket', timeout, () => pathExists(join(dir, 'run/munge.socket')));
    await writeFile(conf, slurmConf(dir, host, node, [await freePort(), await freePort()], opts.cpus ?? 12, opts.memoryMb ?? 16384, opts.credExpireS ?? 30));
    await daemon('slurmctld', ['-D', '-f', conf]);
    await waitFor('slurmctld did not answer `scontrol ping`', timeout, async () => /is UP/.test(await client('scontrol', ['ping'])));
    await daemon('slurmd', ['-D', '-N', node, '-f', conf]);
    await waitFor(`node ${node} did not become idle`, timeout, async () => (await client('sinfo', ['-h', '-N', '-n', node, '-o', '%T'])).trim() === 'idle');
  } catch (err) {
    const text = await logs();
    await stop();
    throw new Error(`${(err as Error).message}\n${text}`);
  }
  return { dir, env, node, client, logs, stop };
}

/** One job (or array task) as `scontrol show job -o` reports it. */
export interface JobRecord {
  jobId: string;
  /** Set for array tasks. */
  arrayJobId?: string;
  /** The task index, or a range while tasks are still pending together. */
  arrayTaskId?: string;
  state: string;
  reason: string;
  exitCode: string;
  /** Slurm's local time, `YYYY-MM-DDTHH:MM:SS` (UTC on this machine), or `Unknown`/`None`. */
  startTime: string;
  endTime: string;
  dependency: string;
}

/** The records of jobs `ids` (every task of an array job id), from `scontrol show job -o`. */
export async function jobRecords(cluster: SlurmCluster, ids: string[]): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for (const id of ids) {
    for (const line of (await cluster.client('scontrol', ['show', 'job', '-o', id])).split('\n').filter((l) => l.trim() !== '')) {
      const field = (k: string): string | undefined => new RegExp(`(?:^| )${k}=(\\S*)`).exec(line)?.[1];
      out.push({
        jobId: field('JobId') ?? '',
        arrayJobId: field('ArrayJobId'),
        arrayTaskId: field('ArrayTaskId'),
        state: field('JobState') ?? '',
        reason: field('Reason') ?? '',
        exitCode: field('ExitCode') ?? '',
        startTime: field('StartTime') ?? '',
        endTime: field('EndTime') ?? '',
        dependency: field('Dependency') ?? '',
      });
    }
  }
  return out;
}

/** True while a job can still change state by itself (a dependency that can never be met cannot). */
function active(j: JobRecord): boolean {
  return /PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED/.test(j.state) && j.reason !== 'DependencyNeverSatisfied';
}

/** Polls jobs `ids` every second until none is active; throws after `timeoutMs`, naming the active ones. */
export async function waitForJobs(cluster: SlurmCluster, ids: string[], timeoutMs: number): Promise<JobRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await jobRecords(cluster, ids);
    const running = jobs.filter(active);
    if (running.length === 0) return jobs;
    if (Date.now() > deadline) throw new Error(`Slurm jobs still active after ${timeoutMs} ms: ${JSON.stringify(running)}\n${await cluster.logs()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
