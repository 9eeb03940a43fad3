/**
 * readDatasetFile on a dataset with an encoded-image column: `data index` leaves the decoded pixels in
 * .arrow-cache under a key of the image spec; readers use that copy, fall back to decoding when it is
 * missing or damaged, and when they decode, pixels that do not give the manifest's fingerprint (another
 * decoder, or a changed file) are an IntegrityError.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { indexDataset } from '../../../../pipeline/dataset/index-dataset.ts';
import { ARROW_CACHE_DIR, readDatasetFile } from '../../../../pipeline/dataset/read-dataset-file.ts';
import { IntegrityError } from '../../../../pipeline/errors.ts';
import { columnValues } from '../../../../pipeline/io/column-values.ts';
import { silentReporter } from '../../../../pipeline/reporter.ts';
import { encodePng, imageParquet } from '../../../helpers/encode-images.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

const pixels = (i: number): Uint8Array => Uint8Array.from({ length: 4 * 3 }, (_, k) => (i * 50 + k * 9) & 255);

async function dataset(): Promise<{ dir: string; expected: number[] }> {
  const dir = await tmpDir();
  await mkdir(join(dir, 'train'), { recursive: true });
  await writeFile(join(dir, 'train/part-0.parquet'), imageParquet([0, 1, 2].map((i) => encodePng(pixels(i), 4, 3, 1)), [0, 1, 0]));
  return { dir, expected: [0, 1, 2].flatMap((i) => [...pixels(i)]) };
}

test('the decoded copy is used, and a missing or damaged copy is rebuilt by decoding again', async () => {
  const { dir, expected } = await dataset();
  const m = await indexDataset(dir, { name: 'img', shapes: { pixels: [4, 3] } }, silentReporter);
  const file = m.splits.train!.files[0]!;
  const cached = (await readdir(join(dir, ARROW_CACHE_DIR))).filter((f) => f.endsWith('.arrow'));
  assert.equal(cached.length, 1);
  assert.match(cached[0]!, new RegExp(`^${file.sha256}\\.pixels-[0-9a-f]{16}\\.arrow$`));
  const read = async (): Promise<number[]> => [...columnValues((await readDatasetFile(dir, file, m.columns)).getChild('pixels')!, 12)].map(Number);
  assert.deepEqual(await read(), expected);
  const copy = join(dir, ARROW_CACHE_DIR, cached[0]!);
  const bytes = await readFile(copy);
  bytes[bytes.length - 40] ^= 0xff;
  await writeFile(copy, bytes);
  assert.deepEqual(await read(), expected, 'a damaged copy fails its sha256 and the file is decoded again');
  await rm(join(dir, ARROW_CACHE_DIR), { recursive: true });
  assert.deepEqual(await read(), expected);
  assert.equal((await readdir(join(dir, ARROW_CACHE_DIR))).filter((f) => f.endsWith('.arrow')).length, 1, 'decoding again rewrote the copy');
});

test('BAD INPUT: decoded pixels whose fingerprint is not the manifest’s are an IntegrityError naming the file and the decoder', async () => {
  const { dir } = await dataset();
  const m = await indexDataset(dir, { name: 'img', shapes: { pixels: [4, 3] } }, silentReporter);
  await rm(join(dir, ARROW_CACHE_DIR), { recursive: true });
  const file = { ...m.splits.train!.files[0]!, fingerprint: '0'.repeat(64) };
  await assert.rejects(
    readDatasetFile(dir, file, m.columns),
    (err: unknown) =>
      err instanceof IntegrityError &&
      /train\/part-0\.parquet: its decoded images give content fingerprint [0-9a-f]{64}, but the dataset manifest says 0{64}: .*\(pngjs [\d.]+ \+ @jsquash\/jpeg [\d.]+ \(mozjpeg, wasm\)\); re-index it/.test(err.message),
  );
  assert.deepEqual(await readdir(join(dir, ARROW_CACHE_DIR)).catch(() => []), [], 'nothing cached from pixels that failed the check');
});
