import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { atomicWrite } from '../io/atomic-write.ts';
import { sha256Bytes } from '../io/sha256.ts';
import { encodeTable } from '../io/table-files.ts';
import type { TableFormat } from '../io/table-files.ts';
import type { Reporter } from '../reporter.ts';
import type { DatasetManifest, DatasetTask, DatasetTokenizer } from './dataset-manifest.ts';
import { indexDataset } from './index-dataset.ts';
import { tokenTable } from './token-table.ts';
import type { TokenRow } from './token-table.ts';

/** The tokenizer file to copy into the dataset, and what the manifest says about it. */
export interface TokenizerFile {
  kind: DatasetTokenizer['kind'];
  /** File name inside the dataset directory, e.g. tokenizer.json or vocab.json. */
  fileName: string;
  /** The file's exact bytes (its sha256 is what teacher cards compare). */
  bytes: Uint8Array;
  vocabSize: number;
  normalization?: string;
}

/** Everything a token dataset is built from; rows are already windowed (at most `context` tokens each). */
export interface TokenDatasetSpec {
  name: string;
  task: DatasetTask;
  context: number;
  stride: number;
  tokenizer: TokenizerFile;
  /** Rows per split, in row order. Split order = manifest order. */
  splits: Record<string, readonly TokenRow[]>;
  /** Class count of `labels`/`label` (token-classification, classification). */
  classes?: number;
  /** Documents per split after deduplication. */
  documents?: Record<string, number>;
  duplicatesRemoved?: number;
  /** Free-form provenance (manifest.source); equal sources mean equal datasets. */
  source?: Record<string, unknown>;
  /** Rows per file. Default 10,000. */
  rowsPerFile?: number;
  /** Default parquet. */
  format?: TableFormat;
  /** Padding id in input_ids. Default 0. */
  padId?: number;
}

function lengthStats(splits: Record<string, readonly TokenRow[]>): { min: number; mean: number; max: number } {
  let min = Infinity;
  let max = 0;
  let sum = 0;
  let n = 0;
  for (const rows of Object.values(splits)) {
    for (const r of rows) {
      const l = r.inputIds.length;
      min = Math.min(min, l);
      max = Math.max(max, l);
      sum += l;
      n++;
    }
  }
  return { min: n ? min : 0, mean: n ? sum / n : 0, max };
}

/**
 * Writes a complete token dataset into `dir` (normally a staging folder, see publishDataset):
 * the tokenizer file, `<split>/part-NNNNN.parquet` per `rowsPerFile` rows (tokenTable columns), and
 * the manifest through indexDataset (sha256, fingerprints, id range against vocabSize, label range)
 * with task, tokenizer and sequence recorded. This is the shared back end of `distill data text` and
 * of experiment data builders, which only produce the rows.
 *
 * @example
 * await writeTokenDataset(staging, { name: 'brown', task: 'causal-lm', context: 128, stride: 128,
 *   tokenizer: { kind: 'hf', fileName: 'tokenizer.json', bytes, vocabSize: 2000 }, splits: { train, test } }, reporter);
 */
export async function writeTokenDataset(dir: string, spec: TokenDatasetSpec, reporter: Reporter): Promise<DatasetManifest> {
  const format = spec.format ?? 'parquet';
  const rowsPerFile = spec.rowsPerFile ?? 10000;
  const tokenizerSha = sha256Bytes(spec.tokenizer.bytes);
  await atomicWrite(join(dir, spec.tokenizer.fileName), spec.tokenizer.bytes);
  const first = Object.values(spec.splits).find((r) => r.length > 0)?.[0];
  if (!first) throw new DataError(`dataset ${spec.name}: every split is empty (no windows to write)`);
  for (const [split, rows] of Object.entries(spec.splits)) {
    if (rows.length === 0) throw new DataError(`dataset ${spec.name}: split "${split}" has no rows (too few documents or all of them too short)`);
    const progress = reporter.progress(`write ${split}`, rows.length, 'rows');
    for (let start = 0, part = 0; start < rows.length; start += rowsPerFile, part++) {
      const end = Math.min(rows.length, start + rowsPerFile);
      const table = tokenTable(rows.slice(start, end), start, spec.context, spec.padId ?? 0);
      await atomicWrite(join(dir, split, `part-${String(part).padStart(5, '0')}.${format}`), encodeTable(table, format));
      progress.tick(end - start);
    }
    progress.done();
  }
  const labelled = first.labels ? 'labels' : first.label !== undefined ? 'label' : null;
  if (labelled && spec.classes === undefined) throw new DataError(`dataset ${spec.name}: rows have ${labelled} but no class count was given`);
  return indexDataset(
    dir,
    {
      name: spec.name,
      label: labelled,
      ...(spec.classes !== undefined ? { classes: spec.classes } : {}),
      features: ['input_ids'],
      roles: { attention_mask: 'mask', length: 'length' },
      slices: [...Object.keys(first.positionSlices ?? {}), ...Object.keys(first.slices ?? {})],
      vocabSizes: { input_ids: spec.tokenizer.vocabSize },
      ...(spec.source ? { source: spec.source } : {}),
      extra: {
        task: spec.task,
        tokenizer: {
          kind: spec.tokenizer.kind,
          file: spec.tokenizer.fileName,
          sha256: tokenizerSha,
          vocabSize: spec.tokenizer.vocabSize,
          ...(spec.tokenizer.normalization ? { normalization: spec.tokenizer.normalization } : {}),
        },
        sequence: {
          context: spec.context,
          stride: spec.stride,
          lengths: lengthStats(spec.splits),
          ...(spec.documents ? { documents: spec.documents } : {}),
          ...(spec.duplicatesRemoved !== undefined ? { duplicatesRemoved: spec.duplicatesRemoved } : {}),
        },
      },
    },
    reporter,
  );
}
