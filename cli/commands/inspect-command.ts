import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args.ts';

interface InspectArgs extends GlobalArgs {
  store: string;
  rows: number;
  json: boolean;
}

/** `distill inspect <store>`: what a soft-target store holds. */
export const inspectCommand: CommandModule<GlobalArgs, InspectArgs> = {
  command: 'inspect <store>',
  describe: 'summarise a soft-target store: rows, classes, encoding, teacher, size, a few decoded rows',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('store', { type: 'string', demandOption: true, describe: 'store directory (holding manifest.json)' })
      .option('rows', { type: 'number', default: 3, describe: 'decoded rows to show per split' })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
      .example('$0 inspect artifacts/experiments/mnist-kd/store', 'what the demo store holds') as unknown as Argv<InspectArgs>,
  handler: async (args) => {
    const { UsageError } = await import('../../pipeline/errors.ts');
    if (!Number.isInteger(args.rows) || args.rows < 0) throw new UsageError(`--rows must be a non-negative integer, but got ${args.rows}`);
    const { formatStoreSummary, inspectStore } = await import('../../stages/teacher-logits/inspect-store.ts');
    const summary = await inspectStore(args.store, args.rows);
    if (args.json) {
      const { manifest, ...rest } = summary;
      process.stdout.write(JSON.stringify({ ...rest, encoding: manifest.encoding, teacher: { name: manifest.teacher.card.name, sha256: manifest.teacher.sha256 } }, null, 2) + '\n');
    } else {
      process.stdout.write(formatStoreSummary(summary));
    }
  },
};
