import { tf } from '../../pipeline/engines/tfjs.ts';
import type { StudentModel } from './build-student.ts';
import type { ChunkedSplit } from './chunked-split.ts';
import { chunkRowCounts } from './chunked-split.ts';
import { batchTensors, disposeBatch } from './batch-tensors.ts';
import { agreementAndKl, combineLoss, lossComponents } from './distillation-loss.ts';
import type { DistillationLossOptions, TopKTail } from './distillation-loss.ts';
import { sequentialPlan } from './epoch-plan.ts';
import { readAhead } from './read-ahead.ts';
import { streamBatches } from './stream-batches.ts';
import type { SplitMetrics } from '../../pipeline/student/run-manifest.ts';
import { targetsAllowTemperature } from '../../pipeline/store/soft-target-store.ts';

/** Options of {@link evaluateSplit}. */
export interface EvaluateOptions {
  batchSize: number;
  scale: number;
  readAhead: number;
  loss: DistillationLossOptions;
  tail: TopKTail;
}

/**
 * Streams a split in order (no dropout) and measures accuracy, cross-entropy, teacher agreement and
 * KL (from the split's cached targets when it has them) and the loss components. Sums are taken per
 * batch on the device and read once per batch.
 */
export async function evaluateSplit(student: StudentModel, split: ChunkedSplit, opts: EvaluateOptions): Promise<SplitMetrics> {
  const plan = sequentialPlan(chunkRowCounts(split));
  let rows = 0;
  let correct = 0;
  let ce = 0;
  let agree = 0;
  let kl = 0;
  let klAtT = 0;
  let klTemperature: number | null = null;
  let hasTargets = false;
  for await (const hb of readAhead(streamBatches(split, plan, { batchSize: opts.batchSize, scale: opts.scale }), opts.readAhead)) {
    const bt = batchTensors(hb, split.featureSize, split.encoding, opts.tail);
    try {
      const logits = student.apply(bt.x);
      const sums = tf.tidy(() => {
        const acc = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), bt.labels), 'float32'));
        // A top-k store allows KL only at its capture temperature (the hard-label baseline may train at another T).
        const t = bt.targets;
        const klAtTOk = t !== null && split.encoding !== null && targetsAllowTemperature(split.encoding, opts.loss.temperature);
        const comps = lossComponents(logits, bt.labels, klAtTOk ? t : null, { ...opts.loss, alpha: klAtTOk ? opts.loss.alpha : 1 });
        const out = [acc, comps.ce];
        if (t) {
          const a = agreementAndKl(logits, t);
          klTemperature = a.klTemperature;
          out.push(a.agreement, a.kl, comps.kl ?? tf.scalar(NaN));
        }
        return tf.stack(out);
      });
      const v = await sums.data();
      tf.dispose([logits, sums]);
      const n = hb.size;
      rows += n;
      correct += v[0]!;
      ce += v[1]! * n;
      if (bt.targets) {
        hasTargets = true;
        agree += v[2]! * n;
        kl += v[3]! * n;
        klAtT += v[4]! * n;
      }
    } finally {
      disposeBatch(bt);
    }
  }
  const d = Math.max(rows, 1);
  const meanKlAtT = hasTargets && Number.isFinite(klAtT) ? klAtT / d : null;
  return {
    split: split.split,
    rows,
    accuracy: correct / d,
    ce: ce / d,
    agreement: hasTargets ? agree / d : null,
    kl: hasTargets ? kl / d : null,
    klTemperature,
    klAtT: meanKlAtT,
    loss: combineLoss(ce / d, meanKlAtT, opts.loss),
  };
}
