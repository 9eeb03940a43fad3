/**
 * Top-k encoding of teacher logits for the soft-target store (teacher side, pure JS).
 *
 * ## What a top-k row holds
 * For each row, the k largest raw logits `z` (NOT divided by T) with their class indices, sorted by
 * descending logit, ties broken by the lower class index, plus
 *
 *     tailLogSumExp = log sum_{j not in top-k} exp(z_j / T_c)
 *
 * computed in float64 with max-subtraction (-Infinity when k == classes: the tail is empty). From
 * these the teacher's tempered distribution at T_c is recovered exactly for the k kept classes and
 * for the tail as a whole (see {@link decodeTopKProbs}); how the tail mass is spread over the
 * individual tail classes is a choice of the loss ('bucket' or 'uniform').
 *
 * ## The temperature rule
 * The ranking (which classes are kept) does not depend on the temperature, but the tail mass does:
 * `log sum exp(z_j / T)` over the tail cannot be re-derived for another T from its value at T_c.
 * A top-k store is therefore captured AT a temperature T_c (recorded in the manifest) and the
 * student must be trained at T = T_c; the distillation loss refuses any other T. Dense stores keep
 * every logit, so they leave T free at train time.
 */

/** A batch of top-k encoded teacher rows (row-major, `rows * k` entries for the per-class arrays). */
export interface TopKEncoding {
  /** Class index of the i-th kept class of each row, `rows * k`, sorted by descending logit. */
  index: Uint32Array;
  /** Raw teacher logit z (not divided by T) of each kept class, `rows * k`. */
  logit: Float32Array;
  /** Per row: log sum over the non-kept classes of exp(z_j / T_c); -Infinity when k == classes. */
  tailLogSumExp: Float32Array;
}

/** One decoded row: the teacher's tempered probabilities at the capture temperature. */
export interface DecodedTopKRow {
  /** softmax(z / T)_j for the k kept classes, in stored order. */
  probs: Float64Array;
  /** Total probability mass of the non-kept classes (0 when k == classes). */
  tail: number;
  /** The full normaliser log sum_j exp(z_j / T) over all classes. */
  logSumExp: number;
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`encodeTopK: ${name} must be a positive integer, got ${value}`);
  }
}

function checkTemperature(fn: string, temperature: number): void {
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new RangeError(`${fn}: temperature must be a positive finite number, got ${temperature}`);
  }
}

/** True when (va, ia) ranks before (vb, ib): larger logit first, then lower index; NaN ranks last. */
function ranksBefore(va: number, ia: number, vb: number, ib: number): boolean {
  const aNaN = Number.isNaN(va);
  const bNaN = Number.isNaN(vb);
  if (aNaN || bNaN) return aNaN && bNaN ? ia < ib : bNaN;
  return va > vb || (va === vb && ia < ib);
}

/** True when class `a` ranks after class `b` in `row` (the heap keeps the worst kept class on top). */
function ranksAfter(row: Float32Array, a: number, b: number): boolean {
  return ranksBefore(row[b], b, row[a], a);
}

/**
 * Fills `out[0..k)` with the top-k class indices of `row`, in rank order: a size-k heap whose root is
 * the worst kept class (O(C log k) worst case, one comparison for most rejected classes), then a
 * sort of the k survivors.
 */
function selectTopK(row: Float32Array, k: number, out: Uint32Array): void {
  const classes = row.length;
  for (let j = 0; j < classes; j++) {
    let pos: number;
    if (j < k) {
      pos = j; // sift up
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!ranksAfter(row, j, out[parent])) break;
        out[pos] = out[parent];
        pos = parent;
      }
      out[pos] = j;
      continue;
    }
    const v = row[j];
    const root = out[0];
    // Later classes lose ties (higher index), so only a strictly better logit (or a number over a
    // NaN root) displaces the root.
    if (v <= row[root] || !ranksBefore(v, j, row[root], root)) continue;
    pos = 0; // sift down from the root
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= k) break;
      if (child + 1 < k && ranksAfter(row, out[child + 1], out[child])) child++;
      if (!ranksAfter(row, out[child], j)) break;
      out[pos] = out[child];
      pos = child;
    }
    out[pos] = j;
  }
  out.sort((a, b) => (a === b ? 0 : ranksBefore(row[a], a, row[b], b) ? -1 : 1));
}

