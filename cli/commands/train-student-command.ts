import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../pipeline/errors.ts';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface TrainStudentArgs extends GlobalArgs {
  backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  resume: boolean;
  force: boolean;
  epochs?: number;
}

/** `distill train-student -c <experiment>`: train the student from the soft-target store alone. */
export const trainStudentCommand: CommandModule<GlobalArgs, TrainStudentArgs> = {
  command: 'train-student',
  describe: 'train the TensorFlow.js student from the shards alone (the teacher is never loaded)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('backend', { choices: ['auto', 'tensorflow', 'wasm', 'cpu'] as const, describe: 'tfjs backend (default: train.backend, itself default auto: tfjs-node-gpu > tfjs-node > wasm > cpu)' })
      .option('resume', { type: 'boolean', default: false, describe: "continue from the run folder's last checkpoint" })
      .option('force', { type: 'boolean', default: false, describe: 'replace a finished or unfinished run in train.run' })
      .option('epochs', { type: 'number', describe: 'override train.epochs' })
      .example('$0 train-student -c artifacts/experiments/mnist-kd/experiment.json', 'train the demo student from the demo store')
      .example('$0 train-student -c artifacts/experiments/mnist-kd/experiment.json --resume --epochs 10', 'continue an interrupted run (or extend a finished one)') as unknown as Argv<TrainStudentArgs>,
  handler: async (args) => {
    if (args.epochs !== undefined && (!Number.isInteger(args.epochs) || args.epochs < 1)) {
      throw new UsageError(`--epochs must be a positive integer, but got ${args.epochs}`);
    }
    const ctx = commandContext(args);
    const exp = await ctx.experiment(args.epochs !== undefined ? [`train.epochs=${args.epochs}`] : []);
    const { runTrainStudent } = await import('../../stages/train-student/run-train-student.ts');
    await runTrainStudent(exp, { resume: args.resume, force: args.force, ...(args.backend ? { backend: args.backend } : {}) }, ctx.reporter);
  },
};
