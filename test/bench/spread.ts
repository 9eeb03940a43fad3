/**
 * Median, min and max of a benchmark's repeats. Benchmarks repeat an odd number of times so that the
 * median is one measured value (no averaging of the two middle ones, no picking either of them).
 */

/** Median (the middle value of an odd count), min and max of one quantity over the repeats. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Throws unless `repeat` is an odd integer >= 1 (`flag` names it in the message). */
export function checkOddRepeat(repeat: number, flag = '--repeat'): number {
  if (!Number.isInteger(repeat) || repeat < 1 || repeat % 2 === 0) {
    throw new RangeError(`${flag} must be an odd integer >= 1 (the median is then one measured run), but got ${repeat}`);
  }
  return repeat;
}

/** The spread of `values` (an odd, non-zero count of finite numbers). */
export function spread(values: readonly number[]): Spread {
  checkOddRepeat(values.length, 'the number of values');
  if (values.some((v) => !Number.isFinite(v))) throw new RangeError(`spread: every value must be finite, but got ${values.join(', ')}`);
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[(sorted.length - 1) / 2]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** `median (min-max)` with `digits` decimals, or just the value when there was one repeat. */
export function formatSpread(s: Spread, digits = 0): string {
  const f = (v: number): string => v.toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
}