/**
 * Encodes a batch of teacher logits as top-k rows plus the exact tail log-mass at the capture
 * temperature.
 *
 * Ranking is temperature-independent; the tail mass is not. The result is valid for training only at
 * T = `temperature` (the capture temperature T_c, to be recorded in the store manifest): the
 * distillation loss refuses a top-k store at any other T. Dense logits leave T free.
 *
 * NaN logits rank after every number (so they are kept only if k exceeds the non-NaN count); a NaN in
 * the tail makes that row's `tailLogSumExp` NaN, so NaN/Inf counting downstream sees it.
 *
 * @param logits - row-major teacher logits, `rows * classes` values.
 * @param rows - number of rows (positive integer).
 * @param classes - number of classes C (positive integer).
 * @param k - kept classes per row, integer in [1, C].
 * @param temperature - capture temperature T_c, positive and finite.
 * @returns indices and raw logits of the kept classes (descending logit, ties to the lower index)
 *   and per-row `log sum_{j not in top-k} exp(z_j / T_c)` (float64 math, stored as float32;
 *   -Infinity when k == C).
 * @example
 * ```ts
 * const enc = encodeTopK(new Float32Array([1, 3, 2]), 1, 3, 2, 1);
 * // enc.index = [1, 2], enc.logit = [3, 2], enc.tailLogSumExp = [1]
 * ```
 */
export function encodeTopK(
  logits: Float32Array,
  rows: number,
  classes: number,
  k: number,
  temperature: number,
): TopKEncoding {
  checkPositiveInteger('rows', rows);
  checkPositiveInteger('classes', classes);
  if (!Number.isInteger(k) || k < 1 || k > classes) {
    throw new RangeError(`encodeTopK: k must be an integer in [1, classes=${classes}], got ${k}`);
  }
  checkTemperature('encodeTopK', temperature);
  if (logits.length !== rows * classes) {
    throw new RangeError(
      `encodeTopK: logits.length must be rows * classes = ${rows} * ${classes} = ${rows * classes}, got ${logits.length}`,
    );
  }
  const index = new Uint32Array(rows * k);
  const logit = new Float32Array(rows * k);
  const tailLogSumExp = new Float32Array(rows);
  const kept = new Uint8Array(classes);
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const top = index.subarray(r * k, (r + 1) * k);
    selectTopK(row, k, top);
    for (let i = 0; i < k; i++) {
      const j = top[i];
      logit[r * k + i] = row[j];
      kept[j] = 1;
    }
    // log sum_{tail} exp(z_j / T) in float64 with max-subtraction.
    let max = -Infinity;
    let sawNaN = false;
    for (let j = 0; j < classes; j++) {
      if (kept[j] === 1) continue;
      const a = row[j] / temperature;
      if (Number.isNaN(a)) sawNaN = true;
      else if (a > max) max = a;
    }
    let lse: number;
    if (sawNaN) lse = NaN;
    else if (max === -Infinity || max === Infinity) lse = max;
    else {
      let sum = 0;
      for (let j = 0; j < classes; j++) {
        if (kept[j] === 0) sum += Math.exp(row[j] / temperature - max);
      }
      lse = max + Math.log(sum);
    }
    tailLogSumExp[r] = lse;
    for (let i = 0; i < k; i++) kept[top[i]] = 0;
  }
  return { index, logit, tailLogSumExp };
}

/**
 * Reconstructs, for one top-k row, the teacher's tempered probabilities of the kept classes and the
 * total tail mass, exactly (float64):
 *
 *     LSE  = logaddexp(logsumexp_j(z_j / T), tailLogSumExp)
 *     p_j  = exp(z_j / T - LSE)             for the k kept classes
 *     tail = exp(tailLogSumExp - LSE)
 *
 * so that sum_j p_j + tail = 1 and p_j = softmax(z / T)_j of the original full logits. `temperature`
 * must be the store's capture temperature.
 *
 * @param logit - the row's k raw kept logits (e.g. `enc.logit.subarray(r * k, (r + 1) * k)`).
 * @param tailLogSumExp - the row's `tailLogSumExp`.
 * @param temperature - the capture temperature T_c, positive and finite.
 */
export function decodeTopKProbs(
  logit: ArrayLike<number>,
  tailLogSumExp: number,
  temperature: number,
): DecodedTopKRow {
  checkTemperature('decodeTopKProbs', temperature);
  const k = logit.length;
  let max = tailLogSumExp;
  for (let i = 0; i < k; i++) max = Math.max(max, logit[i] / temperature);
  let sum = tailLogSumExp === -Infinity ? 0 : Math.exp(tailLogSumExp - max);
  for (let i = 0; i < k; i++) sum += Math.exp(logit[i] / temperature - max);
  const logSumExp = max + Math.log(sum);
  const probs = new Float64Array(k);
  for (let i = 0; i < k; i++) probs[i] = Math.exp(logit[i] / temperature - logSumExp);
  const tail = Math.exp(tailLogSumExp - logSumExp);
  return { probs, tail, logSumExp };
}
