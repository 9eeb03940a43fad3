import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import type { ComparisonRow } from './comparison-table.ts';
import { LOSS_ATOL, LOSS_RTOL, RATE_ATOL, within } from './reproduce-tolerances.ts';

/** The final metrics compared: name, value getter, tolerance. */
const METRICS: { name: 'accuracy' | 'agreement' | 'kl' | 'ce'; atol: number; rtol: number }[] = [
  { name: 'accuracy', atol: RATE_ATOL, rtol: 0 },
  { name: 'agreement', atol: RATE_ATOL, rtol: 0 },
  { name: 'kl', atol: LOSS_ATOL, rtol: LOSS_RTOL },
  { name: 'ce', atol: LOSS_ATOL, rtol: LOSS_RTOL },
];

/** Metrics as recorded somewhere (a run manifest's final eval, or a reference-metrics.json seed). */
export type RecordedMetrics = Partial<Record<(typeof METRICS)[number]['name'], number | null>>;

/** Whether two runs trained in the same environment (tfjs backend and version, platform, CPU); null when the CPU is not recorded. */
export function sameTrainingEnvironment(a: RunManifest, b: RunManifest): boolean | null {
  const key = (m: RunManifest): string => `${m.backend.backend} ${m.software.backendVersion} ${m.software.tfjs} ${m.software.platform}`;
  if (key(a) !== key(b)) return false;
  if (a.software.cpu === undefined || b.software.cpu === undefined) return null;
  return a.software.cpu === b.software.cpu;
}

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(5));

/** Rows comparing reproduced final metrics with recorded ones (`source` names where they were recorded). */
export function compareMetrics(artifact: string, source: string, recorded: RecordedMetrics, reproduced: RunManifest): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const m of METRICS) {
    const a = recorded[m.name];
    const b = reproduced.final.eval[m.name];
    if (a === undefined || a === null) continue;
    const ok = b !== null && within(a, b, m.atol, m.rtol);
    rows.push({ artifact, check: `${m.name} (${source})`, recorded: fmt(a), reproduced: fmt(b), tolerance: m.rtol > 0 ? `|d| <= ${m.atol} + ${m.rtol}|x|` : `|d| <= ${m.atol}`, verdict: ok ? 'ok' : 'diverged' });
  }
  return rows;
}

/**
 * Rows comparing a reproduced run with its recorded manifest: the weights' sha256 (must match on the
 * same training environment; shown for information elsewhere) and the final metrics within tolerance.
 */
export function compareRuns(artifact: string, recorded: RunManifest, reproduced: RunManifest): ComparisonRow[] {
  const same = sameTrainingEnvironment(recorded, reproduced);
  const identical = recorded.outputs.weightsSha256 === reproduced.outputs.weightsSha256;
  const env = (m: RunManifest): string => `${m.backend.backend} ${m.software.backendVersion ?? ''}, ${m.software.platform}, ${m.software.cpu ?? 'CPU not recorded'}`.replace(' ,', ',');
  const weights: ComparisonRow = {
    artifact,
    check: 'weights sha256',
    recorded: recorded.outputs.weightsSha256.slice(0, 12),
    reproduced: reproduced.outputs.weightsSha256.slice(0, 12),
    tolerance: same === false ? 'informative (other environment)' : 'identical',
    verdict: identical ? 'ok' : same === false ? 'info' : same === null ? 'info' : 'diverged',
  };
  if (!identical) weights.note = `weights differ; recorded on ${env(recorded)}, reproduced on ${env(reproduced)}${same === null ? ' (CPU not recorded: judged by the metrics)' : ''}`;
  return [weights, ...compareMetrics(artifact, 'recorded', recorded.final.eval, reproduced)];
}
