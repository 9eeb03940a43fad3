import type { CommandModule } from 'yargs';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

/** `distill config`: validate an experiment config and print it resolved (file + overrides + defaults). */
export const configCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'config',
  describe: 'validate an experiment config and print it resolved (file, then --set overrides, then defaults)',
  builder: (y) =>
    y
      .example('$0 config -c artifacts/experiments/mnist-kd/experiment.json', 'show what a run of this experiment will use')
      .example('$0 config -c artifacts/experiments/mnist-kd/experiment.json --set train.epochs=1', 'check an override'),
  handler: async (args) => {
    const { resolvedConfigRecord } = await import('../../pipeline/config/load-experiment.ts');
    const exp = await commandContext(args).experiment();
    process.stdout.write(JSON.stringify(resolvedConfigRecord(exp), null, 2) + '\n');
  },
};
