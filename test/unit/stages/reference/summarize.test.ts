import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beatsBySpread, summarize } from '../../../../stages/reference/summarize.ts';

test('summarize: mean, sample std and range (values checked by hand)', () => {
  // [170, 180, 190]: mean 180, sample variance (100 + 0 + 100) / 2 = 100, std 10.
  assert.deepEqual(summarize([170, 180, 190]), { n: 3, mean: 180, std: 10, min: 170, max: 190 });
  assert.deepEqual(summarize([5]), { n: 1, mean: 5, std: 0, min: 5, max: 5 });
  assert.throws(() => summarize([]), RangeError);
});

test('beatsBySpread needs a gap over the spread and non-overlapping ranges', () => {
  const distilled = summarize([170, 175, 180]); // mean 175, std 5
  const hard = summarize([230, 236, 242]); // mean 236, std 6
  assert.deepEqual(beatsBySpread(distilled, hard), { gap: 61, spread: 6, beats: true });
  const close = summarize([228, 240, 250]);
  const overlapping = summarize([226, 236, 246]);
  assert.equal(beatsBySpread(close, overlapping).beats, false);
});
