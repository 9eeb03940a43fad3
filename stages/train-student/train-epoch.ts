import { join } from 'node:path';
import type { ExperimentConfig, TrainSection } from '../../pipeline/config/experiment-config.ts';
import { tf } from '../../pipeline/engines/tfjs.ts';
import { atomicWrite } from '../../pipeline/io/atomic-write.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { deriveSeed } from '../../pipeline/seeded-random.ts';
import { writeCheckpoint } from '../../pipeline/student/checkpoint.ts';
import type { EpochRecord } from '../../pipeline/student/checkpoint.ts';
import type { EpochMetrics } from '../../pipeline/student/run-manifest.ts';
import { batchTensors, disposeBatch } from './batch-tensors.ts';
import type { BatchWorker } from './batch-worker-client.ts';
import type { StudentModel } from './build-student.ts';
import type { ChunkedSplit } from './chunked-split.ts';
import type { DistillationLossOptions } from './distillation-loss.ts';
import { epochPlan } from './epoch-plan.ts';
import { evaluateSplit } from './evaluate-split.ts';
import { saveOptimizerState } from './optimizer-state.ts';
import type { TrainingInputs } from './prepare-inputs.ts';
import type { TrainingState } from './resume-run.ts';
import { weightsOf } from './student-weights.ts';
import { trainStep } from './train-step.ts';

/** What every epoch of a run reads: config, inputs, the model and optimizer, the batch sources. */
export interface EpochContext {
  cfg: ExperimentConfig;
  train: TrainSection;
  runDir: string;
  inputs: TrainingInputs;
  student: StudentModel;
  optimizer: tf.Optimizer;
  batchWorker: BatchWorker;
  trainSource: ChunkedSplit;
  /** The rows evaluated after every epoch: the validation rows, or the test split when the config names none. */
  evalSource: ChunkedSplit;
  /** What evalSource is, for metrics and logs. */
  evalRole: 'validation' | 'test';
  evalLabel: string;
  /** Rows of each training chunk, in chunk order. */
  chunkRows: number[];
  rowsPerEpoch: number;
  loss: DistillationLossOptions;
  /** The config key a checkpoint records (resume must match it). */
  key: string;
  /** metrics.jsonl, relative to the run folder. */
  metricsFile: string;
  reporter: Reporter;
}

/** One pass over the training split: the mean training loss, examples and optimizer steps taken. */
interface TrainPass {
  trainLoss: number;
  examples: number;
  steps: number;
  trainSeconds: number;
}

const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));

/** Trains the student for one epoch on the batches the worker cuts in the epoch's seeded order. */
async function trainPass(ctx: EpochContext, epoch: number): Promise<TrainPass> {
  const { cfg, train, inputs, student, optimizer, trainSource } = ctx;
  const plan = epochPlan(ctx.chunkRows, cfg.seed, epoch, train.shuffleWindow);
  const progress = ctx.reporter.progress(`epoch ${epoch}/${train.epochs}`, ctx.rowsPerEpoch, 'examples');
  const t0 = performance.now();
  let lossSum: tf.Scalar = tf.scalar(0);
  let stepInEpoch = 0;
  let examples = 0;
  // A view store: every row is shown as the epoch's seeded view of it (stream-batches.ts).
  const views = trainSource.encoding?.views ? { views: { seed: cfg.seed, targets: train.viewTargets ?? 'consistent' } } : {};
  for await (const hb of ctx.batchWorker.batches(plan, { batchSize: train.batchSize, scale: inputs.scale, ...views }, train.readAhead)) {
    const bt = batchTensors(hb, trainSource.featureSize, trainSource.encoding, train.tail);
    try {
      const cost = trainStep(student, optimizer, bt, ctx.loss, deriveSeed(cfg.seed, 'dropout', epoch, stepInEpoch));
      const next = tf.add(lossSum, cost) as tf.Scalar;
      tf.dispose([lossSum, cost]);
      lossSum = next;
    } finally {
      disposeBatch(bt);
    }
    stepInEpoch++;
    examples += hb.size;
    progress.tick(hb.size);
  }
  const trainLoss = (await lossSum.data())[0]! / Math.max(stepInEpoch, 1);
  lossSum.dispose();
  const trainSeconds = (performance.now() - t0) / 1000;
  progress.done();
  return { trainLoss, examples, steps: stepInEpoch, trainSeconds };
}

/**
 * One epoch: trains, evaluates on the eval split, then writes metrics.jsonl and a checkpoint
 * (atomically, in that order) and reports the epoch. Updates `state` to include the epoch.
 */
export async function runEpoch(ctx: EpochContext, epoch: number, state: TrainingState): Promise<void> {
  const { cfg, train, inputs } = ctx;
  const pass = await trainPass(ctx, epoch);
  state.steps += pass.steps;
  const t1 = performance.now();
  const evalMetrics = { ...(await evaluateSplit(ctx.student, ctx.evalSource, { batchSize: train.evalBatchSize, scale: inputs.scale, readAhead: train.readAhead, loss: ctx.loss, tail: train.tail })), role: ctx.evalRole };
  const evalSeconds = (performance.now() - t1) / 1000;
  const { trainLoss, examples, trainSeconds } = pass;
  const record: EpochRecord = { epoch, trainSeconds, evalSeconds, examplesPerSecond: examples / trainSeconds };
  state.records = [...state.records.filter((r) => r.epoch < epoch), record];
  const line: EpochMetrics = { epoch, trainLoss, examples, trainSeconds, examplesPerSecond: record.examplesPerSecond, eval: evalMetrics };
  state.metrics = [...state.metrics.filter((m) => m.epoch < epoch), line];
  await atomicWrite(join(ctx.runDir, ctx.metricsFile), state.metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
  const rng = { seed: cfg.seed, nextEpoch: epoch + 1 };
  await writeCheckpoint(ctx.runDir, { epoch, configKey: ctx.key, rng, steps: state.steps, epochs: state.records }, await weightsOf(ctx.student), await saveOptimizerState(ctx.optimizer));
  ctx.reporter.info(
    `epoch ${epoch}/${train.epochs}: train loss ${fmt(trainLoss)}, ${ctx.evalLabel} accuracy ${fmt(evalMetrics.accuracy)}, agreement ${fmt(evalMetrics.agreement)}, KL ${fmt(evalMetrics.kl)}, ${record.examplesPerSecond.toFixed(0)} examples/s`,
    { epoch, trainLoss, eval: evalMetrics, trainSeconds, examplesPerSecond: record.examplesPerSecond },
  );
}
