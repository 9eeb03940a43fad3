/**
 * Keeping earlier variants when `distill reference --variants a,b` re-runs only some of them: the
 * variants of the existing reference-metrics.json that this run did not train stay (with the command
 * that produced them), their stores' facts stay, and the comparisons against the hard-label variant
 * are computed again over the merged set. Results over other seeds, or of variants whose config is no
 * longer in the folder, are not kept (a warning names them).
 */
import type { ReferenceMetrics, VariantResult } from './run-reference.ts';

/** Which command produced a variant's results. */
export interface VariantProvenance {
  command: string;
  createdAt: string;
  gitCommit: string | null;
}

/** What {@link mergeReferenceMetrics} did. */
export interface MergedReference {
  metrics: ReferenceMetrics;
  /** Variant names kept from the earlier file. */
  kept: string[];
  /** Why earlier variants were not kept (one line each), for a warning. */
  dropped: string[];
}

/** Rank of a store encoding for the teacher's accuracy: dense and top-k are exact, sampled an estimate. */
function storeRank(encoding: string): number {
  const mode = encoding.split(' ')[0] ?? '';
  const rank = ['dense', 'topk', 'sampled'].indexOf(mode);
  return rank < 0 ? Infinity : rank;
}

function bestRank(stores: ReferenceMetrics['stores']): number {
  return Math.min(Infinity, ...Object.values(stores).map((s) => storeRank(s.encoding)));
}

/** Whether a parsed JSON value is a reference-metrics file. */
export function isReferenceMetrics(v: unknown): v is ReferenceMetrics {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'distill.reference-metrics' && typeof (v as { variants?: unknown }).variants === 'object';
}

/**
 * Merges this run's `fresh` metrics with an earlier file's.
 * @param configured - variant names whose config is still in the experiment folder.
 * @param storesOf - the store a variant's config names (kept stores are those a merged variant reads).
 * @param compare - the comparisons over a merged variant set (the run's own rule).
 */
export function mergeReferenceMetrics(
  previous: ReferenceMetrics,
  fresh: ReferenceMetrics,
  configured: ReadonlySet<string>,
  storesOf: (variant: string) => string | null,
  compare: (variants: Record<string, VariantResult>) => ReferenceMetrics['comparisons'],
): MergedReference {
  const dropped: string[] = [];
  const earlier = Object.keys(previous.variants).filter((n) => !(n in fresh.variants));
  if (earlier.length === 0) return { metrics: fresh, kept: [], dropped };
  if (JSON.stringify(previous.seeds) !== JSON.stringify(fresh.seeds)) {
    dropped.push(`${earlier.join(', ')}: trained over seeds ${previous.seeds.join(',')}, this run over ${fresh.seeds.join(',')}`);
    return { metrics: fresh, kept: [], dropped };
  }
  if (previous.experiment !== fresh.experiment) {
    dropped.push(`${earlier.join(', ')}: from experiment "${previous.experiment}", this run is "${fresh.experiment}"`);
    return { metrics: fresh, kept: [], dropped };
  }
  const kept = earlier.filter((n) => configured.has(n));
  for (const n of earlier) if (!configured.has(n)) dropped.push(`${n}: its config is no longer in the experiment folder`);
  const from: VariantProvenance = { command: previous.command, createdAt: previous.createdAt, gitCommit: previous.software.gitCommit };
  const variants: Record<string, VariantResult> = {};
  for (const n of kept) variants[n] = { ...previous.variants[n]!, provenance: previous.variants[n]!.provenance ?? from };
  Object.assign(variants, fresh.variants);
  const needed = new Set(Object.keys(variants).map(storesOf).filter((s): s is string => s !== null));
  const stores: ReferenceMetrics['stores'] = {};
  for (const [s, facts] of Object.entries(previous.stores)) if (needed.has(s) && !(s in fresh.stores)) stores[s] = facts;
  Object.assign(stores, fresh.stores);
  // The teacher's accuracy from the most exact store either run read (fresh on a tie).
  const teacher = bestRank(previous.stores) < bestRank(fresh.stores) ? previous.teacher : fresh.teacher;
  return { metrics: { ...fresh, teacher, stores, variants, comparisons: compare(variants) }, kept, dropped };
}
