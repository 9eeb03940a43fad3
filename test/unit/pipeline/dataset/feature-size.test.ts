import assert from 'node:assert/strict';
import { test } from 'node:test';
import { elementTypeOf, featureSizeOf } from '../../../../pipeline/dataset/feature-size.ts';

test('featureSizeOf: fixed_size_list width, a list column\'s declared maximum length, 1 for a scalar', () => {
  assert.equal(featureSizeOf({ type: 'fixed_size_list<uint8>[784]' }), 784);
  assert.equal(featureSizeOf({ type: 'list<float32>', sequence: { maxLength: 6, padding: 'right', padValue: 0, lengths: { min: 4, mean: 5, max: 6 } } }), 6);
  assert.equal(featureSizeOf({ type: 'float64' }), 1);
});

test('elementTypeOf: the item type of fixed_size_list, list and large_list; a scalar is its own', () => {
  assert.equal(elementTypeOf('fixed_size_list<uint8>[784]'), 'uint8');
  assert.equal(elementTypeOf('list<float32>'), 'float32');
  assert.equal(elementTypeOf('large_list<int64>'), 'int64');
  assert.equal(elementTypeOf('int32'), 'int32');
  assert.equal(elementTypeOf('utf8'), 'utf8');
});
