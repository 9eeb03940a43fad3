import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Table } from 'apache-arrow';
import { RowFingerprint } from '../../../../pipeline/dataset/row-fingerprint.ts';
import { decodeTable, encodeTable } from '../../../../pipeline/io/table-files.ts';
import { mnistTable } from '../../../../stages/data/mnist-table.ts';

const n = 50;
const images = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256);
const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);

/** The fingerprint definition, written out independently with plain loops. */
function referenceFingerprint(start: number, end: number): string {
  const h = createHash('sha256');
  for (let r = start; r < end; r++) {
    const row = Buffer.alloc(8);
    row.writeBigInt64LE(BigInt(r));
    h.update(row);
    h.update(images.subarray(r * 784, (r + 1) * 784));
    h.update(Uint8Array.of(labels[r]!));
  }
  return h.digest('hex');
}

test('fingerprint equals the written-out definition', () => {
  const fp = new RowFingerprint(['pixels', 'label']);
  fp.update(mnistTable(images, labels, 0, n));
  assert.equal(fp.count, n);
  assert.equal(fp.digest(), referenceFingerprint(0, n));
});

test('fingerprint is independent of file format and of how rows are split into files and chunks', () => {
  const parts = [mnistTable(images, labels, 0, 17), mnistTable(images, labels, 17, 40), mnistTable(images, labels, 40, n)];
  const viaParquet = new RowFingerprint(['pixels', 'label']);
  for (const t of parts) viaParquet.update(decodeTable(encodeTable(t, 'parquet'), 'parquet', 't'));
  const chunked = new RowFingerprint(['pixels', 'label']);
  chunked.update(new Table(parts.flatMap((t) => t.batches)));
  const viaArrow = new RowFingerprint(['pixels', 'label']);
  viaArrow.update(decodeTable(encodeTable(mnistTable(images, labels, 0, n), 'arrow'), 'arrow', 't'));
  const expected = referenceFingerprint(0, n);
  assert.equal(viaParquet.digest(), expected);
  assert.equal(chunked.digest(), expected);
  assert.equal(viaArrow.digest(), expected);
});

test('a single changed pixel changes the fingerprint; a row range has its own', () => {
  const changed = images.slice();
  changed[5 * 784 + 100] ^= 1;
  const a = new RowFingerprint(['pixels', 'label']);
  a.update(mnistTable(changed, labels, 0, n));
  assert.notEqual(a.digest(), referenceFingerprint(0, n));
  const range = new RowFingerprint(['pixels', 'label']);
  range.update(mnistTable(images, labels, 10, 20));
  assert.equal(range.digest(), referenceFingerprint(10, 20));
});

test('BAD CALL a missing column is named', () => {
  const fp = new RowFingerprint(['pixels', 'weight']);
  assert.throws(() => fp.update(mnistTable(images, labels, 0, 3), 'part-1.parquet'), { name: 'DataError', message: /part-1\.parquet: missing the "weight" column/ });
});
