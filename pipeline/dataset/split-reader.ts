import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { DataError } from '../errors.ts';
import type { DatasetFile, DatasetManifest } from './dataset-manifest.ts';
import { getSplit } from './dataset-manifest.ts';
import { readDatasetFile } from './read-dataset-file.ts';

/**
 * Reads row ranges of one dataset split, one file at a time: memory holds at most the files that
 * overlap the requested range (the last one is kept for the next call). Row ranges are global
 * (the `row` values), files are located through the manifest's row ranges.
 */
export class SplitReader {
  private readonly files: DatasetFile[];
  private readonly columns: DatasetManifest['columns'];
  private cached: { file: DatasetFile; table: Table } | undefined;

  constructor(
    private readonly dir: string,
    manifest: DatasetManifest,
    readonly split: string,
  ) {
    this.files = getSplit(manifest, split, join(dir, 'manifest.json')).files;
    this.columns = manifest.columns;
  }

  private async load(file: DatasetFile): Promise<Table> {
    if (this.cached?.file === file) return this.cached.table;
    const table = await readDatasetFile(this.dir, file, this.columns);
    this.cached = { file, table };
    return table;
  }

  /** The rows [start, end) as one table (chunked when they span files). */
  async readRows(start: number, end: number): Promise<Table> {
    let out: Table | undefined;
    for (const f of this.files) {
      if (f.rowEnd <= start || f.rowStart >= end) continue;
      const t = await this.load(f);
      const part = t.slice(Math.max(start, f.rowStart) - f.rowStart, Math.min(end, f.rowEnd) - f.rowStart);
      out = out ? out.concat(part) : part;
    }
    if (!out || out.numRows !== end - start) {
      throw new DataError(`dataset ${this.dir}: split "${this.split}" does not cover rows ${start}..${end - 1}`);
    }
    return out;
  }
}
