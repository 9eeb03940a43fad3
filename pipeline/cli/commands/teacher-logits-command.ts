import type { Argv, CommandModule } from 'yargs';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface TeacherLogitsArgs extends GlobalArgs {
  device?: string;
  force: boolean;
  format?: 'parquet' | 'arrow';
  batchSize?: number;
  shardRows?: number;
  encoding?: 'dense' | 'topk';
  precision?: 'float32' | 'float16';
  k?: number;
  temperature?: number;
  threads?: number;
  nonFinite?: 'error' | 'zero';
  splits?: string[];
}

/** Command-line flags and the teacherLogits config fields they override (`--set` works too). */
const FLAG_FIELDS: [keyof TeacherLogitsArgs, string][] = [
  ['device', 'device'],
  ['format', 'format'],
  ['batchSize', 'batchSize'],
  ['shardRows', 'shardRows'],
  ['encoding', 'encoding.mode'],
  ['precision', 'encoding.precision'],
  ['k', 'encoding.k'],
  ['temperature', 'encoding.temperature'],
  ['threads', 'intraOpThreads'],
  ['nonFinite', 'nonFinite'],
  ['splits', 'splits'],
];

/** The `teacherLogits.*` overrides that the flags given on the command line stand for. */
export function teacherLogitsOverrides(args: Partial<TeacherLogitsArgs>): string[] {
  const out: string[] = [];
  for (const [flag, field] of FLAG_FIELDS) {
    const v = args[flag];
    if (v === undefined) continue;
    out.push(`teacherLogits.${field}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return out;
}

/** `distill teacher-logits`: run the ONNX teacher once and write the soft-target store. */
export const teacherLogitsCommand: CommandModule<GlobalArgs, TeacherLogitsArgs> = {
  command: 'teacher-logits',
  describe: 'run the ONNX teacher once over the dataset and store its soft targets as shards',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('device', { type: 'string', describe: 'auto | cpu | cuda[:id] (teacherLogits.device; auto falls back to CPU)' })
      .option('force', { type: 'boolean', default: false, describe: 'recompute everything, replacing what the store holds' })
      .option('format', { choices: ['parquet', 'arrow'] as const, describe: 'shard format (teacherLogits.format)' })
      .option('batch-size', { type: 'number', describe: 'rows per ONNX Runtime call (teacherLogits.batchSize)' })
      .option('shard-rows', { type: 'number', describe: 'rows per shard (teacherLogits.shardRows)' })
      .option('encoding', { choices: ['dense', 'topk'] as const, describe: 'dense logits or top-k + tail (teacherLogits.encoding.mode)' })
      .option('precision', { choices: ['float32', 'float16'] as const, describe: 'stored float precision (teacherLogits.encoding.precision)' })
      .option('k', { type: 'number', describe: 'classes kept per row in topk mode (teacherLogits.encoding.k)' })
      .option('temperature', { type: 'number', describe: 'top-k capture temperature (teacherLogits.encoding.temperature)' })
      .option('threads', { type: 'number', describe: 'ONNX Runtime intra-op threads, 0 = ORT default (teacherLogits.intraOpThreads)' })
      .option('non-finite', { choices: ['error', 'zero'] as const, describe: 'NaN/Inf policy (teacherLogits.nonFinite)' })
      .option('splits', { type: 'string', array: true, describe: 'splits to capture (teacherLogits.splits)' })
      .example('$0 teacher-logits -c artifacts/experiments/mnist-kd/experiment.json', 'write (or resume) the store of the demo experiment')
      .example('$0 teacher-logits -c artifacts/experiments/mnist-kd/experiment.json --encoding topk --k 5 --format arrow', 'a top-k Arrow store')
      .example('$0 teacher-logits -c artifacts/experiments/mnist-kd/experiment.json --device cuda:0', 'on a GPU (needs the CUDA provider: docs/teacher-card.md)') as unknown as Argv<TeacherLogitsArgs>,
  handler: async (args) => {
    const { runTeacherLogits } = await import('../../../stages/teacher-logits/run-teacher-logits.ts');
    const ctx = commandContext(args);
    const exp = await ctx.experiment(teacherLogitsOverrides(args));
    const manifest = await runTeacherLogits(exp, { force: args.force }, ctx.reporter);
    const rows = Object.values(manifest.splits).reduce((s, x) => s + x.rows, 0);
    const bytes = Object.values(manifest.splits).reduce((s, x) => s + x.shards.reduce((t, r) => t + r.bytes, 0), 0);
    ctx.reporter.info(`store ready: ${exp.config.teacherLogits!.store}/manifest.json`, {
      splits: Object.fromEntries(Object.entries(manifest.splits).map(([k, v]) => [k, { rows: v.rows, shards: v.shards.length, nonFinite: v.nonFinite }])),
      rows,
      bytes,
      executionProvider: manifest.runtime.executionProvider,
      seconds: manifest.timing.seconds,
      rowsPerSecond: manifest.timing.rowsPerSecond,
    });
  },
};
