import type { Argv, CommandModule } from 'yargs';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface TeacherLogitsArgs extends GlobalArgs {
  device?: string;
  force: boolean;
  format?: 'parquet' | 'arrow';
  batchSize?: number;
  maxBatchBytes?: number;
  reduceInGraph?: boolean;
  shardRows?: number;
  encoding?: 'dense' | 'topk' | 'sampled';
  precision?: 'float32' | 'float16';
  k?: number;
  temperature?: number;
  threads?: number;
  nonFinite?: 'error' | 'zero';
  splits?: string[];
  numShards?: number;
  shardIndex?: number;
  workerEnv?: 'auto' | 'none' | 'kubernetes' | 'slurm';
}

/** Command-line flags and the teacherLogits config fields they override (`--set` works too). */
const FLAG_FIELDS: [keyof TeacherLogitsArgs, string][] = [
  ['device', 'device'],
  ['format', 'format'],
  ['batchSize', 'batchSize'],
  ['maxBatchBytes', 'maxBatchBytes'],
  ['reduceInGraph', 'reduceInGraph'],
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
      .option('max-batch-bytes', { type: 'number', describe: 'sequence teachers: rows per call chosen so the float32 [batch, seq, vocab] output fits in this many bytes, instead of --batch-size (teacherLogits.maxBatchBytes)' })
      .option('reduce-in-graph', { type: 'boolean', describe: 'top-k stores: append TopK, /T_c and ReduceLogSumExp to the teacher graph so ORT returns only ids, logits and tail log-sum-exps (teacherLogits.reduceInGraph)' })
      .option('shard-rows', { type: 'number', describe: 'rows per shard (teacherLogits.shardRows)' })
      .option('encoding', { choices: ['dense', 'topk', 'sampled'] as const, describe: 'dense logits, top-k + tail, or sampled ids + counts (teacherLogits.encoding.mode)' })
      .option('precision', { choices: ['float32', 'float16'] as const, describe: 'stored float precision (teacherLogits.encoding.precision)' })
      .option('k', { type: 'number', describe: 'classes kept per row in topk mode (teacherLogits.encoding.k)' })
      .option('temperature', { type: 'number', describe: 'top-k capture temperature (teacherLogits.encoding.temperature)' })
      .option('threads', { type: 'number', describe: 'ONNX Runtime intra-op threads, 0 = ORT default (teacherLogits.intraOpThreads)' })
      .option('non-finite', { choices: ['error', 'zero'] as const, describe: 'NaN/Inf policy (teacherLogits.nonFinite)' })
      .option('splits', { type: 'string', array: true, describe: 'splits to capture (teacherLogits.splits)' })
      .option('num-shards', { type: 'number', describe: 'number of workers N of a sharded run (teacherLogits.workers.count; else DISTILL_NUM_SHARDS or the Slurm array size); see docs/scale-out.md' })
      .option('shard-index', { type: 'number', describe: 'this worker\'s index 0..N-1 (teacherLogits.workers.index; else JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)' })
      .option('worker-env', { choices: ['auto', 'none', 'kubernetes', 'slurm'] as const, describe: 'launching engine whose environment names the worker (teacherLogits.workers.environment, default auto)' })
      .example('$0 teacher-logits -c artifacts/experiments/mnist-kd/experiment.json', 'write (or resume) the store of the demo experiment')
      .example('$0 teacher-logits -c artifacts/experiments/mnist-kd/experiment.json --encoding topk --k 5 --format arrow', 'a top-k Arrow store')
      .example('$0 teacher-logits -c artifacts/experiments/lm-brown/topk8.json --reduce-in-graph --max-batch-bytes 268435456', 'top-k reduced inside the teacher graph, batches of at most 256 MiB of logits')
      .example('$0 teacher-logits -c artifacts/experiments/mnist-kd/experiment.json --device cuda:0', 'on a GPU (needs the CUDA provider: docs/teacher-card.md)')
      .example('$0 teacher-logits -c artifacts/experiments/mnist-kd/experiment.json --num-shards 4 --shard-index 1', 'worker 1 of 4; then `distill finalize <store>` (docs/scale-out.md)') as unknown as Argv<TeacherLogitsArgs>,
  handler: async (args) => {
    const { resolveWorkerAssignment } = await import('../../stages/teacher-logits/worker-assignment.ts');
    const ctx = commandContext(args);
    const exp = await ctx.experiment(teacherLogitsOverrides(args));
    const worker = resolveWorkerAssignment(
      { numShards: args.numShards, shardIndex: args.shardIndex, environment: args.workerEnv, config: exp.config.teacherLogits?.workers },
      process.env,
    );
    const { runTeacherLogits, runTeacherWorker } = await import('../../stages/teacher-logits/run-teacher-logits.ts');
    const result = worker ? await runTeacherWorker(exp, worker, { force: args.force }, ctx.reporter) : await runTeacherLogits(exp, { force: args.force }, ctx.reporter);
    const shards = Object.values(result.splits).reduce((s, x) => s + x.shards.length, 0);
    const rows = Object.values(result.splits).reduce((s, x) => s + x.shards.reduce((t, r) => t + r.rowEnd - r.rowStart, 0), 0);
    const bytes = Object.values(result.splits).reduce((s, x) => s + x.shards.reduce((t, r) => t + r.bytes, 0), 0);
    const store = exp.config.teacherLogits!.store;
    const fields = {
      splits: Object.fromEntries(Object.entries(result.splits).map(([k, v]) => [k, { rows: v.shards.reduce((t, r) => t + r.rowEnd - r.rowStart, 0), shards: v.shards.length, nonFinite: v.nonFinite }])),
      rows,
      bytes,
      executionProvider: result.runtime.executionProvider,
      seconds: result.timing.seconds,
      rowsPerSecond: result.timing.rowsPerSecond,
    };
    if (worker) {
      ctx.reporter.info(`worker ${worker.index} of ${worker.count} done: ${store}/parts/worker-${worker.index}-of-${worker.count}.json (${shards} shards); when every worker is done: distill finalize ${store}`, { ...fields, worker: worker.index, workers: worker.count });
    } else {
      ctx.reporter.info(`store ready: ${store}/manifest.json`, fields);
    }
  },
};
