import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveViewParams, epochView, gatherViewParams, sliceViewParams } from '../../../../pipeline/augment/view-policy.ts';
import type { ViewPolicy } from '../../../../pipeline/augment/view-policy.ts';

const policy: ViewPolicy = { count: 5, seed: 9, column: 'pixels', augment: { kind: 'image', shift: 2, rotation: 10, scale: 0.1, geometry: { height: 28, width: 28, channels: 1, layout: 'hwc' } } };

test('view parameters: view 0 is the identity; the others lie in the policy ranges and use all shifts', () => {
  const p = deriveViewParams(policy, 'train', 0, 400);
  assert.equal(p.kind, 'image');
  if (p.kind !== 'image') return;
  const seen = new Set<number>();
  for (let i = 0; i < 400 * 5; i++) {
    if (i % 5 === 0) {
      assert.deepEqual([p.dx[i], p.dy[i], p.angle[i], p.scale[i]], [0, 0, 0, 1]);
      continue;
    }
    assert.ok(Math.abs(p.dx[i]!) <= 2 && Math.abs(p.dy[i]!) <= 2 && Math.abs(p.angle[i]!) <= 10 && Math.abs(p.scale[i]! - 1) <= 0.1 + 1e-7, `entry ${i}`);
    seen.add(p.dx[i]!);
  }
  assert.deepEqual([...seen].sort(), [-1, -2, 0, 1, 2]);
});

test('view parameters depend on (seed, split, row, view) only: any cut of the rows gives the same values', () => {
  const whole = deriveViewParams(policy, 'train', 100, 30);
  const a = deriveViewParams(policy, 'train', 100, 7);
  const b = deriveViewParams(policy, 'train', 107, 23);
  if (whole.kind !== 'image' || a.kind !== 'image' || b.kind !== 'image') throw new Error('image params expected');
  assert.deepEqual([...whole.angle], [...a.angle, ...b.angle]);
  assert.deepEqual([...whole.dx], [...a.dx, ...b.dx]);
  const s = sliceViewParams(whole, 7 * 5, 30 * 5);
  assert.deepEqual(s, b);
  const g = gatherViewParams(whole, Int32Array.from([7, 8]), 5);
  assert.deepEqual(g.kind === 'image' && [...g.scale], [...b.scale.subarray(0, 10)]);
  const otherSplit = deriveViewParams(policy, 'test', 100, 30);
  const otherSeed = deriveViewParams({ ...policy, seed: 10 }, 'train', 100, 30);
  assert.notDeepEqual(otherSplit, whole);
  assert.notDeepEqual(otherSeed, whole);
});

test('epochView: deterministic, uniform over 0..K-1, different across epochs', () => {
  const counts = [0, 0, 0, 0];
  let changed = 0;
  for (let row = 0; row < 8000; row++) {
    const v = epochView(3, 1, row, 4);
    assert.equal(epochView(3, 1, row, 4), v);
    counts[v]!++;
    if (epochView(3, 2, row, 4) !== v) changed++;
  }
  for (const c of counts) assert.ok(Math.abs(c - 2000) < 5 * Math.sqrt(2000 * 0.75), `counts ${counts}`);
  assert.ok(changed > 5000, `${changed} of 8000 rows see another view in epoch 2`);
});
