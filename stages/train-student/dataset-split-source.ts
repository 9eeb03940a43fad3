import { join } from 'node:path';
import { DataType } from 'apache-arrow';
import type { Data, Table, Vector } from 'apache-arrow';
import type { DatasetColumn, DatasetFile, DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { getSplit } from '../../pipeline/dataset/dataset-manifest.ts';
import { DataError } from '../../pipeline/errors.ts';
import { featureSizeOf } from '../../pipeline/dataset/feature-size.ts';
import { readDatasetFile } from '../../pipeline/dataset/read-dataset-file.ts';
import type { ShardTargets, StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { viewsOf } from '../../pipeline/store/soft-target-store.ts';
import { gatherViewParams, sliceViewParams } from '../../pipeline/augment/view-policy.ts';
import type { ChunkedSplit, FeatureValues, LoadedChunk, RowRange, SplitChunk } from './chunked-split.ts';

/** What the student stage needs of an opened soft-target store (pipeline/store/open-store.ts's OpenedStore has it). */
export interface TargetStoreView {
  encoding: StoreEncoding;
  shards(split: string): ReadonlyArray<{ index: number; rowStart: number; rowEnd: number }>;
  readShard(split: string, index: number): Promise<ShardTargets>;
}

/** Which dataset split to stream, and how. */
export interface DatasetSplitSourceOptions {
  /** Dataset directory. */
  dir: string;
  manifest: DatasetManifest;
  split: string;
  /** Feature column (a numeric scalar or fixed_size_list column). */
  feature: DatasetColumn;
  /** Label column. */
  label: DatasetColumn;
  /** The store to join, or null (hard-label baseline). */
  store: TargetStoreView | null;
  /** Use only the first N rows. Default all. */
  limitRows?: number;
  /** Read only these rows of the split, or all but these (a validation carve-out). Default every row. */
  rowSelection?: RowSelection;
  /** Decoded files (and shards) kept for reuse. Default 2. */
  cacheSize?: number;
}

/** A set of split rows to read (`only`) or to leave out (`except`): sorted, distinct row ids. */
export interface RowSelection {
  ids: Uint32Array;
  keep: 'only' | 'except';
}

/** Index of the first id >= row in sorted ids. */
function lowerBound(ids: Uint32Array, row: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The rows of [rowStart, rowEnd) a selection keeps, as offsets from rowStart. */
export function keptOffsets(sel: RowSelection, range: RowRange): Int32Array {
  const a = lowerBound(sel.ids, range.rowStart);
  const b = lowerBound(sel.ids, range.rowEnd);
  if (sel.keep === 'only') return Int32Array.from(sel.ids.subarray(a, b), (id) => id - range.rowStart);
  const out = new Int32Array(range.rowEnd - range.rowStart - (b - a));
  let j = a;
  let o = 0;
  for (let r = range.rowStart; r < range.rowEnd; r++) {
    if (j < b && sel.ids[j] === r) j++;
    else out[o++] = r - range.rowStart;
  }
  return out;
}

/** Copies rows `offsets` (each `width` values) of `src` into a new array of the same type. */
export function gatherRows<T extends FeatureValues | Int32Array | Float32Array | Uint32Array>(src: T, offsets: Int32Array, width: number): T {
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(offsets.length * width);
  offsets.forEach((r, i) => out.set(src.subarray(r * width, (r + 1) * width), i * width));
  return out;
}

/** The loaded chunk restricted to `offsets` (rows relative to its rowStart). */
function selectRows(chunk: LoadedChunk, offsets: Int32Array, featureSize: number, enc: StoreEncoding | null): LoadedChunk {
  const t = chunk.targets;
  let targets: ShardTargets | null = null;
  if (t && enc) {
    const v = viewsOf(enc);
    const base = { split: t.split, index: t.index, rowStart: t.rowStart, rowEnd: t.rowEnd, ...(t.viewParams ? { viewParams: gatherViewParams(t.viewParams, offsets, v) } : {}) };
    if (enc.mode === 'dense') targets = { ...base, logits: gatherRows(t.logits!, offsets, v * enc.classes) };
    else targets = { ...base, topkIndex: gatherRows(t.topkIndex!, offsets, v * enc.k!), topkLogit: gatherRows(t.topkLogit!, offsets, v * enc.k!), tailLogSumExp: gatherRows(t.tailLogSumExp!, offsets, v) };
  }
  return {
    rowStart: chunk.rowStart,
    rowEnd: chunk.rowEnd,
    rowIds: Int32Array.from(offsets, (r) => r + chunk.rowStart),
    features: gatherRows(chunk.features, offsets, featureSize),
    labels: gatherRows(chunk.labels, offsets, 1),
    targets,
  };
}

/** A tiny LRU of promises, so a file read by two neighbouring chunks is decoded once. */
export class PromiseCache<T> {
  private readonly map = new Map<string, Promise<T>>();
  constructor(private readonly size: number) {}
  get(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.map.get(key);
    if (p) {
      this.map.delete(key);
    } else {
      p = make();
      p.catch(() => this.map.delete(key));
    }
    this.map.set(key, p);
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
    return p;
  }
}

/** The values of a numeric or fixed_size_list column as one typed array (no copy for one chunk). */
function columnValues(vec: Vector, width: number, name: string): FeatureValues {
  const parts = vec.data.map((d: Data) => {
    const values = (DataType.isFixedSizeList(d.type) ? d.children[0]!.values : d.values) as FeatureValues;
    if (!ArrayBuffer.isView(values) || values instanceof BigInt64Array || values instanceof BigUint64Array) {
      throw new DataError(`${name}: column of type ${String(d.type)} cannot be a student input or label (need 8-32 bit integers or floats)`);
    }
    return values.subarray(0, d.length * width);
  });
  if (parts.length === 1) return parts[0]!;
  const Ctor = parts[0]!.constructor as new (n: number) => FeatureValues;
  const out = new Ctor(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface DecodedFile {
  rowStart: number;
  features: FeatureValues;
  labels: Int32Array;
}

/** The targets of rows `range` of a shard (a view store: their K views each, with their parameters). */
function sliceTargets(t: ShardTargets, range: RowRange, enc: StoreEncoding): ShardTargets {
  const v = viewsOf(enc);
  const a = (range.rowStart - t.rowStart) * v;
  const b = (range.rowEnd - t.rowStart) * v;
  const base = { split: t.split, index: t.index, rowStart: range.rowStart, rowEnd: range.rowEnd, ...(t.viewParams ? { viewParams: sliceViewParams(t.viewParams, a, b) } : {}) };
  if (enc.mode === 'dense') return { ...base, logits: t.logits!.subarray(a * enc.classes, b * enc.classes) };
  const k = enc.k!;
  return { ...base, topkIndex: t.topkIndex!.subarray(a * k, b * k), topkLogit: t.topkLogit!.subarray(a * k, b * k), tailLogSumExp: t.tailLogSumExp!.subarray(a, b) };
}

/**
 * A dataset split (plus, when given, the store's shards of the same split) as a {@link ChunkedSplit}.
 * Chunk boundaries are the union of the dataset files' and the store shards' boundaries, so each
 * chunk lies inside one file and one shard; a chunk load reads (or reuses, LRU of `cacheSize`) that
 * file and that shard and slices them.
 */
export function datasetSplitSource(opts: DatasetSplitSourceOptions): ChunkedSplit {
  const { dir, manifest, split, feature, label, store } = opts;
  const s = getSplit(manifest, split, dir);
  const limit = Math.min(opts.limitRows ?? s.rows, s.rows);
  const featureSize = featureSizeOf(feature);
  const cuts = new Set<number>([0, limit]);
  for (const f of s.files) if (f.rowStart < limit) cuts.add(f.rowStart);
  const shards = store ? store.shards(split) : [];
  for (const sh of shards) if (sh.rowStart < limit) cuts.add(sh.rowStart);
  const sorted = [...cuts].sort((a, b) => a - b);
  const sel = opts.rowSelection;
  const chunks: SplitChunk[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const range = { rowStart: sorted[i]!, rowEnd: sorted[i + 1]! };
    chunks.push(sel ? { ...range, rows: keptOffsets(sel, range).length } : range);
  }
  const cacheSize = opts.cacheSize ?? 2;
  const files = new PromiseCache<DecodedFile>(cacheSize);
  const shardCache = new PromiseCache<ShardTargets>(cacheSize);

  const readFile = async (file: DatasetFile): Promise<DecodedFile> => {
    const full = join(dir, file.path);
    const table: Table = await readDatasetFile(dir, file, manifest.columns);
    const fv = table.getChild(feature.name);
    const lv = table.getChild(label.name);
    if (!fv) throw new DataError(`${full}: has no feature column "${feature.name}"`);
    if (!lv) throw new DataError(`${full}: has no label column "${label.name}"`);
    const lab = columnValues(lv, 1, `${full} ${label.name}`);
    return { rowStart: file.rowStart, features: columnValues(fv, featureSize, `${full} ${feature.name}`), labels: lab instanceof Int32Array ? lab : Int32Array.from(lab) };
  };

  return {
    split,
    featureSize,
    encoding: store ? store.encoding : null,
    chunks,
    async load(i: number): Promise<LoadedChunk> {
      const range = chunks[i];
      if (!range) throw new RangeError(`chunk ${i} is outside 0..${chunks.length - 1}`);
      const file = s.files.find((f) => f.rowStart <= range.rowStart && range.rowEnd <= f.rowEnd);
      if (!file) throw new DataError(`${dir}: no file of split "${split}" holds rows ${range.rowStart}..${range.rowEnd - 1}`);
      const shard = store ? shards.find((sh) => sh.rowStart <= range.rowStart && range.rowEnd <= sh.rowEnd) : undefined;
      if (store && !shard) throw new DataError(`the store has no shard of split "${split}" holding rows ${range.rowStart}..${range.rowEnd - 1}`);
      const [data, targets] = await Promise.all([
        files.get(file.path, () => readFile(file)),
        shard ? shardCache.get(String(shard.index), () => store!.readShard(split, shard.index)) : Promise.resolve(null),
      ]);
      const a = range.rowStart - data.rowStart;
      const b = range.rowEnd - data.rowStart;
      const whole: LoadedChunk = {
        rowStart: range.rowStart,
        rowEnd: range.rowEnd,
        features: data.features.subarray(a * featureSize, b * featureSize),
        labels: data.labels.subarray(a, b),
        targets: targets ? sliceTargets(targets, range, store!.encoding) : null,
      };
      return sel ? selectRows(whole, keptOffsets(sel, range), featureSize, store ? store.encoding : null) : whole;
    },
  };
}
