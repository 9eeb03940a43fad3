import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DataError } from '../errors.ts';
import { acquireLock } from '../io/dir-lock.ts';
import { pathExists } from '../io/path-exists.ts';
import type { Reporter } from '../reporter.ts';
import { readDatasetManifest } from './dataset-manifest.ts';
import type { DatasetManifest } from './dataset-manifest.ts';
import { checkDatasetFiles } from './verify-dataset.ts';

/** What publishDataset did. */
export interface PublishResult {
  manifest: DatasetManifest;
  /** False when `out` already held this exact dataset and nothing was written. */
  changed: boolean;
}

/** How a dataset is built and put in place. */
export interface PublishOptions {
  /** Output dataset directory. */
  out: string;
  /** Provenance recorded as manifest.source by `build`; equal sources mean equal datasets. */
  source: Record<string, unknown>;
  /** Replace a different or damaged dataset at `out`. */
  force?: boolean;
  /** Command named in the lock file, e.g. `distill data text`. */
  purpose: string;
}

/**
 * Builds a dataset in a staging folder and moves it into place: `out` is either absent, the old
 * dataset, or the new complete one (never half-written). Idempotent: when `out` already holds a
 * dataset with the same `source` whose files all match their sha256, nothing is built or written.
 * A different dataset (or any other folder) at `out` is left untouched unless `force`. `build`
 * writes the dataset into the staging folder and returns its manifest (whose source must be `source`).
 *
 * @example
 * await publishDataset({ out, source, purpose: 'distill data text' }, (staging) => writeTokenDataset(staging, spec, reporter), reporter);
 */
export async function publishDataset(opts: PublishOptions, build: (staging: string) => Promise<DatasetManifest>, reporter: Reporter): Promise<PublishResult> {
  await mkdir(dirname(opts.out), { recursive: true });
  const lock = await acquireLock(`${opts.out}.lock`, opts.out, opts.purpose);
  try {
    await removeStaleBuilds(opts.out, reporter);
    const current = await upToDate(opts, reporter);
    if (current) return { manifest: current, changed: false };
    const staging = `${opts.out}.staging-${process.pid}`;
    try {
      await rm(staging, { recursive: true, force: true });
      const manifest = await build(staging);
      const old = `${opts.out}.old-${process.pid}`;
      const hadOld = await pathExists(opts.out);
      if (hadOld) await rename(opts.out, old);
      await rename(staging, opts.out);
      if (hadOld) await rm(old, { recursive: true, force: true });
      return { manifest, changed: true };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  } finally {
    await lock.release();
  }
}

/**
 * Removes what a killed build of `out` left next to it (the caller holds `out`'s lock, so no build of
 * it is running): `<out>.staging-<pid>` folders, and `<out>.old-<pid>` (a previous dataset being
 * replaced when the build was killed; kept instead when `out` itself is missing, as it is then the
 * only copy: reported, for the user to move back or delete).
 */
async function removeStaleBuilds(out: string, reporter: Reporter): Promise<void> {
  const name = basename(out);
  const outExists = await pathExists(out);
  for (const entry of await readdir(dirname(out))) {
    const kind = entry.startsWith(`${name}.`) ? /^(staging|old)-\d+$/.exec(entry.slice(name.length + 1))?.[1] : undefined;
    if (kind === undefined) continue;
    if (kind === 'old' && !outExists) {
      reporter.warn(`${join(dirname(out), entry)} is the dataset that a killed build of ${out} was replacing; it is kept (move it back to ${out}, or delete it)`);
      continue;
    }
    await rm(join(dirname(out), entry), { recursive: true, force: true });
  }
}

/** The manifest at `out` when it is this exact, intact dataset; null when a build should go ahead; throws when `out` must be left alone. */
async function upToDate(opts: PublishOptions, reporter: Reporter): Promise<DatasetManifest | null> {
  if (await pathExists(join(opts.out, 'manifest.json'))) {
    const current = await readDatasetManifest(opts.out).catch(() => null);
    const sameSource = current !== null && JSON.stringify(current.source) === JSON.stringify(opts.source);
    const intact = current !== null && (await checkDatasetFiles(opts.out, current)).length === 0;
    if (sameSource && intact && !opts.force) {
      reporter.info(`${opts.out} is up to date (same inputs and options, every file matches its sha256); nothing changed`);
      return current;
    }
    if (!opts.force) {
      throw new DataError(
        `${opts.out} already holds ${sameSource ? 'a dataset whose files no longer match its manifest' : 'a different dataset (other inputs or options)'}; ` +
          'it was left untouched. Re-run with --force to replace it, or choose another --out',
      );
    }
  } else if ((await pathExists(opts.out)) && !opts.force) {
    throw new DataError(`${opts.out} exists but is not a dataset (no manifest.json); left untouched. Use --force to replace it, or another --out`);
  }
  return null;
}
