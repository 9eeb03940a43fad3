import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../pipeline/store/open-store.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import type { ShardTargets } from '../../pipeline/store/soft-target-store.ts';
import { targetPositions, viewsOf } from '../../pipeline/store/soft-target-store.ts';
import { tokenNames } from './token-names.ts';
import { decodeTopKProbs } from './encode-topk.ts';

/** One decoded row: its most probable classes (at T = 1 for dense, at the capture T for top-k). */
export interface InspectedRow {
  split: string;
  row: number;
  /** Per-position store: the target position. */
  position?: number;
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
  /** Per-position store: shard bytes per stored target token (manifest encoding.bytesPerToken). */
  bytesPerToken?: number;
  /** Per-position store: where token names come from (or why ids only). */
  tokenNote?: string;
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

function softmaxTop(z: Float32Array, names: string[] | undefined): InspectedRow['top'] {
  const max = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return topOf(e.map((v) => v / sum), Array.from({ length: z.length }, (_, i) => i), names, 3);
}

function classificationRows(shard: ShardTargets, m: StoreManifest, names: string[] | undefined, n: number): InspectedRow[] {
  const C = m.encoding.classes;
  const K = viewsOf(m.encoding);
  const out: InspectedRow[] = [];
  for (let r = 0; r < n; r++) {
    const row = shard.rowStart + r;
    const at = r * K; // a view store: the row's view 0 (unaugmented)
    if (shard.logits) out.push({ split: shard.split, row, top: softmaxTop(shard.logits.subarray(at * C, (at + 1) * C), names) });
    else if (shard.sampleIndex) out.push({ split: shard.split, row, top: sampledTop(shard, m, at, names) });
    else {
      const k = m.encoding.k!;
      const d = decodeTopKProbs(shard.topkLogit!.subarray(at * k, (at + 1) * k), shard.tailLogSumExp![at]!, m.encoding.temperature!);
      out.push({ split: shard.split, row, top: topOf(d.probs, shard.topkIndex!.subarray(at * k, (at + 1) * k), names, 3), tail: d.tail });
    }
  }
  return out;
}

/** sampled: count / N of the slots of position index `at` (row * P + position). */
function sampledTop(shard: ShardTargets, m: StoreManifest, at: number, names: string[] | undefined): InspectedRow['top'] {
  const slots = m.encoding.slots!;
  const counts = shard.sampleCount!.subarray(at * slots, (at + 1) * slots);
  const used = counts.findIndex((c) => c === 0);
  const end = used < 0 ? slots : used;
  return topOf(Array.from(counts.subarray(0, end), (c) => c / m.encoding.samples!), shard.sampleIndex!.subarray(at * slots, at * slots + end), names, 3);
}

/** Per-position store: the first 3 target positions of each of the first n rows. */
function positionRows(shard: ShardTargets, m: StoreManifest, names: string[] | undefined, n: number): InspectedRow[] {
  const e = m.encoding;
  const P = e.positions!;
  const V = e.classes;
  const out: InspectedRow[] = [];
  for (let r = 0; r < n; r++) {
    const targets = Math.min(3, targetPositions(e.target, shard.length![r]!));
    for (let pos = 0; pos < targets; pos++) {
      const at = r * P + pos;
      const base = { split: shard.split, row: shard.rowStart + r, position: pos };
      if (shard.logits) out.push({ ...base, top: softmaxTop(shard.logits.subarray(at * V, (at + 1) * V), names) });
      else if (shard.sampleIndex) out.push({ ...base, top: sampledTop(shard, m, at, names) });
      else {
        const k = e.k!;
        const d = decodeTopKProbs(shard.topkLogit!.subarray(at * k, (at + 1) * k), shard.tailLogSumExp![at]!, e.temperature!);
        out.push({ ...base, top: topOf(d.probs, shard.topkIndex!.subarray(at * k, (at + 1) * k), names, 3), tail: d.tail });
      }
    }
  }
  return out;
}

/** Summarises a store and decodes its first `rows` rows of each split (default 3). */
export async function inspectStore(dir: string, rows = 3, base = process.cwd()): Promise<StoreSummary> {
  const store = await openStore(dir);
  const m = store.manifest;
  const tokens = m.encoding.positions !== undefined ? await tokenNames(m.dataset.path, base) : null;
  const names = tokens?.names ?? m.teacher.card.classes.names;
  const samples: InspectedRow[] = [];
  for (const split of store.splits()) {
    if (rows <= 0 || store.shards(split).length === 0) continue;
    const shard = await store.readShard(split, 0);
    const n = Math.min(rows, shard.rowEnd - shard.rowStart);
    if (m.encoding.positions !== undefined) samples.push(...positionRows(shard, m, names, n));
    else samples.push(...classificationRows(shard, m, names, n));
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
    ...(m.encoding.bytesPerToken !== undefined ? { bytesPerToken: m.encoding.bytesPerToken } : {}),
    ...(tokens ? { tokenNote: tokens.note } : {}),
    samples,
  };
}

/** The human-readable text of a summary. */
export function formatStoreSummary(s: StoreSummary): string {
  const m = s.manifest;
  const e = m.encoding;
  const per = e.positions !== undefined ? `per position, ${e.positions} ${e.target} positions per row` : 'per row';
  const enc =
    e.mode === 'dense'
      ? `dense ${e.precision} (${e.classes} logits ${per})`
      : e.mode === 'sampled'
        ? `sampled N=${e.samples} draws from softmax(z/T) at T=${e.temperature}, ${e.slots} (id, count) slots, seed ${e.seed} (${per}; train at T=${e.temperature})`
        : `topk k=${e.k} ${e.precision}, tail logsumexp at capture temperature T=${e.temperature} (${per}; train at T=${e.temperature})`;
  const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
  const lines = [
    `store       ${s.dir}`,
    `rows        ${Object.entries(s.rows).map(([k, v]) => `${k} ${v}`).join(', ')} (${s.totalRows} total, ${s.shards} shards of <= ${m.shardRows} rows, ${m.format})`,
    `classes     ${e.classes}${m.teacher.card.classes.names ? `: ${m.teacher.card.classes.names.join(', ')}` : ''}`,
    `encoding    ${enc}`,
    `teacher     ${m.teacher.card.name} (${m.teacher.path}, sha256 ${m.teacher.sha256.slice(0, 16)}..., output ${m.teacher.card.output.name}: ${m.teacher.card.output.kind})`,
    ...(m.teacher.graphReduction ? [`reduction   in the teacher graph (${m.teacher.graphReduction.ops.join(', ')}; opset ${m.teacher.graphReduction.opsetVersion}); ORT ran the rewritten model, sha256 ${m.teacher.graphReduction.sha256.slice(0, 16)}...`] : []),
    `dataset     ${m.dataset.name} (${m.dataset.path})`,
    `runtime     onnxruntime ${m.runtime.onnxruntime} on ${m.runtime.executionProvider} (asked: ${m.runtime.requestedDevice}), batch ${m.runtime.batchSize}`,
    `non-finite  ${Object.entries(m.splits).map(([k, v]) => `${k} ${v.nonFinite}`).join(', ')} (policy ${m.nonFinitePolicy})`,
    `size        ${mb(s.shardBytes)} of shards, ${mb(s.bytesOnDisk)} on disk; ${s.bytesPerExample.toFixed(1)} bytes per example${s.bytesPerToken !== undefined ? `, ${s.bytesPerToken} bytes per stored token` : ''}`,
  ];
  if (e.views) {
    const a = e.views.augment;
    const policy = a.kind === 'image' ? `image: shift <= ${a.shift} px, rotation <= ${a.rotation} deg, zoom 1 ± ${a.scale}` : `noise: sd ${a.sd}`;
    lines.push(`views       K=${e.views.count} per row of column ${e.views.column} (view 0 unaugmented; ${policy}; seed ${e.views.seed}); rows below show view 0`);
  }
  if (s.tokenNote) lines.push(`tokens      ${s.tokenNote}`);
  if (s.samples.length > 0) {
    lines.push(`rows (top ${e.positions !== undefined ? 'tokens per position' : 'classes'}, ${e.mode === 'sampled' ? 'count/N' : 'probability'} at T=${e.mode === 'dense' ? 1 : e.temperature}):`);
    for (const r of s.samples) {
      const top = r.top.map((t) => `${t.name === undefined ? t.class : r.position !== undefined ? JSON.stringify(t.name) : t.name} ${t.prob.toFixed(4)}`).join('  ');
      lines.push(`  ${r.split.padEnd(8)} ${String(r.row).padStart(6)}${r.position !== undefined ? ` @${r.position}` : ''}  ${top}${r.tail !== undefined ? `  (tail ${r.tail.toExponential(2)})` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
