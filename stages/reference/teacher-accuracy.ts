import { columnsWithRole, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import { DataError } from '../../pipeline/errors.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import type { OpenedStore } from '../../pipeline/store/open-store.ts';
import type { ShardTargets, StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import { viewsOf } from '../../pipeline/store/soft-target-store.ts';

/** The teacher's accuracy on a split, read back from its soft-target store. */
export interface TeacherAccuracy {
  split: string;
  rows: number;
  errors: number;
  accuracy: number;
}

/** The teacher's top-1 class at flattened store row `i` (a row, or a row's position): dense argmax, top-k first index, sampled most drawn id. */
function top1(t: ShardTargets, enc: StoreEncoding, i: number): number {
  const c = enc.classes;
  if (t.logits) {
    let top = 0;
    for (let k = 1; k < c; k++) if (t.logits[i * c + k]! > t.logits[i * c + top]!) top = k;
    return top;
  }
  if (t.topkIndex) return t.topkIndex[i * enc.k!]!;
  const m = enc.slots!;
  let best = 0;
  for (let s = 1; s < m; s++) if (t.sampleCount![i * m + s]! > t.sampleCount![i * m + best]!) best = s;
  return t.sampleIndex![i * m + best]!;
}

/**
 * A per-position store: the teacher's top-1 against each labelled target position (the position
 * label for token classification, the next token for a causal LM); `rows` counts those positions.
 */
async function perPositionAccuracy(store: OpenedStore, datasetDir: string, dataset: DatasetManifest, split: string): Promise<TeacherAccuracy> {
  const enc = store.encoding;
  const p = enc.positions!;
  const l = dataset.sequence?.context ?? p;
  const next = enc.target === 'next-token';
  const column = next ? columnsWithRole(dataset, 'feature').find((c) => c.kind === 'tokens') ?? columnsWithRole(dataset, 'feature')[0] : columnsWithRole(dataset, 'label')[0];
  if (!column) throw new DataError(`${datasetDir}: no ${next ? 'token' : 'label'} column to score the teacher against`);
  const mask = columnsWithRole(dataset, 'mask')[0];
  const reader = new SplitReader(datasetDir, dataset, split);
  let rows = 0;
  let errors = 0;
  for (const shard of store.shards(split)) {
    const t = await store.readShard(split, shard.index);
    const table = await reader.readRows(shard.rowStart, shard.rowEnd);
    const values = columnValues(table.getChild(column.name)!, l);
    const m = mask ? columnValues(table.getChild(mask.name)!, l) : null;
    for (let r = 0; r < shard.rowEnd - shard.rowStart; r++) {
      for (let pos = 0; pos < p; pos++) {
        const at = r * l + (next ? pos + 1 : pos);
        const label = Number(values[at]);
        if ((m && Number(m[at]) === 0) || label < 0) continue;
        rows++;
        if (top1(t, enc, r * p + pos) !== label) errors++;
      }
    }
  }
  return { split, rows, errors, accuracy: rows > 0 ? 1 - errors / rows : 0 };
}

/**
 * The teacher's top-1 accuracy on `split`, computed from the cached soft targets and the dataset's
 * labels (per-position stores: each labelled target position): the teacher is not run again. Top-1 is
 * the argmax of the dense logits (ties to the lower class), the first top-k index (sorted by descending
 * logit, ties to the lower class) or the most drawn sampled id; of view 0 (the unaugmented input) in a view store.
 */
export async function teacherAccuracy(storeDir: string, datasetDir: string, split: string): Promise<TeacherAccuracy> {
  const store = await openStore(storeDir);
  const dataset = await readDatasetManifest(datasetDir);
  if (store.encoding.positions !== undefined) return perPositionAccuracy(store, datasetDir, dataset, split);
  const label = columnsWithRole(dataset, 'label')[0];
  if (!label) throw new DataError(`${datasetDir}: the dataset has no label column; the teacher's accuracy needs one`);
  const reader = new SplitReader(datasetDir, dataset, split);
  const views = viewsOf(store.encoding);
  let rows = 0;
  let errors = 0;
  for (const shard of store.shards(split)) {
    const targets = await store.readShard(split, shard.index);
    const labels = columnValues((await reader.readRows(shard.rowStart, shard.rowEnd)).getChild(label.name)!, 1);
    const n = shard.rowEnd - shard.rowStart;
    for (let r = 0; r < n; r++) {
      if (top1(targets, store.encoding, r * views) !== Number(labels[r])) errors++;
    }
    rows += n;
  }
  return { split, rows, errors, accuracy: rows > 0 ? 1 - errors / rows : 0 };
}
