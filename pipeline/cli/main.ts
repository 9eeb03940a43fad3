/**
 * The `distill` command line. Commands are thin: each lives in its own file under commands/ and
 * imports its stage (and with it onnxruntime or tfjs) only when it runs, so `distill --help` is fast.
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../errors.ts';
import { configCommand } from './commands/config-command.ts';
import { dataCommand } from './commands/data-command.ts';
import { notBuiltCommand } from './commands/not-built-command.ts';
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
  .command(notBuiltCommand('teacher-logits', 'run the ONNX teacher once over the dataset and store its soft targets as shards', 'issue #3'))
  .command(notBuiltCommand('inspect <store>', 'summarise a soft-target store: rows, classes, encoding, size, a few decoded rows', 'issue #3'))
  .command(notBuiltCommand('train-student', 'train the TensorFlow.js student from the shards alone (the teacher is never loaded)', 'issue #4'))
  .command(notBuiltCommand('evaluate', 'report what the student kept and lost: agreement, calibration, slices, robustness, cascade, speed', 'issue #6'))
  .command(notBuiltCommand('export', 'export the trained student to ONNX', 'issue #6'))
  .command(notBuiltCommand('verify <path>', 'check a store, run or experiment against its manifest (schemas, coverage, sha256)', 'issue #7'))
  .command(notBuiltCommand('reproduce <experiment>', 're-run a recorded experiment from its artifacts and compare', 'issue #7'))
  .command(notBuiltCommand('finalize <store>', 'merge the part manifests of sharded teacher workers into the store manifest', 'issue #8'))
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
