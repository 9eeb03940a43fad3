/**
 * Writes a soft-target store directly (no ONNX Runtime), with the contract's columns and a manifest
 * that passes openStore: for unit tests of the student stage. The "teacher" is a fixed seeded linear
 * map of the scaled features, so targets are deterministic and learnable.
 */
import { join } from 'node:path';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { fingerprintColumns } from '../../pipeline/dataset/dataset-manifest.ts';
import { RowFingerprint } from '../../pipeline/dataset/row-fingerprint.ts';
import { atomicWrite, atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { encodeTable, readTableFile } from '../../pipeline/io/table-files.ts';
import { softwareProvenance } from '../../pipeline/provenance.ts';
import { keyOfManifest } from '../../pipeline/store/capture-key.ts';
import { partRecordPath } from '../../pipeline/store/part-record.ts';
import type { PartRecord } from '../../pipeline/store/part-record.ts';
import { shardTable } from '../../pipeline/store/shard-table.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import type { StoreManifest, StoreShardRecord, StoreSplit } from '../../pipeline/store/store-manifest.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';

/** Options of {@link writeTestStore}. */
export interface TestStoreOptions {
  datasetDir: string;
  dataset: DatasetManifest;
  out: string;
  splits: string[];
  shardRows: number;
  /** Default 10. */
  classes?: number;
  /** Default dense. */
  mode?: 'dense' | 'topk';
  k?: number;
  temperature?: number;
  /** Default 1. */
  seed?: number;
}

function topk(z: Float32Array, c: number, k: number, t: number): { idx: number[]; logit: number[]; tail: number } {
  const order = Array.from({ length: c }, (_, j) => j).sort((a, b) => (z[b]! !== z[a]! ? z[b]! - z[a]! : a - b));
  const kept = order.slice(0, k);
  const rest = order.slice(k).map((j) => z[j]! / t);
  const m = Math.max(...rest, -Infinity);
  const tail = rest.length === 0 ? -Infinity : m + Math.log(rest.reduce((s, v) => s + Math.exp(v - m), 0));
  return { idx: kept, logit: kept.map((j) => z[j]!), tail };
}

/** Writes the store and returns its manifest. */
export async function writeTestStore(opts: TestStoreOptions): Promise<StoreManifest> {
  const classes = opts.classes ?? 10;
  const mode = opts.mode ?? 'dense';
  const encoding: StoreEncoding = mode === 'dense' ? { mode, precision: 'float32', classes } : { mode, precision: 'float32', classes, k: opts.k ?? 3, temperature: opts.temperature ?? 1 };
  const rand = mulberry32(opts.seed ?? 1);
  const feature = opts.dataset.columns.find((c) => c.role === 'feature')!;
  const f = Number(/\[(\d+)\]$/.exec(feature.type)?.[1] ?? 1);
  const w = Float32Array.from({ length: f * classes }, () => (rand() - 0.5) * 0.4);
  const splits: Record<string, StoreSplit> = {};
  for (const split of opts.splits) {
    const ds = opts.dataset.splits[split]!;
    const rows = ds.rows;
    const pixels = new Float32Array(rows * f);
    for (const file of ds.files) {
      const t = await readTableFile(join(opts.datasetDir, file.path));
      const vec = t.getChild(feature.name)!;
      let at = file.rowStart * f;
      for (const d of vec.data) {
        const v = d.children[0]!.values as Uint8Array;
        for (let i = 0; i < d.length * f; i++) pixels[at++] = v[i]! / 255;
      }
    }
    const shards: StoreShardRecord[] = [];
    for (let s = 0; s * opts.shardRows < rows; s++) {
      const a = s * opts.shardRows;
      const b = Math.min(rows, a + opts.shardRows);
      const n = b - a;
      const logits = new Float32Array(n * classes);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < classes; c++) {
          let acc = 0;
          for (let j = 0; j < f; j++) acc += pixels[(a + r) * f + j]! * w[j * classes + c]!;
          logits[r * classes + c] = acc * 8;
        }
      }
      let table;
      if (mode === 'dense') table = shardTable(encoding, { rowStart: a, rows: n, logits });
      else {
        const k = encoding.k!;
        const topkIndex = new Uint32Array(n * k);
        const topkLogit = new Float32Array(n * k);
        const tail = new Float32Array(n);
        for (let r = 0; r < n; r++) {
          const t = topk(logits.subarray(r * classes, (r + 1) * classes), classes, k, encoding.temperature!);
          topkIndex.set(t.idx, r * k);
          topkLogit.set(t.logit, r * k);
          tail[r] = t.tail;
        }
        table = shardTable(encoding, { rowStart: a, rows: n, topkIndex, topkLogit, tailLogSumExp: tail });
      }
      const bytes = encodeTable(table, 'arrow');
      const path = `${split}/part-${String(s).padStart(5, '0')}.arrow`;
      await atomicWrite(join(opts.out, path), bytes);
      // Dataset fingerprint of rows [a, b): recomputed from the dataset files that hold them.
      const fp = new RowFingerprint(fingerprintColumns(opts.dataset));
      for (const file of ds.files) {
        if (file.rowEnd <= a || file.rowStart >= b) continue;
        const t = await readTableFile(join(opts.datasetDir, file.path));
        fp.update(t.slice(Math.max(a, file.rowStart) - file.rowStart, Math.min(b, file.rowEnd) - file.rowStart));
      }
      shards.push({ index: s, path, rowStart: a, rowEnd: b, bytes: bytes.byteLength, sha256: sha256Bytes(bytes), datasetFingerprint: fp.digest(), nonFinite: 0, nonFiniteRows: [] });
    }
    splits[split] = { rows, shards, nonFinite: 0, timing: { seconds: 0, rowsComputed: rows, rowsPerSecond: 0 } };
  }
  const manifest: StoreManifest = {
    formatVersion: 1,
    kind: 'distill.soft-targets',
    status: 'complete',
    createdAt: new Date().toISOString(),
    teacher: { sha256: sha256Bytes('test teacher'), path: 'test-teacher', card: { formatVersion: 1, name: 'test', model: 'none.onnx', sha256: sha256Bytes('test teacher'), inputs: [], output: { name: 'logits', kind: 'logits' }, classes: { count: classes } }, cardSha256: sha256Bytes('card') },
    dataset: { name: opts.dataset.name, path: opts.datasetDir, splits: Object.fromEntries(opts.splits.map((s) => [s, { rows: opts.dataset.splits[s]!.rows, fingerprint: opts.dataset.splits[s]!.fingerprint }])) },
    encoding,
    format: 'arrow',
    shardRows: opts.shardRows,
    runtime: { onnxruntime: 'none', executionProvider: 'cpu', requestedDevice: 'cpu', intraOpThreads: 0, graphOptimization: 'all', batchSize: 1 },
    software: softwareProvenance(),
    config: { store: opts.out, splits: opts.splits, format: 'arrow', encoding: { mode, precision: 'float32', k: encoding.k ?? 5, temperature: encoding.temperature ?? 1 }, shardRows: opts.shardRows, batchSize: 1, device: 'cpu', intraOpThreads: 0, graphOptimization: 'all', nonFinite: 'error' },
    nonFinitePolicy: 'error',
    splits,
    timing: { seconds: 0, rowsComputed: 0, rowsPerSecond: 0 },
  };
  // The part records a capture writes next to each shard: consumers check the manifest against them.
  for (const split of opts.splits) {
    for (const shard of splits[split]!.shards) {
      const part: PartRecord = { kind: 'distill.soft-targets.part', key: keyOfManifest(manifest, split)!, shard, runtime: manifest.runtime, writtenAt: manifest.createdAt };
      await atomicWriteJson(partRecordPath(join(opts.out, shard.path)), part);
    }
  }
  await atomicWriteJson(join(opts.out, 'manifest.json'), manifest);
  return manifest;
}
