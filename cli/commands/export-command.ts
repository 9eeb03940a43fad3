import type { Argv, CommandModule } from 'yargs';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface ExportArgs extends GlobalArgs {
  run?: string;
  out?: string;
  force: boolean;
}

/** `distill export -c <experiment>`: the trained student as ONNX, checked against tfjs. */
export const exportCommand: CommandModule<GlobalArgs, ExportArgs> = {
  command: 'export',
  describe: 'export the trained student to ONNX (model.onnx + card.json), checked with ONNX Runtime against tfjs within 1e-4',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('run', { type: 'string', describe: 'run folder to export (default: train.run)' })
      .option('out', { type: 'string', describe: 'output folder (default: evaluate.export, else <run>/export)' })
      .option('force', { type: 'boolean', default: false, describe: 'export again even when the export is up to date (same config, run, dataset and code)' })
      .example('$0 export -c artifacts/experiments/mnist-kd/experiment.json', 'write <train.run>/export/model.onnx') as unknown as Argv<ExportArgs>,
  handler: async (args) => {
    const ctx = commandContext(args);
    const exp = await ctx.experiment();
    const { runExport } = await import('../../stages/export/run-export.ts');
    await runExport(exp, { force: args.force, ...(args.run !== undefined ? { run: args.run } : {}), ...(args.out !== undefined ? { out: args.out } : {}) }, ctx.reporter);
  },
};
