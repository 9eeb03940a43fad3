/**
 * The validation rows of an experiment (dataset.validation): where every choice is made (per-epoch
 * metrics, best epoch, early stopping, the cascade threshold) so that the test split is scored once.
 * Either an existing split, or a carve-out of the train split drawn from the experiment seed: the same
 * (config, seed, train rows) always gives the same rows, which train-student leaves out of training
 * and evaluate reads back. A carve-out is recorded by the sha256 of its sorted row ids.
 */
import { ConfigError } from '../errors.ts';
import { sha256Bytes } from '../io/sha256.ts';
import { deriveSeed, seededPermutation } from '../seeded-random.ts';
import type { ExperimentConfig } from './experiment-config.ts';

/** The validation rows an experiment resolves to. */
export type ValidationPlan =
  | { kind: 'split'; split: string }
  | {
      kind: 'carve-out';
      /** The train split the rows are taken from. */
      split: string;
      /** Sorted row ids (indices into the split) held out of training. */
      rows: Uint32Array;
      /** Train rows the carve-out was drawn from (train.limitRows, else the whole split). */
      from: number;
      /** What the config asked for. */
      requested: { fraction: number } | { rows: number };
      /** sha256 of the sorted row ids as little-endian uint32. */
      rowIdsSha256: string;
    };

/** What a run manifest (and a report) records about the validation rows. */
export interface ValidationRecord {
  kind: 'split' | 'carve-out';
  split: string;
  rows: number;
  /** carve-out: the rows' fingerprint, the train rows drawn from, what was asked for, and the seed. */
  rowIdsSha256?: string;
  from?: number;
  requested?: { fraction: number } | { rows: number };
  seed?: number;
}

/** sha256 of row ids as little-endian uint32 bytes. */
export function rowIdsSha256(ids: Uint32Array): string {
  const bytes = new Uint8Array(ids.length * 4);
  const view = new DataView(bytes.buffer);
  ids.forEach((v, i) => view.setUint32(i * 4, v, true));
  return sha256Bytes(bytes);
}

/**
 * Resolves dataset.validation against the train split's row count: null when the config names no
 * validation. A carve-out takes `rows` (or round(fraction * n)) ids from a permutation seeded by
 * deriveSeed(seed, 'validation'), sorted; it must leave at least one training row.
 *
 * @param trainRows - rows of the train split.
 */
export function resolveValidation(cfg: Pick<ExperimentConfig, 'seed' | 'dataset' | 'train'>, trainRows: number): ValidationPlan | null {
  const v = cfg.dataset.validation;
  if (v === undefined) return null;
  if (typeof v === 'string') {
    if (v === cfg.dataset.evalSplit) throw new ConfigError(`dataset.validation is "${v}", the same split as dataset.evalSplit: choices made on it would be scored on it; name another split or a carve-out ({"rows": n})`);
    if (v === cfg.dataset.trainSplit) throw new ConfigError(`dataset.validation is "${v}", the train split itself; use a carve-out ({"rows": n} or {"fraction": f}) to hold train rows out`);
    return { kind: 'split', split: v };
  }
  const from = Math.min(cfg.train?.limitRows ?? trainRows, trainRows);
  const requested = v.rows !== undefined ? { rows: v.rows } : { fraction: v.fraction! };
  const count = v.rows !== undefined ? v.rows : Math.round(v.fraction! * from);
  if (count < 1 || count >= from) {
    throw new ConfigError(`dataset.validation ${JSON.stringify(v)} takes ${count} of the ${from} train rows; a carve-out needs at least 1 row and must leave at least 1 for training`);
  }
  const perm = seededPermutation(from, deriveSeed(cfg.seed, 'validation'));
  const rows = perm.slice(0, count).sort();
  return { kind: 'carve-out', split: cfg.dataset.trainSplit, rows, from, requested, rowIdsSha256: rowIdsSha256(rows) };
}

/** The run manifest's record of a plan; `rows` of a named split is its row count. */
export function validationRecord(plan: ValidationPlan, seed: number, splitRows: number): ValidationRecord {
  if (plan.kind === 'split') return { kind: 'split', split: plan.split, rows: splitRows };
  return { kind: 'carve-out', split: plan.split, rows: plan.rows.length, rowIdsSha256: plan.rowIdsSha256, from: plan.from, requested: plan.requested, seed };
}

/** A short description for logs and reports: `"val" split` or `5000 rows held out of "train"`. */
export function describeValidation(plan: ValidationPlan): string {
  return plan.kind === 'split' ? `the "${plan.split}" split` : `${plan.rows.length} rows held out of "${plan.split}" (seeded carve-out)`;
}
