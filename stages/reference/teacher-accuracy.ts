import { columnsWithRole, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import { DataError } from '../../pipeline/errors.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import { viewsOf } from '../../pipeline/store/soft-target-store.ts';

/** The teacher's accuracy on a split, read back from its soft-target store. */
export interface TeacherAccuracy {
  split: string;
  rows: number;
  errors: number;
  accuracy: number;
}

/**
 * The teacher's top-1 accuracy on `split`, computed from the cached soft targets and the dataset's
 * labels: the teacher is not run again. Top-1 is the argmax of the dense logits (ties to the lower
 * class) or the first top-k index (sorted by descending logit, ties to the lower class); of view 0
 * (the unaugmented input) in a view store.
 */
export async function teacherAccuracy(storeDir: string, datasetDir: string, split: string): Promise<TeacherAccuracy> {
  const store = await openStore(storeDir);
  const dataset = await readDatasetManifest(datasetDir);
  const label = columnsWithRole(dataset, 'label')[0];
  if (!label) throw new DataError(`${datasetDir}: the dataset has no label column; the teacher's accuracy needs one`);
  const reader = new SplitReader(datasetDir, dataset, split);
  const classes = store.encoding.classes;
  const views = viewsOf(store.encoding);
  let rows = 0;
  let errors = 0;
  for (const shard of store.shards(split)) {
    const targets = await store.readShard(split, shard.index);
    const labels = columnValues((await reader.readRows(shard.rowStart, shard.rowEnd)).getChild(label.name)!, 1);
    const n = shard.rowEnd - shard.rowStart;
    for (let r = 0; r < n; r++) {
      const at = r * views;
      let top: number;
      if (targets.logits) {
        top = 0;
        for (let c = 1; c < classes; c++) if (targets.logits[at * classes + c]! > targets.logits[at * classes + top]!) top = c;
      } else {
        top = targets.topkIndex![at * store.encoding.k!]!;
      }
      if (top !== Number(labels[r])) errors++;
    }
    rows += n;
  }
  return { split, rows, errors, accuracy: rows > 0 ? 1 - errors / rows : 0 };
}
