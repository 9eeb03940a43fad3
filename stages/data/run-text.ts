import { join } from 'node:path';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import { atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import { readJsonFileOrThrow } from '../../pipeline/io/read-json.ts';
import { sha256File } from '../../pipeline/io/sha256.ts';
import type { TableFormat } from '../../pipeline/io/table-files.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { DatasetManifest, DatasetTask } from '../../pipeline/dataset/dataset-manifest.ts';
import { publishDataset } from '../../pipeline/dataset/publish-dataset.ts';
import { removeCrossSplitDuplicates, splitDocuments, textKey } from '../../pipeline/dataset/split-documents.ts';
import type { SplitFractions, TextDocument } from '../../pipeline/dataset/split-documents.ts';
import { buildCharTokenizer, loadCharTokenizer, loadHfTokenizer } from '../../pipeline/dataset/text-tokenizer.ts';
import type { TextTokenizer } from '../../pipeline/dataset/text-tokenizer.ts';
import { windowDocuments } from '../../pipeline/dataset/window-documents.ts';
import { writeTokenDataset } from '../../pipeline/dataset/write-token-dataset.ts';
import { readTextDocuments } from './read-text-documents.ts';
import type { TextFields } from './read-text-documents.ts';

/** Options of `distill data text`. */
export interface TextDataOptions {
  /** A .txt/.jsonl/.parquet file or a directory of them. */
  input: string;
  /** Output dataset directory. */
  out: string;
  /** Dataset name. Default "text". */
  name?: string;
  /** "char" (built from the train split), a Hugging Face tokenizer.json, or a char-vocab JSON file. Default "char". */
  tokenizer?: string;
  /** Context L, tokens per row. */
  context: number;
  /** Default = context (no overlap). */
  stride?: number;
  /** Split seed. Default 1. */
  seed?: number;
  /** Default { train: 0.8, validation: 0.1, test: 0.1 }. */
  fractions?: SplitFractions;
  /** A JSON file {"splits": {"train": [ids], ...}} fixing the split instead of seed and fractions. */
  splitFile?: string;
  fields?: TextFields;
  /** Class count (classification / token-classification). Default max label + 1. */
  classes?: number;
  /** Rows per file. Default 10,000. */
  rowsPerFile?: number;
  format?: TableFormat;
  force?: boolean;
}

async function inputHashes(docs: readonly TextDocument[]): Promise<{ file: string; sha256: string }[]> {
  const files = [...new Set(docs.map((d) => d.where.replace(/ (line|row) \d+$/, '')))];
  return Promise.all(files.map(async (file) => ({ file, sha256: await sha256File(file) })));
}

async function assignSplits(docs: readonly TextDocument[], opts: TextDataOptions): Promise<Record<string, TextDocument[]>> {
  const byId = new Map(docs.map((d) => [d.id, d]));
  let ids: Record<string, string[]>;
  if (opts.splitFile) {
    const { value } = await readJsonFileOrThrow(opts.splitFile);
    const splits = (value as { splits?: Record<string, string[]> }).splits;
    if (!splits || typeof splits !== 'object') throw new DataError(`${opts.splitFile}: expected {"splits": {"train": [document ids], ...}}`);
    for (const [s, list] of Object.entries(splits)) {
      const missing = list.find((id) => !byId.has(id));
      if (missing !== undefined) throw new DataError(`${opts.splitFile}: split "${s}" names document "${missing}", which is not in the input`);
    }
    ids = Object.fromEntries(Object.entries(splits).map(([s, list]) => [s, [...list].sort()]));
  } else {
    ids = splitDocuments([...byId.keys()], opts.seed ?? 1, opts.fractions ?? { train: 0.8, validation: 0.1, test: 0.1 });
  }
  return Object.fromEntries(Object.entries(ids).map(([s, list]) => [s, list.map((id) => byId.get(id)!)]));
}

function taskOf(fields: TextFields): DatasetTask {
  if (fields.labels) return 'token-classification';
  return fields.label ? 'classification' : 'causal-lm';
}

/**
 * The `data text` stage: reads documents (plain text, JSON lines, Parquet), splits them by document
 * (seeded fractions or a split file), removes exact duplicates across splits (sha256 of the NFC
 * text; counted), tokenizes (built-in char vocabulary from the train split, or a tokenizer file),
 * cuts each document into windows of `context` tokens with `stride`, and writes the token dataset
 * (COMMON.md columns) through writeTokenDataset, in a staging folder moved into place.
 * Idempotent like `data mnist`: the same inputs and options leave an intact dataset untouched.
 *
 * @example
 * await runTextData({ input: 'corpus/', out: 'artifacts/data/corpus', context: 128 }, reporter);
 */
export async function runTextData(opts: TextDataOptions, reporter: Reporter): Promise<{ manifest: DatasetManifest; changed: boolean }> {
  const fields = opts.fields ?? {};
  const task = taskOf(fields);
  const stride = opts.stride ?? opts.context;
  const tokenizerArg = opts.tokenizer ?? 'char';
  if (task === 'token-classification' && tokenizerArg !== 'char' && !tokenizerArg.endsWith('vocab.json')) {
    throw new ConfigError('per-character labels (--labels-field) need the char tokenizer: with a subword tokenizer labels do not line up with tokens');
  }
  const docs = await readTextDocuments(opts.input, fields);
  const source = {
    kind: 'text',
    inputs: await inputHashes(docs),
    tokenizer: tokenizerArg === 'char' ? 'char' : { file: tokenizerArg, sha256: await sha256File(tokenizerArg) },
    split: opts.splitFile ? { file: opts.splitFile, sha256: await sha256File(opts.splitFile) } : { seed: opts.seed ?? 1, fractions: opts.fractions ?? { train: 0.8, validation: 0.1, test: 0.1 } },
    fields,
    context: opts.context,
    stride,
    classes: opts.classes ?? null,
    format: opts.format ?? 'parquet',
    rowsPerFile: opts.rowsPerFile ?? 10000,
  };
  const { manifest, changed } = await publishDataset(
    { out: opts.out, source, force: opts.force, purpose: 'distill data text' },
    (staging) => build(staging, docs, task, source, opts, reporter),
    reporter,
  );
  if (changed) reporter.info(`wrote ${opts.out}: ${Object.entries(manifest.splits).map(([k, v]) => `${k} ${v.rows} rows`).join(', ')} (${task}, context ${opts.context})`);
  return { manifest, changed };
}

async function build(staging: string, docs: TextDocument[], task: DatasetTask, source: Record<string, unknown>, opts: TextDataOptions, reporter: Reporter): Promise<DatasetManifest> {
  const { kept, removed } = removeCrossSplitDuplicates(await assignSplits(docs, opts), (d) => textKey(d.text));
  if (removed.length > 0) reporter.info(`removed ${removed.length} documents whose text is also in an earlier split`, { removed: removed.slice(0, 20) });
  const train = kept[Object.keys(kept)[0]!]!;
  const tokenizerArg = opts.tokenizer ?? 'char';
  let tokenizer: TextTokenizer;
  if (tokenizerArg === 'char') {
    const built = buildCharTokenizer(train.map((d) => d.text));
    await atomicWriteJson(join(staging, 'vocab-counts.json'), { basis: `split ${Object.keys(kept)[0]}`, symbols: built.encoder.vocabulary.symbols, counts: built.counts });
    tokenizer = built;
  } else {
    tokenizer = tokenizerArg.endsWith('vocab.json') ? await loadCharTokenizer(tokenizerArg) : await loadHfTokenizer(tokenizerArg);
  }
  const order = [...docs.map((d) => d.id)].sort();
  const documentIndex = new Map(order.map((id, i) => [id, i]));
  const splits = Object.fromEntries(
    Object.entries(kept).map(([s, list]) => [s, windowDocuments(list, tokenizer, { context: opts.context, stride: opts.stride ?? opts.context, minTokens: task === 'causal-lm' ? 2 : 1 }, documentIndex)]),
  );
  const classes = task === 'causal-lm' ? undefined : (opts.classes ?? 1 + Math.max(1, ...docs.flatMap((d) => d.labels ?? [d.label ?? 0])));
  return writeTokenDataset(
    staging,
    {
      name: opts.name ?? 'text',
      task,
      context: opts.context,
      stride: opts.stride ?? opts.context,
      tokenizer: tokenizer.file,
      splits,
      ...(classes !== undefined ? { classes } : {}),
      documents: Object.fromEntries(Object.entries(kept).map(([s, l]) => [s, l.length])),
      duplicatesRemoved: removed.length,
      source,
      rowsPerFile: opts.rowsPerFile,
      format: opts.format,
    },
    reporter,
  );
}
