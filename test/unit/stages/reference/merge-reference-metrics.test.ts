/**
 * Merging a `--variants` run into an earlier reference-metrics.json: earlier variants kept with the
 * command that trained them, the comparisons computed again over the merged set (a new distilled
 * variant is compared with a kept hard-label one), stores kept only when a merged variant reads them,
 * nothing kept over other seeds or for a config that is gone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isReferenceMetrics, mergeReferenceMetrics } from '../../../../stages/reference/merge-reference-metrics.ts';
import type { ReferenceMetrics, VariantResult } from '../../../../stages/reference/run-reference.ts';
import { beatsBySpread, summarize } from '../../../../stages/reference/summarize.ts';

function variant(alpha: number, store: string | null, errors: number[]): VariantResult {
  return {
    config: 'x.json',
    alpha,
    temperature: 1,
    store,
    encoding: store,
    seeds: errors.map((e, i) => ({ seed: i + 1, run: `runs/x-seed${i + 1}`, testErrors: e, testAccuracy: 1 - e / 1000, agreement: null, kl: null, trainSeconds: 1, examplesPerSecond: 1 })),
    testErrors: summarize(errors),
    testAccuracy: summarize(errors.map((e) => 1 - e / 1000)),
  };
}

function metrics(command: string, variants: Record<string, VariantResult>, stores: ReferenceMetrics['stores'], teacherErrors: number, seeds = [1, 2, 3]): ReferenceMetrics {
  return {
    kind: 'distill.reference-metrics',
    experiment: 'lm',
    createdAt: `${command} time`,
    command,
    seeds,
    teacher: { split: 'test', rows: 1000, errors: teacherErrors, accuracy: 1 - teacherErrors / 1000, sha256: 'abc' },
    stores,
    variants,
    comparisons: {},
    software: { distill: '0', node: 'v20', platform: 'linux', gitCommit: `${command} commit`, cpu: 'x' } as ReferenceMetrics['software'],
  };
}

const facts = (encoding: string): ReferenceMetrics['stores'][string] => ({ encoding, rows: 10, bytes: 100, bytesPerExample: 10, seconds: 1 });
const STORE_OF: Record<string, string | null> = { hard: 's12', s12: 's12', topk8: 'k8', topk32: 'k32', gone: 'old' };
const storeOf = (n: string): string | null => STORE_OF[n] ?? null;
/** The run's rule, simplified: every distilled variant against "hard". */
const compare = (v: Record<string, VariantResult>): ReferenceMetrics['comparisons'] =>
  Object.fromEntries(Object.entries(v).filter(([, r]) => r.alpha < 1 && v.hard).map(([n, r]) => [n, { against: 'hard', ...beatsBySpread(r.testErrors, v.hard!.testErrors) }]));

test('earlier variants are kept with their command; the new one is compared with a kept hard-label variant', () => {
  const previous = metrics('first', { hard: variant(1, null, [900, 905, 910]), s12: variant(0.2, 's12', [860, 865, 870]), topk8: variant(0.2, 'k8', [880, 881, 882]) }, { s12: facts('sampled N=12 T=1'), k8: facts('topk k=8 T=1 float16') }, 850);
  const fresh = metrics('second', { topk32: variant(0.2, 'k32', [870, 872, 874]), topk8: variant(0.2, 'k8', [878, 879, 880]) }, { k32: facts('topk k=32 T=1 float16'), k8: facts('topk k=8 T=1 float16') }, 851);
  const m = mergeReferenceMetrics(previous, fresh, new Set(['hard', 's12', 'topk8', 'topk32']), storeOf, compare);
  assert.deepEqual(m.kept, ['hard', 's12']);
  assert.deepEqual(m.dropped, []);
  assert.deepEqual(Object.keys(m.metrics.variants), ['hard', 's12', 'topk32', 'topk8']);
  // A re-run variant takes this run's results; kept ones say which command trained them.
  assert.equal(m.metrics.variants.topk8!.testErrors.mean, 879);
  assert.deepEqual(m.metrics.variants.hard!.provenance, { command: 'first', createdAt: 'first time', gitCommit: 'first commit' });
  assert.equal(m.metrics.command, 'second');
  assert.deepEqual(m.metrics.comparisons.topk32, { against: 'hard', gap: 33, spread: 5, beats: true });
  assert.deepEqual(Object.keys(m.metrics.comparisons).sort(), ['s12', 'topk32', 'topk8']);
  assert.deepEqual(Object.keys(m.metrics.stores).sort(), ['k32', 'k8', 's12']);
  // Both runs read an exact (top-k) store: the fresh teacher figure is used.
  assert.equal(m.metrics.teacher.errors, 851);
});

test('the teacher figure comes from the more exact store; a store no merged variant reads is not kept', () => {
  const previous = metrics('first', { hard: variant(1, null, [900, 905, 910]), gone: variant(0.2, 'old', [1, 2, 3]) }, { k8: facts('topk k=8 T=1 float16'), old: facts('dense float16') }, 850);
  const fresh = metrics('second', { s12: variant(0.2, 's12', [860, 865, 870]) }, { s12: facts('sampled N=12 T=1') }, 870);
  const m = mergeReferenceMetrics(previous, fresh, new Set(['hard', 's12']), storeOf, compare);
  assert.deepEqual(m.kept, ['hard']);
  assert.deepEqual(m.dropped, ['gone: its config is no longer in the experiment folder']);
  assert.deepEqual(Object.keys(m.metrics.stores), ['s12']);
  assert.equal(m.metrics.teacher.errors, 850, 'the earlier run read a dense store, this one a sampled one');
});

test('BAD CALL results over other seeds or of another experiment are not kept', () => {
  const previous = metrics('first', { hard: variant(1, null, [900, 905]) }, {}, 850, [1, 2]);
  const fresh = metrics('second', { s12: variant(0.2, 's12', [860, 865, 870]) }, { s12: facts('sampled N=12 T=1') }, 870);
  const m = mergeReferenceMetrics(previous, fresh, new Set(['hard', 's12']), storeOf, compare);
  assert.deepEqual(m.kept, []);
  assert.deepEqual(m.dropped, ['hard: trained over seeds 1,2, this run over 1,2,3']);
  assert.equal(m.metrics, fresh);
  const other = mergeReferenceMetrics({ ...previous, seeds: [1, 2, 3], experiment: 'mnist' }, fresh, new Set(['hard', 's12']), storeOf, compare);
  assert.deepEqual(other.dropped, ['hard: from experiment "mnist", this run is "lm"']);
  assert.equal(isReferenceMetrics({ kind: 'distill.evaluation', variants: {} }), false);
  assert.equal(isReferenceMetrics(previous), true);
});
