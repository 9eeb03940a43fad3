import type { Argv, CommandModule } from 'yargs';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface EvaluateArgs extends GlobalArgs {
  limitRows?: number;
  baseline?: string;
  force: boolean;
}

/** `distill evaluate -c <experiment>`: the report of what the student kept, lost and bought. */
export const evaluateCommand: CommandModule<GlobalArgs, EvaluateArgs> = {
  command: 'evaluate',
  describe: 'report what the student kept and lost: agreement, calibration, slices, robustness, cascade, speed',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('limit-rows', { type: 'number', describe: 'evaluate on the first N eval rows only (overrides evaluate.limitRows)' })
      .option('baseline', { type: 'string', describe: 'run folder of a hard-label baseline student (overrides evaluate.baselineRun)' })
      .option('force', { type: 'boolean', default: false, describe: 're-evaluate even when the report is up to date (same config, inputs and code)' })
      .example('$0 evaluate -c artifacts/experiments/mnist-kd/experiment.json', 'write <train.run>/report/{metrics.json,report.md,report.html}')
      .example('$0 evaluate -c artifacts/experiments/mnist-kd/experiment.json --set evaluate.severities=[1,3,5]', 'a lighter corruption suite') as unknown as Argv<EvaluateArgs>,
  handler: async (args) => {
    const { UsageError } = await import('../../pipeline/errors.ts');
    if (args.limitRows !== undefined && (!Number.isInteger(args.limitRows) || args.limitRows < 1)) {
      throw new UsageError(`--limit-rows must be a positive integer, but got ${args.limitRows}`);
    }
    const ctx = commandContext(args);
    const extra = [...(args.limitRows !== undefined ? [`evaluate.limitRows=${args.limitRows}`] : []), ...(args.baseline !== undefined ? [`evaluate.baselineRun=${args.baseline}`] : [])];
    const exp = await ctx.experiment(extra);
    const { runEvaluate } = await import('../../stages/evaluate/run-evaluate.ts');
    await runEvaluate(exp, { force: args.force }, ctx.reporter);
  },
};
