import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../pipeline/errors.ts';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface ReferenceArgs extends GlobalArgs {
  dir: string;
  seeds: string;
  variants?: string;
  jobs: number;
}

function parseList(flag: string, value: string, integer: boolean): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0 || (integer && items.some((s) => !/^\d+$/.test(s)))) {
    throw new UsageError(`${flag} must be a comma-separated list${integer ? ' of non-negative integers' : ''}, but got ${JSON.stringify(value)}`);
  }
  return items;
}

/** `distill reference <experiment-dir>`: every variant over several seeds -> reference-metrics.json. */
export const referenceCommand: CommandModule<GlobalArgs, ReferenceArgs> = {
  command: 'reference <dir>',
  describe: "train every variant of an experiment over several seeds and record the results (mean and spread) in its reference-metrics.json",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'experiment directory (experiment.json and variants such as hard-label.json)' })
      .option('seeds', { type: 'string', default: '1,2,3', describe: 'comma-separated seeds' })
      .option('variants', { type: 'string', describe: 'comma-separated variant names (the train.run folder names); default all. A subset is merged into the recorded reference-metrics.json (same seeds and teacher): the other variants keep their results' })
      .option('jobs', { type: 'number', default: 1, describe: 'trainings run at once (each uses one core on the wasm backend)' })
      .example('$0 reference artifacts/experiments/mnist-kd --jobs 2', "the demo's reference table (3 seeds x 3 variants)") as unknown as Argv<ReferenceArgs>,
  handler: async (args) => {
    if (!Number.isInteger(args.jobs) || args.jobs < 1) throw new UsageError(`--jobs must be a positive integer, but got ${args.jobs}`);
    const seeds = parseList('--seeds', args.seeds, true).map(Number);
    const variants = args.variants ? parseList('--variants', args.variants, false) : undefined;
    const ctx = commandContext(args);
    const { runReference, referenceTable, REFERENCE_METRICS } = await import('../../stages/reference/run-reference.ts');
    const metrics = await runReference({ dir: args.dir, seeds, jobs: args.jobs, ...(variants ? { variants } : {}) }, ctx.reporter);
    ctx.reporter.info(`wrote ${args.dir}/${REFERENCE_METRICS}\n${referenceTable(metrics)}`, { comparisons: metrics.comparisons });
  },
};
