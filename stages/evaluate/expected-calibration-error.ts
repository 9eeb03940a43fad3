/**
 * Expected calibration error and the reliability diagram (Guo et al. 2017, "On Calibration of Modern
 * Neural Networks", eq. 3): confidences (top softmax probability) are put in `bins` equal-width bins;
 * ECE = sum_b (n_b / N) * |acc_b - conf_b|.
 */
import type { ClassScores } from './class-scores.ts';
import { argmaxRows, topProbability } from './class-scores.ts';

/** One bin of the reliability diagram. */
export interface ReliabilityBin {
  /** Lower edge (exclusive, except 0 for the first bin). */
  lo: number;
  /** Upper edge (inclusive). */
  hi: number;
  /** Rows whose confidence falls in the bin. */
  count: number;
  /** Mean confidence of those rows; null for an empty bin. */
  confidence: number | null;
  /** Share of those rows predicted correctly; null for an empty bin. */
  accuracy: number | null;
}

/** ECE and its bins. */
export interface Calibration {
  /** Expected calibration error, in [0, 1]. */
  ece: number;
  /** Number of bins. */
  binCount: number;
  bins: ReliabilityBin[];
}

/** Default number of equal-width bins (Guo et al. 2017 use 15). */
export const DEFAULT_ECE_BINS = 15;

/**
 * Bins confidences into `(b/B, (b+1)/B]` (confidence 0 goes to bin 0) and computes ECE.
 * @param bins - number of equal-width bins; default 15.
 */
export function expectedCalibrationError(scores: ClassScores, labels: ArrayLike<number>, bins = DEFAULT_ECE_BINS): Calibration {
  const pred = argmaxRows(scores);
  return calibrationOf(topProbability(scores), Array.from(pred, (p, r) => p === labels[r]), bins);
}

/**
 * ECE and its bins from each row's confidence (top probability) and whether its prediction is right:
 * what {@link expectedCalibrationError} computes from scores, for callers that keep only these two
 * numbers per row (the streamed sequence evaluation).
 */
export function calibrationOf(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, bins = DEFAULT_ECE_BINS): Calibration {
  const rows = confidence.length;
  const count = new Array<number>(bins).fill(0);
  const confSum = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  for (let r = 0; r < rows; r++) {
    const c = confidence[r]!;
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    count[b]!++;
    confSum[b]! += c;
    if (correct[r]) hits[b]!++;
  }
  let ece = 0;
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const n = count[b]!;
    const conf = n > 0 ? confSum[b]! / n : null;
    const acc = n > 0 ? hits[b]! / n : null;
    if (n > 0) ece += (n / rows) * Math.abs(acc! - conf!);
    out.push({ lo: b / bins, hi: (b + 1) / bins, count: n, confidence: conf, accuracy: acc });
  }
  return { ece, binCount: bins, bins: out };
}
