/** The start-up bundle's LazySegmenter (scripts/lazy-segmenter.js) segments exactly as Intl.Segmenter. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
// @ts-expect-error a plain JavaScript build helper without declarations
import { LazySegmenter } from '../../../scripts/lazy-segmenter.js';

const TEXT = 'distill ✓ 👩‍👩‍👧 e\u0301 بِسْمِ 1\u20E3 日本語';

function segments(segmenter: { segment(s: string): Iterable<{ segment: string; index: number; isWordLike?: boolean }> }): unknown[] {
  return [...segmenter.segment(TEXT)].map((s) => [s.segment, s.index, s.isWordLike]);
}

test('LazySegmenter gives the same graphemes and words as Intl.Segmenter, with or without arguments', () => {
  assert.deepEqual(segments(new LazySegmenter()), segments(new Intl.Segmenter()));
  const word = new LazySegmenter('ar', { granularity: 'word' });
  assert.deepEqual(segments(word), segments(new Intl.Segmenter('ar', { granularity: 'word' })));
  assert.equal(word.resolvedOptions().granularity, 'word');
  assert.deepEqual(LazySegmenter.supportedLocalesOf(['ar', 'en']), Intl.Segmenter.supportedLocalesOf(['ar', 'en']));
});

test('the start-up bundle creates no Intl.Segmenter while it loads', (t) => {
  const bundle = new URL('../../../dist/cli/main.bundle.js', import.meta.url);
  if (!existsSync(bundle)) {
    t.skip('dist/cli/main.bundle.js not built (make build)');
    return;
  }
  const text = readFileSync(bundle, 'utf8');
  assert.match(text, /new LazySegmenter\(/, 'string-width\'s segmenters go through LazySegmenter');
  assert.doesNotMatch(text, /new Intl\.Segmenter\(/);
});
