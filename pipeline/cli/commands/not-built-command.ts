import type { CommandModule } from 'yargs';
import { NotBuiltError } from '../../errors.ts';
import type { GlobalArgs } from '../global-args.ts';

/**
 * A command for a stage that is planned but not built yet: it is listed in --help so the pipeline's
 * shape is visible, and running it says so and exits 1. It never pretends to work.
 */
export function notBuiltCommand(command: string, describe: string, issue: string): CommandModule<GlobalArgs, GlobalArgs> {
  const name = command.split(' ')[0]!;
  return {
    command,
    describe: `${describe} [not built yet: ${issue}]`,
    handler: () => {
      throw new NotBuiltError(name, issue);
    },
  };
}
