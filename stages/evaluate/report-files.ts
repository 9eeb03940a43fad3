import { join } from 'node:path';
import { pathExists } from '../../pipeline/io/path-exists.ts';
import { readJsonFile } from '../../pipeline/io/read-json.ts';
import { outputKeyDifferences } from '../../pipeline/up-to-date.ts';
import type { OutputKey } from '../../pipeline/up-to-date.ts';

/** File names in the report folder. */
export const REPORT_FILES = { metrics: 'metrics.json', markdown: 'report.md', html: 'report.html' } as const;

/** The report files' paths in `reportDir`. */
export function reportPaths(reportDir: string): { metrics: string; markdown: string; html: string } {
  return { metrics: join(reportDir, REPORT_FILES.metrics), markdown: join(reportDir, REPORT_FILES.markdown), html: join(reportDir, REPORT_FILES.html) };
}

/**
 * The metrics.json in `reportDir` when the three report files exist and its key equals `key` (the
 * report is up to date: same config, inputs and code); else null.
 */
export async function upToDateReport<R extends { key?: OutputKey }>(reportDir: string, key: OutputKey): Promise<R | null> {
  for (const f of Object.values(REPORT_FILES)) if (!(await pathExists(join(reportDir, f)))) return null;
  const read = await readJsonFile(join(reportDir, REPORT_FILES.metrics));
  if (!read.ok) return null;
  const report = read.value as R;
  return outputKeyDifferences(report.key, key).length === 0 ? report : null;
}
