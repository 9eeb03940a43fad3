/** verifyDatasetFiles trusts a recorded stat (verified-stat.ts) until the file changes; checkDatasetFiles alone never does. */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDatasetManifest } from '../../../../pipeline/dataset/dataset-manifest.ts';
import { readVerifiedStats, VERIFIED_STAT_FILE, verifiedStat } from '../../../../pipeline/dataset/verified-stat.ts';
import { checkDatasetFiles, verifyDatasetFiles } from '../../../../pipeline/dataset/verify-dataset.ts';
import { IntegrityError } from '../../../../pipeline/errors.ts';
import { teacherWorkspace } from '../../../helpers/teacher-workspace.ts';

async function dataset(): Promise<string> {
  const ws = await teacherWorkspace(40, 20, 20);
  return join(ws.dir, ws.dataset);
}

test('the first verify hashes every file and records its stat; checkDatasetFiles alone records nothing', async () => {
  const dir = await dataset();
  const manifest = await readDatasetManifest(dir);
  assert.deepEqual(await checkDatasetFiles(dir, manifest), []);
  assert.deepEqual(await readVerifiedStats(dir), {});
  await verifyDatasetFiles(dir, manifest);
  const recorded = await readVerifiedStats(dir);
  const files = Object.values(manifest.splits).flatMap((s) => s.files);
  assert.equal(Object.keys(recorded).length, files.length);
  for (const f of files) assert.deepEqual(recorded[f.path], verifiedStat(f.sha256, await stat(join(dir, f.path))));
});

test('a changed file (same size, new bytes) is hashed again and fails, although its old stat was recorded', async () => {
  const dir = await dataset();
  const manifest = await readDatasetManifest(dir);
  await verifyDatasetFiles(dir, manifest);
  const f = manifest.splits.train!.files[0]!;
  const bytes = await readFile(join(dir, f.path));
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(join(dir, f.path), bytes);
  await assert.rejects(verifyDatasetFiles(dir, manifest), (err: unknown) => err instanceof IntegrityError && err.message.includes(`${f.path} sha256 is`));
});

test('a recorded stat that matches is trusted (no hash); distill verify (no trust) still hashes and catches the change', async () => {
  const dir = await dataset();
  const manifest = await readDatasetManifest(dir);
  await verifyDatasetFiles(dir, manifest);
  const f = manifest.splits.test!.files[0]!;
  const bytes = await readFile(join(dir, f.path));
  bytes[0] ^= 0xff;
  await writeFile(join(dir, f.path), bytes);
  // Forge the record so that it vouches for the changed file's stat: only a skipped hash passes now.
  const recorded = await readVerifiedStats(dir);
  recorded[f.path] = verifiedStat(f.sha256, await stat(join(dir, f.path)));
  await writeFile(join(dir, VERIFIED_STAT_FILE), JSON.stringify(recorded));
  await verifyDatasetFiles(dir, manifest);
  const problems = await checkDatasetFiles(dir, manifest);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.file, f.path);
  assert.match(problems[0]!.problem, /sha256 is [0-9a-f]{64}, the manifest says/);
});

test('an unreadable record is ignored: every file is hashed and the record is written again', async () => {
  const dir = await dataset();
  const manifest = await readDatasetManifest(dir);
  await writeFile(join(dir, VERIFIED_STAT_FILE), '{not json');
  await verifyDatasetFiles(dir, manifest);
  assert.equal(Object.keys(await readVerifiedStats(dir)).length, Object.values(manifest.splits).flatMap((s) => s.files).length);
});
