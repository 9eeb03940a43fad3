import { join } from 'node:path';
import { readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { checkDatasetContent, checkDatasetFiles, datasetManifestProblems } from '../../pipeline/dataset/verify-dataset.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import { newReport } from './verify-report.ts';
import type { VerifyReport } from './verify-report.ts';

/**
 * Verifies a dataset directory: its manifest against schemas/dataset-manifest.schema.json, the files'
 * row coverage and label histogram (datasetManifestProblems), every file's bytes and sha256
 * (checkDatasetFiles) and, for the files whose bytes match, the content fingerprints of each file and
 * split and the label range, recomputed from the rows (checkDatasetContent). Collects every problem.
 *
 * @example
 * const report = await verifyDatasetDir('artifacts/data/mnist');
 * report.problems.length; // 0
 */
export async function verifyDatasetDir(dir: string, workspace: string = process.cwd()): Promise<VerifyReport> {
  const shown = displayPath(dir, workspace);
  const report = newReport('dataset', shown);
  let manifest: DatasetManifest;
  try {
    manifest = await readDatasetManifest(dir);
  } catch (err) {
    report.problems.push({ file: join(shown, 'manifest.json'), problem: (err as Error).message.replace(/^.*?manifest\.json:? ?/, '') });
    return report;
  }
  const at = (p: { file: string; problem: string }): { file: string; problem: string } => ({ file: join(shown, p.file), problem: p.problem });
  report.problems.push(...datasetManifestProblems(manifest).map(at));
  const files = await checkDatasetFiles(dir, manifest);
  report.problems.push(...files.map(at));
  report.problems.push(...(await checkDatasetContent(dir, manifest, undefined, new Set(files.map((f) => f.file)))).map(at));
  const splits = Object.entries(manifest.splits);
  report.checked.push(
    'manifest schema, file row coverage, label histogram',
    `${splits.reduce((s, [, x]) => s + x.files.length, 0)} files: bytes and sha256`,
    `content fingerprints of ${splits.map(([n, x]) => `${n} (${x.rows} rows)`).join(', ')} and label range, recomputed`,
  );
  return report;
}
