/**
 * Rows per ONNX Runtime call and the options that decide it (teacherLogits.batchSize, .maxBatchBytes,
 * views), and which reduction runs where (teacherLogits.reduceInGraph), checked before the teacher loads.
 */
import type { TeacherLogitsSection } from '../../pipeline/config/experiment-config.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import type { SequenceLayout } from '../../pipeline/teacher/sequence-card.ts';
import type { TopKReduction } from '../../pipeline/teacher/load-teacher.ts';

/** Bytes of one row of a sequence teacher's float32 [B, L, V] output: L * V * 4. */
export function outputRowBytes(sequence: SequenceLayout, classes: number): number {
  return sequence.context * classes * 4;
}

/**
 * Rows per session.run call:
 * - `maxBatchBytes` set (sequence teachers only): max(1, floor(maxBatchBytes / (L * V * 4))), the rows
 *   whose float32 [B, L, V] output fits in the budget; `batchSize` is then not used;
 * - a view store: floor(batchSize / K) rows (at least 1), K views each;
 * - otherwise `batchSize`.
 * A ConfigError for `maxBatchBytes` on a classification teacher (its [B, C] output is not what fills memory).
 */
export function rowsPerCall(cfg: TeacherLogitsSection, encoding: StoreEncoding, sequence: SequenceLayout | null): number {
  if (cfg.maxBatchBytes !== undefined) {
    if (!sequence) throw new ConfigError(`teacherLogits.maxBatchBytes sizes the batches of a sequence teacher's [batch, seq, vocab] output; this teacher is a classifier: set teacherLogits.batchSize instead`);
    return Math.max(1, Math.floor(cfg.maxBatchBytes / outputRowBytes(sequence, encoding.classes)));
  }
  const k = encoding.views?.count;
  return k ? Math.max(1, Math.floor(cfg.batchSize / k)) : cfg.batchSize;
}

/** The top-k reduction to append to the teacher's graph, or null (host reduction); a ConfigError unless the store is top-k. */
export function graphReduction(cfg: TeacherLogitsSection): TopKReduction | null {
  if (cfg.reduceInGraph !== true) return null;
  if (cfg.encoding.mode !== 'topk') {
    throw new ConfigError(`teacherLogits.reduceInGraph applies to top-k stores, but encoding.mode is ${cfg.encoding.mode}: ${cfg.encoding.mode} stores are always reduced on the host (set reduceInGraph false, or encoding.mode topk)`);
  }
  return { k: cfg.encoding.k, temperature: cfg.encoding.temperature };
}
