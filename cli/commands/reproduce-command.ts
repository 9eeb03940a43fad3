import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../pipeline/errors.ts';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface ReproduceArgs extends GlobalArgs {
  experiment: string;
  stages?: string;
  runs?: string;
  out?: string;
  backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
}

const STAGES = ['teacher-logits', 'train-student'] as const;

/** `distill reproduce <experiment>`: re-run the recorded stages into a scratch folder and compare. */
export const reproduceCommand: CommandModule<GlobalArgs, ReproduceArgs> = {
  command: 'reproduce <experiment>',
  describe: 're-run a recorded experiment from its resolved configs into a scratch folder and compare shards and metrics (exit 1 on divergence)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('experiment', { type: 'string', demandOption: true, describe: 'experiment directory (its *.json configs) or one config file' })
      .option('stages', { type: 'string', describe: `comma-separated stages to re-run (default: ${STAGES.join(',')}); train-student alone reads the recorded stores` })
      .option('runs', { type: 'string', describe: 'comma-separated runs to re-train, by the last folder of train.run (default: all), e.g. distilled' })
      .option('out', { type: 'string', describe: 'scratch folder, new or empty (default .scratch/reproduce/<experiment>-<time>)' })
      .option('backend', { choices: ['auto', 'tensorflow', 'wasm', 'cpu'] as const, describe: "tfjs backend (default: the recorded run's)" })
      .example('$0 reproduce artifacts/experiments/mnist-kd', 'everything: the stores and every run')
      .example('$0 reproduce artifacts/experiments/mnist-kd --stages train-student --runs distilled', 'one run, from the recorded store') as unknown as Argv<ReproduceArgs>,
  handler: async (args) => {
    const stages = args.stages?.split(',').map((s) => s.trim());
    const bad = stages?.filter((s) => !(STAGES as readonly string[]).includes(s)) ?? [];
    if (bad.length > 0 || stages?.length === 0) throw new UsageError(`--stages must be a comma-separated list of ${STAGES.join(', ')}, but got ${JSON.stringify(args.stages)}`);
    const ctx = commandContext(args);
    const { runReproduce } = await import('../../stages/reproduce/run-reproduce.ts');
    const { formatComparisonTable } = await import('../../stages/reproduce/comparison-table.ts');
    const { IntegrityError } = await import('../../pipeline/errors.ts');
    const result = await runReproduce(
      args.experiment,
      {
        ...(stages ? { stages: stages as (typeof STAGES)[number][] } : {}),
        ...(args.runs ? { runs: args.runs.split(',').map((s) => s.trim()) } : {}),
        ...(args.out ? { out: args.out } : {}),
        ...(args.backend ? { backend: args.backend } : {}),
      },
      ctx.reporter,
    );
    process.stdout.write(formatComparisonTable(result.rows) + '\n');
    if (result.diverged > 0) throw new IntegrityError(`reproduce: ${result.diverged} of ${result.rows.length} comparisons diverged (table above; outputs kept in ${result.scratch})`);
  },
};
