import type { RunManifest, SplitMetrics } from '../../pipeline/student/run-manifest.ts';
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

/** A run's test-split metrics: `test` (scored once after training), or, in runs before validation existed, the last epoch's eval. */
export function testMetricsOf(m: RunManifest): SplitMetrics {
  return m.test ?? m.final.eval;
}

/**
 * Rows comparing a reproduced run's test metrics with recorded ones (`source` names where they were
 * recorded: a reference seed records the test split).
 */
export function compareMetrics(artifact: string, source: string, recorded: RecordedMetrics, reproduced: RunManifest): ComparisonRow[] {
  return compareValues(artifact, source, recorded, testMetricsOf(reproduced));
}

function compareValues(artifact: string, source: string, recorded: RecordedMetrics, reproduced: RecordedMetrics): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const m of METRICS) {
    const a = recorded[m.name];
    const b = reproduced[m.name] ?? null;
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
  const validation = recorded.validation && reproduced.validation ? compareValues(artifact, 'recorded, validation', recorded.final.eval, reproduced.final.eval) : [];
  const selection: ComparisonRow[] = [];
  if (recorded.validation?.rowIdsSha256 !== reproduced.validation?.rowIdsSha256) {
    selection.push({ artifact, check: 'validation rows sha256', recorded: String(recorded.validation?.rowIdsSha256 ?? '-').slice(0, 12), reproduced: String(reproduced.validation?.rowIdsSha256 ?? '-').slice(0, 12), tolerance: 'identical', verdict: 'diverged' });
  }
  if (recorded.selection && reproduced.selection && recorded.selection.epoch !== reproduced.selection.epoch) {
    selection.push({ artifact, check: 'kept epoch (chosen on validation)', recorded: String(recorded.selection.epoch), reproduced: String(reproduced.selection.epoch), tolerance: 'informative', verdict: 'info' });
  }
  return [weights, ...selection, ...compareMetrics(artifact, 'recorded, test', testMetricsOf(recorded), reproduced), ...validation];
}
