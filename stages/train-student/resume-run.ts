import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainSection } from '../../pipeline/config/experiment-config.ts';
import type { tf } from '../../pipeline/engines/tfjs.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { removeTempFiles } from '../../pipeline/io/remove-temp-files.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { CHECKPOINT_DIR, readLatestCheckpoint } from '../../pipeline/student/checkpoint.ts';
import type { EpochRecord } from '../../pipeline/student/checkpoint.ts';
import type { EpochMetrics } from '../../pipeline/student/run-manifest.ts';
import { restoreOptimizerState } from './optimizer-state.ts';
import { restoreWeights } from './student-weights.ts';
import type { TrainableWeights } from './student-weights.ts';

/** Where training stands: the next epoch, steps taken, and the records and metrics of the epochs done. */
export interface TrainingState {
  startEpoch: number;
  steps: number;
  records: EpochRecord[];
  metrics: EpochMetrics[];
  /** Epoch the run resumed after, or null for a run from epoch 1. */
  resumedFrom: number | null;
}

/** The state of a run that starts at epoch 1. */
export function freshState(): TrainingState {
  return { startEpoch: 1, steps: 0, records: [], metrics: [], resumedFrom: null };
}

/**
 * Restores the student and optimizer from the run folder's latest checkpoint and returns where training
 * stands; a fresh state when there is no checkpoint. Temporary files a killed run left are removed. A checkpoint written with another config (other
 * than train.epochs: `key`) is a ConfigError. metrics.jsonl lines after the checkpoint's epoch are dropped.
 */
export async function resumeFromCheckpoint(
  runDir: string,
  metricsFile: string,
  student: TrainableWeights,
  optimizer: tf.Optimizer,
  key: string,
  train: Pick<TrainSection, 'epochs'>,
  reporter: Reporter,
): Promise<TrainingState> {
  // A killed run's temporary files (a checkpoint, metrics.jsonl, the model); the caller holds the run's lock.
  for (const dir of [runDir, join(runDir, CHECKPOINT_DIR)]) await removeTempFiles(dir);
  const ckpt = await readLatestCheckpoint(runDir);
  if (!ckpt) {
    reporter.info(`no checkpoint in ${runDir}: starting from epoch 1`);
    return freshState();
  }
  const where = join(runDir, CHECKPOINT_DIR, `epoch-${String(ckpt.meta.epoch).padStart(4, '0')}.json`);
  if (ckpt.meta.configKey !== key) {
    throw new ConfigError(`${where} was written with a different config (key ${ckpt.meta.configKey}, now ${key}); only train.epochs may change on --resume (use --force to start over)`);
  }
  restoreWeights(student, ckpt.weights, where);
  await restoreOptimizerState(optimizer, ckpt.optimizer, where);
  const text = await readFile(join(runDir, metricsFile), 'utf8').catch(() => '');
  const metrics = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EpochMetrics)
    .filter((m) => m.epoch <= ckpt.meta.epoch);
  reporter.info(`resuming ${runDir} after epoch ${ckpt.meta.epoch} of ${train.epochs}`);
  return { startEpoch: ckpt.meta.rng.nextEpoch, steps: ckpt.meta.steps, records: ckpt.meta.epochs, metrics, resumedFrom: ckpt.meta.epoch };
}
