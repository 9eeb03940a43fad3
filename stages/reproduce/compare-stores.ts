import type { OpenedStore } from '../../pipeline/store/open-store.ts';
import type { ShardTargets } from '../../pipeline/store/soft-target-store.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import type { ComparisonRow } from './comparison-table.ts';
import { SHARD_ATOL, SHARD_RTOL, within } from './reproduce-tolerances.ts';

/**
 * Whether two stores were captured in the same environment (onnxruntime version, execution provider,
 * platform, CPU model): true, false, or null when a manifest does not record the CPU.
 */
export function sameCaptureEnvironment(a: StoreManifest, b: StoreManifest): { same: boolean | null; describe: (m: StoreManifest) => string } {
  const describe = (m: StoreManifest): string => `onnxruntime ${m.runtime.onnxruntime} ${m.runtime.executionProvider}, ${m.software.platform}, ${m.software.cpu ?? 'CPU not recorded'}`;
  const base = a.runtime.onnxruntime === b.runtime.onnxruntime && a.runtime.executionProvider === b.runtime.executionProvider && a.software.platform === b.software.platform;
  if (!base) return { same: false, describe };
  if (a.software.cpu === undefined || b.software.cpu === undefined) return { same: null, describe };
  return { same: a.software.cpu === b.software.cpu, describe };
}

/** A shard's view parameters as plain arrays (empty without views). */
function viewParamList(t: ShardTargets): number[][] {
  const p = t.viewParams;
  if (!p) return [];
  return p.kind === 'image' ? [Array.from(p.dx), Array.from(p.dy), Array.from(p.angle), Array.from(p.scale)] : [Array.from(p.noiseKey)];
}

/** Largest tolerance excess and |difference| between two decoded shards; Infinity when classes differ. */
function valueDiff(a: ShardTargets, b: ShardTargets): { maxAbs: number; ok: boolean } {
  let maxAbs = 0;
  let ok = true;
  const cmp = (x: Float32Array | undefined, y: Float32Array | undefined): void => {
    if (!x || !y || x.length !== y.length) {
      ok = false;
      maxAbs = Infinity;
      return;
    }
    for (let i = 0; i < x.length; i++) {
      if (x[i] === y[i]) continue; // also equal infinities
      const d = Math.abs(x[i]! - y[i]!);
      if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
      if (!within(x[i]!, y[i]!, SHARD_ATOL, SHARD_RTOL)) ok = false;
    }
  };
  // View parameters decide the inputs: they must be identical (they are a pure function of the policy).
  if (JSON.stringify(viewParamList(a)) !== JSON.stringify(viewParamList(b))) {
    ok = false;
    maxAbs = Infinity;
  }
  if (a.logits || b.logits) cmp(a.logits, b.logits);
  else {
    const ia = a.topkIndex!;
    const ib = b.topkIndex!;
    if (ia.length !== ib.length || ia.some((v, i) => v !== ib[i])) ok = false;
    cmp(a.topkLogit, b.topkLogit);
    cmp(a.tailLogSumExp, b.tailLogSumExp);
  }
  return { maxAbs, ok };
}

const short = (sha: string): string => sha.slice(0, 12);

/**
 * Compares every shard of a reproduced store with the recorded one: sha256 first; when they differ,
 * the decoded values within SHARD_ATOL/SHARD_RTOL (top-k: indices exactly) — which passes only when
 * the capture environment differs or is not fully recorded; on the same environment the bytes must
 * be identical. `shown` names the recorded shard in the table.
 */
export async function compareStores(recorded: OpenedStore, reproduced: OpenedStore, shown: (path: string) => string): Promise<ComparisonRow[]> {
  const env = sameCaptureEnvironment(recorded.manifest, reproduced.manifest);
  const rows: ComparisonRow[] = [];
  for (const split of recorded.splits()) {
    const mine = reproduced.manifest.splits[split];
    if (!mine) {
      rows.push({ artifact: shown(recorded.dir), check: `split ${split}`, recorded: `${recorded.manifest.splits[split]!.rows} rows`, reproduced: 'absent', tolerance: 'identical', verdict: 'diverged' });
      continue;
    }
    for (const shard of recorded.shards(split)) {
      const other = reproduced.shards(split)[shard.index];
      const row: ComparisonRow = { artifact: shown(shard.path), check: 'sha256', recorded: short(shard.sha256), reproduced: other ? short(other.sha256) : 'absent', tolerance: 'identical', verdict: 'ok' };
      rows.push(row);
      if (!other || other.rowStart !== shard.rowStart || other.rowEnd !== shard.rowEnd) {
        row.verdict = 'diverged';
        row.note = `the reproduced store has ${other ? `rows ${other.rowStart}..${other.rowEnd - 1}` : 'no such shard'}`;
        continue;
      }
      if (other.sha256 === shard.sha256) continue;
      const d = valueDiff(await recorded.readShard(split, shard.index), await reproduced.readShard(split, shard.index));
      row.check = 'sha256, logits';
      row.reproduced = `${short(other.sha256)} max|d| ${d.maxAbs.toExponential(2)}`;
      row.tolerance = env.same === true ? 'identical (same environment)' : `|d| <= ${SHARD_ATOL} + ${SHARD_RTOL}|x|`;
      row.verdict = env.same !== true && d.ok ? 'ok' : 'diverged';
      row.note =
        env.same === true
          ? `bytes differ although both were captured with ${env.describe(recorded.manifest)}`
          : `bytes differ; recorded with ${env.describe(recorded.manifest)}, reproduced with ${env.describe(reproduced.manifest)}: values compared within tolerance`;
    }
  }
  return rows;
}
