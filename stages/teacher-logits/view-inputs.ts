import { augmentView } from '../../pipeline/augment/augment-view.ts';
import type { ViewValues } from '../../pipeline/augment/augment-view.ts';
import { sliceViewParams } from '../../pipeline/augment/view-policy.ts';
import type { ViewParams, ViewPolicy } from '../../pipeline/augment/view-policy.ts';
import { DataError } from '../../pipeline/errors.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';

/**
 * The teacher's input values for shard rows [from, from + n), K views each, ordered (row, view):
 * view v of row r is augmentView(policy, params, r * K + v, row r's values), the same call the student
 * stage makes from the stored parameters. `params` are the shard's (rows * K entries, from its first row).
 */
export function viewInputs(policy: ViewPolicy, params: ViewParams, values: NumericArray, width: number, from: number, n: number): NumericArray {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) throw new DataError(`column "${policy.column}": 64-bit integer values cannot be augmented`);
  const k = policy.count;
  const out = new (values.constructor as new (len: number) => ViewValues)(n * k * width);
  const p = sliceViewParams(params, from * k, (from + n) * k);
  for (let r = 0; r < n; r++) {
    const src = values.subarray((from + r) * width, (from + r + 1) * width);
    for (let v = 0; v < k; v++) augmentView(policy, p, r * k + v, src, out.subarray((r * k + v) * width, (r * k + v + 1) * width));
  }
  return out;
}
