/**
 * The `distill` command line. Commands are thin: each lives in its own file under commands/ and
 * imports its stage (and with it onnxruntime or tfjs) only when it runs, so `distill --help` is fast.
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../pipeline/errors.ts';
import { configCommand } from './commands/config-command.ts';
import { dataCommand } from './commands/data-command.ts';
import { evaluateCommand } from './commands/evaluate-command.ts';
import { exportCommand } from './commands/export-command.ts';
import { finalizeCommand } from './commands/finalize-command.ts';
import { inspectCommand } from './commands/inspect-command.ts';
import { referenceCommand } from './commands/reference-command.ts';
import { reproduceCommand } from './commands/reproduce-command.ts';
import { teacherLogitsCommand } from './commands/teacher-logits-command.ts';
import { trainStudentCommand } from './commands/train-student-command.ts';
import { verifyCommand } from './commands/verify-command.ts';
import { globalOptions } from './global-args.ts';
import type { GlobalArgs } from './global-args.ts';
import { exitCodeOf, formatError } from './handle-errors.ts';

const argv = hideBin(process.argv);
const verbose = argv.includes('--verbose') || argv.includes('-v');

const base = yargs(argv)
  .scriptName('distill')
  .usage('$0 <command> [options]\n\nOffline knowledge distillation with cached teacher logits: run an ONNX teacher once,\nstore its soft targets as Arrow/Parquet shards, train a TensorFlow.js student from them.')
  .options(globalOptions) as unknown as Argv<GlobalArgs>;

const cli = base
  .command(dataCommand)
  .command(configCommand)
  .command(teacherLogitsCommand)
  .command(inspectCommand)
  .command(trainStudentCommand)
  .command(evaluateCommand)
  .command(exportCommand)
  .command(referenceCommand)
  .command(verifyCommand)
  .command(reproduceCommand)
  .command(finalizeCommand)
  .demandCommand(1, 'choose a command (see --help)')
  .strict()
  .recommendCommands()
  .help()
  .alias('help', 'h')
  .version()
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .epilog('Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.\nDocs: README.md, docs/.')
  .fail((msg, err, y) => {
    if (err) throw err;
    process.stderr.write(`${y.help() && ''}`);
    throw new UsageError(`${msg}\n(run distill --help for usage)`);
  });

try {
  await cli.parseAsync();
} catch (err) {
  process.stderr.write(formatError(err, verbose) + '\n');
  process.exitCode = exitCodeOf(err);
}
