/**
 * Per-epoch (and final test) metrics of a sequence student on a split, over target positions only:
 * token accuracy and per-token NLL/perplexity against the hard labels, the teacher's NLL from a dense
 * cache, top-1 agreement and KL against the cached targets, and the training objective. The
 * sequence counterpart of evaluate-split.ts; it returns the same SplitMetrics with `sequence` set.
 */
import { tf } from '../../pipeline/engines/tfjs.ts';
import type { SplitMetrics } from '../../pipeline/student/run-manifest.ts';
import type { SequenceStudent } from '../../pipeline/student/sequence/sequence-student.ts';
import { targetsAllowTemperature } from '../../pipeline/store/soft-target-store.ts';
import type { TopKTail } from './distillation-targets.ts';
import type { DistillationLossOptions } from './check-loss-inputs.ts';
import { combineLoss, lossComponents } from './distillation-loss.ts';
import { sequentialPlan } from './epoch-plan.ts';
import { chunkRowCounts } from './chunked-split.ts';
import type { SequenceTarget } from './sequence-batch.ts';
import { flattenPositions, sequenceBatchTensors } from './sequence-batch.ts';
import { sequenceBatches } from './sequence-batches.ts';
import { addSequenceMetrics, emptySequenceSums, finishSequenceMetrics } from './sequence-metrics.ts';
import type { SequenceSplit } from './sequence-split-source.ts';
import { sequenceTargets } from './sequence-targets.ts';

/** How a split is scored. */
export interface SequenceEvalOptions {
  batchSize: number;
  target: SequenceTarget;
  loss: DistillationLossOptions;
  tail: TopKTail;
}

/** The tensors of a batch, to dispose. */
function owned(bt: ReturnType<typeof sequenceBatchTensors>): tf.Tensor[] {
  const t = bt.targets ? Object.values(bt.targets).filter((x): x is tf.Tensor => x instanceof tf.Tensor) : [];
  return [bt.ids, bt.mask, bt.labels, bt.weights, ...t];
}

/** Scores `student` on every row of `split`, in order. */
export async function evaluateSequenceSplit(student: SequenceStudent, split: SequenceSplit, opts: SequenceEvalOptions): Promise<SplitMetrics> {
  const enc = split.encoding;
  const klAtTOk = enc !== null && targetsAllowTemperature(enc, opts.loss.temperature);
  const sums = emptySequenceSums(enc !== null, enc !== null, enc?.mode === 'dense');
  let rows = 0;
  let correct = 0;
  let klAtT = 0;
  let klTemperature: number | null = null;
  for await (const b of sequenceBatches(split, sequentialPlan(chunkRowCounts(split)), opts.batchSize)) {
    const targets = b.targets && enc ? sequenceTargets(b.targets, Int32Array.from({ length: b.host.size }, (_, i) => i), enc, opts.tail) : null;
    const bt = sequenceBatchTensors(b.host, opts.target, targets);
    try {
      const logits = tf.tidy(() => flattenPositions(student.apply(bt.ids, bt.mask), bt.positions));
      await addSequenceMetrics(sums, logits, bt.labels, bt.weights, bt.targets);
      const extra = tf.tidy(() => {
        const labelled = tf.mul(bt.weights, tf.cast(tf.greaterEqual(bt.labels, 0), 'float32'));
        const hit = tf.sum(tf.mul(tf.cast(tf.equal(tf.argMax(logits, 1), bt.labels), 'float32'), labelled));
        const out = [hit];
        if (bt.targets && klAtTOk) out.push(tf.mul(lossComponents(logits, bt.labels, bt.targets, { ...opts.loss, alpha: 0 }, bt.weights).kl!, tf.sum(bt.weights)));
        return tf.stack(out);
      });
      const v = await extra.data();
      tf.dispose([logits, extra]);
      correct += v[0]!;
      if (bt.targets && klAtTOk) klAtT += v[1]!;
      if (bt.targets) klTemperature = agreementKlTemperature(bt.targets);
      rows += b.host.size;
    } finally {
      tf.dispose(owned(bt));
    }
  }
  const m = finishSequenceMetrics(sums);
  const ce = m.nll;
  const meanKlAtT = klAtTOk && sums.positions > 0 ? klAtT / sums.positions : null;
  return {
    split: split.split,
    rows,
    accuracy: correct / Math.max(sums.labelled, 1),
    ce,
    agreement: m.agreement,
    kl: m.kl,
    klTemperature,
    klAtT: meanKlAtT,
    loss: combineLoss(ce, meanKlAtT, klAtTOk ? opts.loss : { ...opts.loss, alpha: 1 }),
    sequence: { positions: m.positions, labelled: sums.labelled, nll: m.nll, perplexity: m.perplexity, teacherNll: m.teacherNll, teacherPerplexity: m.teacherPerplexity },
  };
}

/** The temperature addSequenceMetrics' KL is at (agreementAndKl's rule): 1 for dense, T_c otherwise. */
function agreementKlTemperature(t: NonNullable<ReturnType<typeof sequenceBatchTensors>['targets']>): number {
  return t.kind === 'dense' ? 1 : t.captureTemperature;
}
