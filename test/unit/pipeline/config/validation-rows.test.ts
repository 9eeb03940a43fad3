/**
 * dataset.validation resolved to rows: a seeded carve-out is deterministic, sorted, of the requested
 * size, drawn from the rows training would read, fingerprinted by its ids; a named split passes through;
 * choices on the test split or the train split itself are refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { ExperimentConfig } from '../../../../pipeline/config/experiment-config.ts';
import { resolveValidation, rowIdsSha256 } from '../../../../pipeline/config/validation-rows.ts';
import { ConfigError } from '../../../../pipeline/errors.ts';

function cfg(validation: ExperimentConfig['dataset']['validation'], seed = 1, limitRows?: number): Pick<ExperimentConfig, 'seed' | 'dataset' | 'train'> {
  const train = { run: 'r', limitRows } as unknown as ExperimentConfig['train'];
  return { seed, dataset: { path: 'd', trainSplit: 'train', evalSplit: 'test', ...(validation !== undefined ? { validation } : {}) }, train };
}

test('a carve-out of rows: sorted distinct ids in range, the same for the same seed, another for another seed', () => {
  const a = resolveValidation(cfg({ rows: 50 }), 1000);
  const b = resolveValidation(cfg({ rows: 50 }), 1000);
  const c = resolveValidation(cfg({ rows: 50 }, 2), 1000);
  assert.ok(a?.kind === 'carve-out' && b?.kind === 'carve-out' && c?.kind === 'carve-out');
  assert.equal(a.rows.length, 50);
  assert.equal(new Set(a.rows).size, 50);
  for (let i = 1; i < a.rows.length; i++) assert.ok(a.rows[i - 1]! < a.rows[i]!);
  assert.ok(a.rows[a.rows.length - 1]! < 1000);
  assert.deepEqual([...a.rows], [...b.rows]);
  assert.equal(a.rowIdsSha256, b.rowIdsSha256);
  assert.notDeepEqual([...a.rows], [...c.rows]);
  assert.notEqual(a.rowIdsSha256, c.rowIdsSha256);
  assert.equal(a.from, 1000);
  assert.deepEqual(a.requested, { rows: 50 });
});

test('the fingerprint is sha256 of the ids as little-endian uint32 (an independent encoding)', () => {
  const ids = Uint32Array.from([3, 7, 300, 70000]);
  const buf = Buffer.alloc(16);
  [...ids].forEach((v, i) => buf.writeUInt32LE(v, i * 4));
  assert.equal(rowIdsSha256(ids), createHash('sha256').update(buf).digest('hex'));
});

test('a fraction rounds to whole rows, drawn from the first train.limitRows rows when set', () => {
  const f = resolveValidation(cfg({ fraction: 0.1 }, 1, 205), 1000);
  assert.ok(f?.kind === 'carve-out');
  assert.equal(f.rows.length, 21);
  assert.equal(f.from, 205);
  assert.ok(f.rows.every((r) => r < 205));
});

test('a named split passes through; no validation is null', () => {
  assert.deepEqual(resolveValidation(cfg('val'), 1000), { kind: 'split', split: 'val' });
  assert.equal(resolveValidation(cfg(undefined), 1000), null);
});

test('BAD CALL validation on the test split, on the train split itself, or taking every train row is refused', () => {
  assert.throws(() => resolveValidation(cfg('test'), 1000), { name: 'ConfigError', message: /same split as dataset.evalSplit/ });
  assert.throws(() => resolveValidation(cfg('train'), 1000), { name: 'ConfigError', message: /train split itself/ });
  assert.throws(() => resolveValidation(cfg({ rows: 1000 }), 1000), (e: unknown) => e instanceof ConfigError && /takes 1000 of the 1000 train rows/.test(e.message));
  assert.throws(() => resolveValidation(cfg({ fraction: 0.0001 }), 1000), { name: 'ConfigError', message: /takes 0 of the 1000/ });
});
