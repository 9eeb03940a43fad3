import { ConfigError } from '../pipeline/errors.ts';
import type { LoadedExperiment } from '../pipeline/config/load-experiment.ts';
import type { Reporter } from '../pipeline/reporter.ts';
import { ConsoleReporter } from './console-reporter.ts';
import type { GlobalArgs } from './global-args.ts';

/** What a command handler gets besides its own arguments. */
export interface CommandContext {
  reporter: Reporter;
  /** Loads the experiment named by --config with the --set overrides (and any extra overrides). */
  experiment(extraOverrides?: string[]): Promise<LoadedExperiment>;
}

/** Builds the context from the global arguments. */
export function commandContext(args: GlobalArgs): CommandContext {
  const format = args.logFormat ?? (process.stdout.isTTY ? 'text' : 'json');
  return {
    reporter: new ConsoleReporter(format),
    experiment: async (extra = []) => {
      if (!args.config) throw new ConfigError('this command needs an experiment config: --config artifacts/experiments/<name>/experiment.json');
      const { loadExperiment } = await import('../pipeline/config/load-experiment.ts');
      return loadExperiment(args.config, [...(args.set ?? []), ...extra]);
    },
  };
}
