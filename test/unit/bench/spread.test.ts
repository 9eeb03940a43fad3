/**
 * The benchmarks' median/min/max (test/bench/spread.ts): the median of an odd count is the middle
 * measured value whatever the order; even counts are refused, not resolved by picking a side.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkOddRepeat, formatSpread, spread } from '../../bench/spread.ts';

test('spread: the middle value of an odd count, min and max, independent of order', () => {
  assert.deepEqual(spread([3]), { median: 3, min: 3, max: 3 });
  assert.deepEqual(spread([0.9, 0.7, 0.8]), { median: 0.8, min: 0.7, max: 0.9 });
  assert.deepEqual(spread([5, 1, 4, 2, 3]), { median: 3, min: 1, max: 5 });
  // Not the mean: one slow outlier moves neither the median nor the other end.
  assert.deepEqual(spread([10, 10.5, 1]), { median: 10, min: 1, max: 10.5 });
});

test('BAD CALL spread and checkOddRepeat refuse an even or empty count and non-finite values', () => {
  assert.throws(() => spread([1, 2]), { name: 'RangeError', message: /the number of values must be an odd integer >= 1 .* but got 2/ });
  assert.throws(() => spread([]), { name: 'RangeError', message: /but got 0/ });
  assert.throws(() => spread([1, Number.NaN, 2]), { name: 'RangeError', message: /must be finite, but got 1, NaN, 2/ });
  assert.throws(() => checkOddRepeat(2), { name: 'RangeError', message: /^--repeat must be an odd integer >= 1 \(the median is then one measured run\), but got 2$/ });
  assert.throws(() => checkOddRepeat(1.5), { name: 'RangeError' });
  assert.equal(checkOddRepeat(3), 3);
});

test('formatSpread: median (min-max), or the bare value when min = max', () => {
  assert.equal(formatSpread({ median: 12982.4, min: 12191, max: 13781.6 }), '12982 (12191-13782)');
  assert.equal(formatSpread({ median: 0.8123, min: 0.79, max: 0.885 }, 3), '0.812 (0.790-0.885)');
  assert.equal(formatSpread({ median: 61.1, min: 61.1, max: 61.1 }, 1), '61.1');
});
