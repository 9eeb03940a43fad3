import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../pipeline/store/open-store.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import { decodeTopKProbs } from './encode-topk.ts';

/** One decoded row: its most probable classes (at T = 1 for dense, at the capture T for top-k). */
export interface InspectedRow {
  split: string;
  row: number;
  /** Up to 3 classes by descending probability. */
  top: { class: number; name?: string; prob: number }[];
  /** top-k: probability mass of the classes not stored. */
  tail?: number;
}

/** What `distill inspect` shows. */
export interface StoreSummary {
  dir: string;
  manifest: StoreManifest;
  rows: Record<string, number>;
  totalRows: number;
  shards: number;
  /** Bytes of the shard files (per the manifest). */
  shardBytes: number;
  /** Bytes of everything under the store directory. */
  bytesOnDisk: number;
  bytesPerExample: number;
  samples: InspectedRow[];
}

async function duBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await duBytes(p) : (await stat(p)).size;
  }
  return total;
}

function topOf(probs: ArrayLike<number>, classes: ArrayLike<number>, names: string[] | undefined, n: number): InspectedRow['top'] {
  return Array.from({ length: probs.length }, (_, i) => i)
    .sort((a, b) => probs[b]! - probs[a]!)
    .slice(0, n)
    .map((i) => ({ class: classes[i]!, ...(names ? { name: names[classes[i]!] } : {}), prob: probs[i]! }));
}

/** Summarises a store and decodes its first `rows` rows of each split (default 3). */
export async function inspectStore(dir: string, rows = 3): Promise<StoreSummary> {
  const store = await openStore(dir);
  const m = store.manifest;
  const names = m.teacher.card.classes.names;
  const samples: InspectedRow[] = [];
  for (const split of store.splits()) {
    if (rows <= 0 || store.shards(split).length === 0) continue;
    const shard = await store.readShard(split, 0);
    const n = Math.min(rows, shard.rowEnd - shard.rowStart);
    const C = m.encoding.classes;
    for (let r = 0; r < n; r++) {
      if (shard.logits) {
        const z = shard.logits.subarray(r * C, (r + 1) * C);
        const max = Math.max(...z);
        const e = Array.from(z, (v) => Math.exp(v - max));
        const sum = e.reduce((s, v) => s + v, 0);
        samples.push({ split, row: shard.rowStart + r, top: topOf(e.map((v) => v / sum), Array.from({ length: C }, (_, i) => i), names, 3) });
      } else {
        const k = m.encoding.k!;
        const d = decodeTopKProbs(shard.topkLogit!.subarray(r * k, (r + 1) * k), shard.tailLogSumExp![r]!, m.encoding.temperature!);
        samples.push({ split, row: shard.rowStart + r, top: topOf(d.probs, shard.topkIndex!.subarray(r * k, (r + 1) * k), names, 3), tail: d.tail });
      }
    }
  }
  const rowsPerSplit = Object.fromEntries(Object.entries(m.splits).map(([k, v]) => [k, v.rows]));
  const totalRows = Object.values(rowsPerSplit).reduce((s, v) => s + v, 0);
  const shardBytes = Object.values(m.splits).reduce((s, x) => s + x.shards.reduce((t, r) => t + r.bytes, 0), 0);
  return {
    dir,
    manifest: m,
    rows: rowsPerSplit,
    totalRows,
    shards: Object.values(m.splits).reduce((s, x) => s + x.shards.length, 0),
    shardBytes,
    bytesOnDisk: await duBytes(dir),
    bytesPerExample: totalRows > 0 ? shardBytes / totalRows : 0,
    samples,
  };
}

/** The human-readable text of a summary. */
export function formatStoreSummary(s: StoreSummary): string {
  const m = s.manifest;
  const e = m.encoding;
  const enc = e.mode === 'dense' ? `dense ${e.precision} (${e.classes} logits per row)` : `topk k=${e.k} ${e.precision}, tail logsumexp at capture temperature T=${e.temperature} (train at T=${e.temperature})`;
  const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
  const lines = [
    `store       ${s.dir}`,
    `rows        ${Object.entries(s.rows).map(([k, v]) => `${k} ${v}`).join(', ')} (${s.totalRows} total, ${s.shards} shards of <= ${m.shardRows} rows, ${m.format})`,
    `classes     ${e.classes}${m.teacher.card.classes.names ? `: ${m.teacher.card.classes.names.join(', ')}` : ''}`,
    `encoding    ${enc}`,
    `teacher     ${m.teacher.card.name} (${m.teacher.path}, sha256 ${m.teacher.sha256.slice(0, 16)}..., output ${m.teacher.card.output.name}: ${m.teacher.card.output.kind})`,
    `dataset     ${m.dataset.name} (${m.dataset.path})`,
    `runtime     onnxruntime ${m.runtime.onnxruntime} on ${m.runtime.executionProvider} (asked: ${m.runtime.requestedDevice}), batch ${m.runtime.batchSize}`,
    `non-finite  ${Object.entries(m.splits).map(([k, v]) => `${k} ${v.nonFinite}`).join(', ')} (policy ${m.nonFinitePolicy})`,
    `size        ${mb(s.shardBytes)} of shards, ${mb(s.bytesOnDisk)} on disk; ${s.bytesPerExample.toFixed(1)} bytes per example`,
  ];
  if (s.samples.length > 0) {
    lines.push('rows (top classes, probability at T=' + (e.mode === 'topk' ? e.temperature : 1) + '):');
    for (const r of s.samples) {
      const top = r.top.map((t) => `${t.name ?? t.class} ${t.prob.toFixed(4)}`).join('  ');
      lines.push(`  ${r.split.padEnd(8)} ${String(r.row).padStart(6)}  ${top}${r.tail !== undefined ? `  (tail ${r.tail.toExponential(2)})` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
