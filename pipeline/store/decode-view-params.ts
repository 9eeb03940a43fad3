import type { Table } from 'apache-arrow';
import type { ViewParams, ViewPolicy } from '../augment/view-policy.ts';
import { DataError } from '../errors.ts';
import { columnValues } from '../io/column-values.ts';

/** Where the shard sits (for messages). */
interface Place {
  rowStart: number;
  name: string;
}

/**
 * Reads a view store shard's `view` and parameter columns (the column names and types were checked
 * already) and checks them against the policy: `view` runs 0..K-1 within every row, view 0 is the
 * identity (no shift, angle 0, scale 1; noise key 0), and every parameter lies within the policy's
 * ranges (|dx|, |dy| <= shift, |angle| <= rotation, |scale - 1| <= scale, to float32 precision).
 * A DataError names the shard, the row, the view and the value.
 */
export function decodeViewParams(table: Table, policy: ViewPolicy, place: Place): ViewParams {
  const k = policy.count;
  const view = columnValues(table.getChild('view')!, 1) as Int32Array;
  const where = (i: number): string => `${place.name}: row ${place.rowStart + Math.floor(i / k)} view ${i % k}`;
  for (let i = 0; i < view.length; i++) {
    if (view[i] !== i % k) throw new DataError(`${where(i)} has view index ${view[i]}, expected ${i % k} (K = ${k} views per row, ordered 0..K-1)`);
  }
  const a = policy.augment;
  if (a.kind === 'noise') {
    const noiseKey = Uint32Array.from(columnValues(table.getChild('noise_key')!, 1) as Uint32Array);
    for (let i = 0; i < noiseKey.length; i += k) if (noiseKey[i] !== 0) throw new DataError(`${where(i)} has noise_key ${noiseKey[i]}; view 0 is the unaugmented input (noise_key 0)`);
    return { kind: 'noise', noiseKey };
  }
  const read = <T extends Int32Array | Float32Array>(name: string, Ctor: { from(a: ArrayLike<number>): T }): T => Ctor.from(columnValues(table.getChild(name)!, 1) as ArrayLike<number>);
  const p: ViewParams = { kind: 'image', dx: read('dx', Int32Array), dy: read('dy', Int32Array), angle: read('angle', Float32Array), scale: read('scale', Float32Array) };
  const eps = 1e-6;
  for (let i = 0; i < view.length; i++) {
    const identity = i % k === 0;
    const checks: [string, number, boolean, string][] = [
      ['dx', p.dx[i]!, identity ? p.dx[i] === 0 : Math.abs(p.dx[i]!) <= a.shift, `|dx| <= ${a.shift}`],
      ['dy', p.dy[i]!, identity ? p.dy[i] === 0 : Math.abs(p.dy[i]!) <= a.shift, `|dy| <= ${a.shift}`],
      ['angle', p.angle[i]!, identity ? p.angle[i] === 0 : Math.abs(p.angle[i]!) <= a.rotation * (1 + eps), `|angle| <= ${a.rotation}`],
      ['scale', p.scale[i]!, identity ? p.scale[i] === 1 : Math.abs(p.scale[i]! - 1) <= a.scale + eps, `scale within 1 ± ${a.scale}`],
    ];
    for (const [name, value, ok, rule] of checks) {
      if (!ok) throw new DataError(`${where(i)} has ${name} ${value}, expected ${identity ? 'the identity (view 0 is the unaugmented input)' : `${rule} (the store's view policy)`}`);
    }
  }
  return p;
}
