import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError } from '../errors.ts';
import { sha256File } from '../io/sha256.ts';
import type { DatasetManifest } from './dataset-manifest.ts';
import { fingerprintColumns } from './dataset-manifest.ts';
import { readDatasetFile } from './read-dataset-file.ts';
import { RowFingerprint } from './row-fingerprint.ts';
import { checkLabelValues } from './column-checks.ts';
import { readVerifiedStats, statStillVerified, verifiedStat, writeVerifiedStats } from './verified-stat.ts';

/** A mismatch between a dataset's files and its manifest. */
export interface DatasetProblem {
  file: string;
  problem: string;
}

/** How {@link checkDatasetFiles} may skip hashing. */
export interface CheckFilesOptions {
  /**
   * Trust a file whose stat (size, mtime, ctime, inode) is the one recorded when its bytes last
   * matched the same sha256 (verified-stat.ts), and record the stat of every file that matches now.
   * Default false: every file is hashed (what `distill verify` does).
   */
  trustVerifiedStat?: boolean;
}

/** Checks every file of the listed splits (default all) against the manifest's bytes and sha256. */
export async function checkDatasetFiles(dir: string, manifest: DatasetManifest, splits?: readonly string[], opts: CheckFilesOptions = {}): Promise<DatasetProblem[]> {
  const problems: DatasetProblem[] = [];
  const recorded = opts.trustVerifiedStat ? await readVerifiedStats(dir) : null;
  let changed = false;
  for (const [name, split] of Object.entries(manifest.splits)) {
    if (splits && !splits.includes(name)) continue;
    for (const f of split.files) {
      const path = join(dir, f.path);
      try {
        const st = await stat(path);
        if (st.size !== f.bytes) {
          problems.push({ file: f.path, problem: `is ${st.size} bytes, the manifest says ${f.bytes}` });
          continue;
        }
        if (recorded !== null && statStillVerified(recorded[f.path], f.sha256, st)) continue;
        const sha = await sha256File(path);
        if (sha !== f.sha256) problems.push({ file: f.path, problem: `sha256 is ${sha}, the manifest says ${f.sha256}` });
        else if (recorded !== null && (await stat(path)).mtimeMs === st.mtimeMs) {
          recorded[f.path] = verifiedStat(sha, st);
          changed = true;
        }
      } catch (err) {
        problems.push({ file: f.path, problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      }
    }
  }
  if (recorded !== null && changed) await writeVerifiedStats(dir, recorded);
  return problems;
}

/**
 * Consistency of a (schema-valid) dataset manifest: per split, the files tile rows 0..rows-1 in
 * order (no gap, no overlap), and the label histogram sums to the rows and has one count per class.
 */
export function datasetManifestProblems(manifest: DatasetManifest): DatasetProblem[] {
  const problems: DatasetProblem[] = [];
  const label = manifest.columns.find((c) => c.role === 'label');
  for (const [name, split] of Object.entries(manifest.splits)) {
    let next = 0;
    for (const f of split.files) {
      if (f.rowStart !== next || f.rowEnd <= f.rowStart) {
        const what = f.rowStart > next ? `a gap: rows ${next}..${f.rowStart - 1} are in no file` : f.rowStart < next ? `an overlap: rows ${f.rowStart}..${next - 1} are in two files` : 'an empty range';
        problems.push({ file: f.path, problem: `covers rows ${f.rowStart}..${f.rowEnd - 1}, expected to start at row ${next} (${what})` });
      }
      next = Math.max(next, f.rowEnd);
    }
    if (next !== split.rows) problems.push({ file: 'manifest.json', problem: `the files of split "${name}" cover ${next} rows, but splits.${name}.rows is ${split.rows}` });
    if (split.labelCounts) {
      const sum = split.labelCounts.reduce((a, b) => a + b, 0);
      if (sum !== split.rows) problems.push({ file: 'manifest.json', problem: `splits.${name}.labelCounts sum to ${sum}, but the split has ${split.rows} rows` });
      if (label?.classes !== undefined && split.labelCounts.length !== label.classes) {
        problems.push({ file: 'manifest.json', problem: `splits.${name}.labelCounts has ${split.labelCounts.length} entries, but label "${label.name}" has ${label.classes} classes` });
      }
    }
  }
  return problems;
}

/**
 * Reads every file of the listed splits (default all) and recomputes what the manifest claims about
 * the content: each file's and each split's row fingerprint, and labels inside 0..classes-1. Files
 * whose bytes already fail {@link checkDatasetFiles} should be left out (`skip`, paths as in the manifest).
 */
export async function checkDatasetContent(dir: string, manifest: DatasetManifest, splits?: readonly string[], skip: ReadonlySet<string> = new Set()): Promise<DatasetProblem[]> {
  const problems: DatasetProblem[] = [];
  const columns = fingerprintColumns(manifest);
  const label = manifest.columns.find((c) => c.role === 'label');
  for (const [name, split] of Object.entries(manifest.splits)) {
    if (splits && !splits.includes(name)) continue;
    const whole = new RowFingerprint(columns);
    let complete = true;
    for (const f of split.files) {
      if (skip.has(f.path)) {
        complete = false;
        continue;
      }
      try {
        const table = await readDatasetFile(dir, f, manifest.columns);
        const fp = new RowFingerprint(columns);
        fp.update(table, f.path);
        whole.update(table, f.path);
        const digest = fp.digest();
        if (digest !== f.fingerprint) problems.push({ file: f.path, problem: `has content fingerprint ${digest}, the manifest says ${f.fingerprint}` });
        if (label?.classes !== undefined && table.getChild(label.name)) {
          try {
            checkLabelValues(table, label, label.classes, f.path, f.rowStart, []);
          } catch (err) {
            problems.push({ file: f.path, problem: (err as Error).message.slice(f.path.length + 2) });
          }
        }
      } catch (err) {
        complete = false;
        problems.push({ file: f.path, problem: `cannot be decoded (${(err as Error).message})` });
      }
    }
    if (complete) {
      const digest = whole.digest();
      if (digest !== split.fingerprint) problems.push({ file: 'manifest.json', problem: `split "${name}" has content fingerprint ${digest}, the manifest says ${split.fingerprint}` });
    }
  }
  return problems;
}

/**
 * Like {@link checkDatasetFiles} but throws an IntegrityError listing every problem. The stages call
 * it before reading a dataset; by default it trusts a file's recorded verified stat (see
 * {@link CheckFilesOptions}), so an unchanged dataset is hashed once, not on every run.
 */
export async function verifyDatasetFiles(dir: string, manifest: DatasetManifest, splits?: readonly string[], opts: CheckFilesOptions = { trustVerifiedStat: true }): Promise<void> {
  const problems = await checkDatasetFiles(dir, manifest, splits, opts);
  if (problems.length > 0) {
    throw new IntegrityError(`dataset ${dir} does not match its manifest:\n${problems.map((p) => `  - ${p.file} ${p.problem}`).join('\n')}`);
  }
}
