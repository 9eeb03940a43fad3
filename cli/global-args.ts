import type { Options } from 'yargs';

/** Options every command accepts. */
export interface GlobalArgs {
  /** Experiment config file (artifacts/experiments/<name>/experiment.json). */
  config?: string;
  /** Config field overrides, `field.path=value`, repeatable. */
  set?: string[];
  /** Print stack traces of errors. */
  verbose: boolean;
  /** text or json; default json when stdout is not a TTY. */
  logFormat?: 'text' | 'json';
}

/** yargs definitions of {@link GlobalArgs}. */
export const globalOptions: Record<string, Options> = {
  config: { alias: 'c', type: 'string', describe: 'experiment config file, e.g. artifacts/experiments/mnist-kd/experiment.json', global: true },
  set: { type: 'string', array: true, describe: 'override one config field: --set train.epochs=3 (repeatable; values parse as JSON when they can)', global: true },
  verbose: { alias: 'v', type: 'boolean', default: false, describe: 'show stack traces of errors', global: true },
  'log-format': { choices: ['text', 'json'] as const, describe: 'log format (default: text on a terminal, JSON lines when stdout is not a TTY)', global: true },
};
