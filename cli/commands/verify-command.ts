import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args.ts';

interface VerifyArgs extends GlobalArgs {
  path: string;
  json: boolean;
}

/** `distill verify <path>`: check a store, run, dataset or experiment against its manifests; exit 1 listing every problem. */
export const verifyCommand: CommandModule<GlobalArgs, VerifyArgs> = {
  command: 'verify <path>',
  describe: 'check a store, run, dataset or experiment against its manifests (schemas, row coverage, sha256, fingerprints); lists every problem',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'a store, run or dataset directory, an experiment directory or config file' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON (still exits 1 on problems)' })
      .example('$0 verify artifacts/experiments/mnist-kd', 'the dataset, store and runs of the demo experiment')
      .example('$0 verify artifacts/experiments/mnist-kd/store', 'one soft-target store') as unknown as Argv<VerifyArgs>,
  handler: async (args) => {
    const { verifyPath } = await import('../../stages/verify/verify-path.ts');
    const { formatVerifyReport } = await import('../../stages/verify/verify-report.ts');
    const { IntegrityError } = await import('../../pipeline/errors.ts');
    const report = await verifyPath(args.path);
    if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else if (report.problems.length === 0) process.stdout.write(formatVerifyReport(report) + '\n');
    if (report.problems.length > 0) throw new IntegrityError(formatVerifyReport(report));
  },
};
