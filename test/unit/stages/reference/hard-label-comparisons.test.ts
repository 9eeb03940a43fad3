/** Which hard-label variant each distilled variant of a reference is compared with. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hardLabelComparisons } from '../../../../stages/reference/hard-label-comparisons.ts';
import type { ComparedVariant } from '../../../../stages/reference/hard-label-comparisons.ts';
import { summarize } from '../../../../stages/reference/summarize.ts';

const small = { arch: 'mlp', hidden: [128, 128] };
const big = { arch: 'mlp', hidden: [800, 800] };
const v8 = { count: 8, seed: 0 };
const v16 = { count: 16, seed: 0 };

function variant(alpha: number, errors: number[], student: unknown, views: unknown, epochs: number): ComparedVariant {
  return { alpha, testErrors: summarize(errors), setup: { student, views, epochs } };
}

test('each distilled variant is compared with the hard-label variant of its own student, views and epochs first', () => {
  const c = hardLabelComparisons({
    'hard-label-long': variant(1, [195, 215, 211], small, null, 24),
    'views8-hard-label-long': variant(1, [147, 158, 183], small, v8, 24),
    'hard-label-mlp800-long': variant(1, [171, 201, 207], big, null, 24),
    'views8-hard-label-mlp800-long': variant(1, [112, 122, 129], big, v8, 24),
    'views8-long': variant(0.1, [106, 113, 116], small, v8, 24),
    'views8-mlp800-long': variant(0.1, [73, 74, 80], big, v8, 24),
    // no hard-label variant on 16 views: the same student's plain baseline at the same budget, not another student's
    'views16-mlp800-long': variant(0.1, [75, 79, 79], big, v16, 24),
    // no hard-label variant of this budget: the same student's
    'views8-mlp800-short': variant(0.1, [90, 91, 92], big, v8, 8),
    // no hard-label variant of this student at all: the first one
    'other-student': variant(0.1, [200, 210, 220], { arch: 'mlp', hidden: [64] }, null, 24),
  });
  assert.deepEqual(
    Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.against])),
    {
      'views8-long': 'views8-hard-label-long',
      'views8-mlp800-long': 'views8-hard-label-mlp800-long',
      'views16-mlp800-long': 'hard-label-mlp800-long',
      'views8-mlp800-short': 'hard-label-mlp800-long',
      'other-student': 'hard-label-long',
    },
  );
  // beats: the gap of the means above the larger std, and the ranges apart
  assert.equal(c['views8-mlp800-long']!.gap, summarize([112, 122, 129]).mean - summarize([73, 74, 80]).mean);
  assert.equal(c['views8-mlp800-long']!.beats, true);
  assert.equal(c['other-student']!.beats, false, 'worse than its baseline: no');
});

test('no comparison without a hard-label variant, and none for the hard-label variants themselves', () => {
  assert.deepEqual(hardLabelComparisons({ a: variant(0.1, [1, 2, 3], small, null, 8) }), {});
  assert.deepEqual(Object.keys(hardLabelComparisons({ h: variant(1, [5, 6, 7], small, null, 8), d: variant(0.5, [1, 2, 3], small, null, 8) })), ['d']);
});
