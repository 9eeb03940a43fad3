/**
 * Bad input, one table row per case: each case breaks a copy of a good
 * workspace (test/helpers/good-workspace.ts), runs one command, and expects a non-zero exit, an
 * error naming the culprit, and every file that existed before the command unchanged (sha256 of the
 * whole workspace before and after). Cases already covered elsewhere with their messages are not
 * repeated here: a store of another teacher and the store lock (teacher-logits.test.ts), NaN/Inf
 * teacher outputs (teacher-logits.test.ts), a flipped shard byte and another dataset seen by
 * train-student (train-student.test.ts, run-train-student.test.ts). Stage commands run through the real
 * CLI; `distill verify` cases run its handler's code in this process (verifyPath + the same report
 * text; the CLI's exit code and output are checked once per kind below), which keeps the table fast.
 * A full disk is a real ENOSPC on
 * a small tmpfs (root only; skipped elsewhere).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, statfs, truncate, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { indexDataset } from '../../pipeline/dataset/index-dataset.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { encodeTable, readTableFile } from '../../pipeline/io/table-files.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import { shardTable } from '../../pipeline/store/shard-table.ts';
import { mnistTable } from '../../stages/data/mnist-table.ts';
import { formatVerifyReport } from '../../stages/verify/verify-report.ts';
import { verifyPath } from '../../stages/verify/verify-path.ts';
import { copyWorkspace, goodExperiment, goodWorkspace } from '../helpers/good-workspace.ts';
import { runCli } from '../helpers/run-cli.ts';
import { writeTeacher } from '../helpers/teacher-workspace.ts';
import type { TeacherWorkspace } from '../helpers/teacher-workspace.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';
import { changedFiles, treeHashes } from '../helpers/tree-hashes.ts';

const good = await goodWorkspace();

async function flip(file: string, at: number): Promise<void> {
  const b = await readFile(file);
  b[at] = b[at]! ^ 0x5a;
  await writeFile(file, b);
}

/** The object at a dotted path of parsed JSON (array indices as numbers). */
function at(v: unknown, path: string): Record<string, unknown> {
  return path.split('.').reduce((o, k) => (o as Record<string, unknown>)[k], v) as Record<string, unknown>;
}

async function editJson(file: string, edit: (v: Record<string, unknown>) => void): Promise<void> {
  const v = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(v);
  await writeFile(file, JSON.stringify(v, null, 2));
}

/** Rewrites shard `index` of split train with `mutate` applied to its logits, and updates its manifest and part records (so only the content is wrong). */
async function rewriteShard(dir: string, index: number, mutate: (logits: Float32Array) => void): Promise<void> {
  const store = await openStore(join(dir, 'stores/good'));
  const s = await store.readShard('train', index);
  mutate(s.logits!);
  const bytes = encodeTable(shardTable(store.encoding, { rowStart: s.rowStart, rows: s.rowEnd - s.rowStart, logits: s.logits! }), 'parquet');
  const rel = `train/part-${String(index).padStart(5, '0')}.parquet`;
  await writeFile(join(dir, 'stores/good', rel), bytes);
  const fix = (r: Record<string, unknown>): void => void Object.assign(r, { sha256: sha256Bytes(bytes), bytes: bytes.byteLength });
  await editJson(join(dir, 'stores/good/manifest.json'), (m) => fix(at(m, `splits.train.shards.${index}`)));
  await editJson(join(dir, 'stores/good', `${rel}.json`), (p) => fix(at(p, 'shard')));
}

/** Replaces dataset file train/part-00001 (rows 200..399) by `edit`ed rows; `reindex` rewrites the manifest too. */
async function editDataset(dir: string, edit: (pixels: Uint8Array, labels: Uint8Array) => void, reindex: boolean): Promise<void> {
  const file = join(dir, 'data/mnist/train/part-00001.parquet');
  const t = await readTableFile(file);
  const pixels = new Uint8Array(400 * 784);
  pixels.set(columnValues(t.getChild('pixels')!, 784) as Uint8Array, 200 * 784);
  const labels = new Uint8Array(400);
  labels.set(columnValues(t.getChild('label')!, 1) as Uint8Array, 200);
  edit(pixels.subarray(200 * 784), labels.subarray(200));
  await writeFile(file, encodeTable(mnistTable(pixels, labels, 200, 400), 'parquet'));
  if (reindex) await indexDataset(join(dir, 'data/mnist'), { name: 'mnist', label: 'label', classes: 10 }, silentReporter);
}

interface BadCase {
  name: string;
  /** Breaks the copy (before the "before" hashes are taken). */
  setup: (ws: TeacherWorkspace) => Promise<void>;
  args: string[];
  code: number;
  /** Every one must match stderr. */
  stderr: RegExp[];
}

const SHA = '[0-9a-f]{64}';
const exp = (name: string, over: Record<string, unknown>) => (ws: TeacherWorkspace): Promise<void> => writeFile(join(ws.dir, `${name}.json`), JSON.stringify(goodExperiment(over)));

const cases: BadCase[] = [
  {
    name: 'a flipped byte in a shard',
    setup: (ws) => flip(join(ws.dir, 'stores/good/train/part-00001.parquet'), 200),
    args: ['verify', 'stores/good'],
    code: 1,
    stderr: [new RegExp(`^error: verify store stores/good: 1 problem\\n {2}- stores/good/train/part-00001\\.parquet: has sha256 ${SHA}, the manifest says ${SHA}$`, 'm')],
  },
  {
    name: 'a truncated shard',
    setup: (ws) => truncate(join(ws.dir, 'stores/good/train/part-00000.parquet'), 100),
    args: ['verify', 'stores/good'],
    code: 1,
    stderr: [/stores\/good\/train\/part-00000\.parquet: is 100 bytes, the manifest says \d+/],
  },
  {
    name: 'a missing shard',
    setup: (ws) => rm(join(ws.dir, 'stores/good/test/part-00000.parquet')),
    args: ['verify', 'stores/good'],
    code: 1,
    stderr: [/stores\/good\/test\/part-00000\.parquet: is missing \(ENOENT\)/],
  },
  {
    name: 'three broken shards at once: every one is listed',
    setup: async (ws) => {
      await flip(join(ws.dir, 'stores/good/train/part-00001.parquet'), 200);
      await truncate(join(ws.dir, 'stores/good/train/part-00000.parquet'), 100);
      await rm(join(ws.dir, 'stores/good/test/part-00000.parquet'));
    },
    args: ['verify', 'stores/good'],
    code: 1,
    stderr: [/verify store stores\/good: 3 problems/, /part-00000\.parquet: is 100 bytes/, /train\/part-00001\.parquet: has sha256/, /test\/part-00000\.parquet: is missing/],
  },
  {
    name: 'an edited manifest: overlapping shards',
    setup: (ws) => editJson(join(ws.dir, 'stores/good/manifest.json'), (m) => (at(m, 'splits.train.shards.1').rowStart = 200)),
    args: ['verify', 'stores/good'],
    code: 1,
    stderr: [/stores\/good\/manifest\.json: splits\.train\.shards\[1\] covers rows 200\.\.511 as index 1; expected index 1 from row 256, at most 256 rows \(an overlap: rows 200\.\.255 are in two shards\)/, /train\/part-00001\.parquet: has 256 rows, expected 312/],
  },
  {
    name: 'an edited manifest: a shard sha256',
    setup: (ws) => editJson(join(ws.dir, 'stores/good/manifest.json'), (m) => (at(m, 'splits.train.shards.0').sha256 = 'f'.repeat(64))),
    args: ['verify', 'stores/good'],
    code: 1,
    stderr: [new RegExp(`train/part-00000\\.parquet: has sha256 ${SHA}, the manifest says f{64}`), /train\/part-00000\.parquet\.json: the part record differs from the manifest \(part vs manifest\): sha256: "[0-9a-f]{64}" vs "f{64}"/],
  },
  ...(
    [
      ['teacher sha256', (m: Record<string, unknown>) => (at(m, 'teacher').sha256 = 'a'.repeat(64)), /teacher\.sha256 \(teacherSha256\): at capture "[0-9a-f]{64}", manifest "a{64}" \[4 of 4 shards\]/],
      ['card', (m: Record<string, unknown>) => (at(m, 'teacher.card.output').kind = 'log_probs'), /teacher\.card \(cardContentSha256\): at capture "[0-9a-f]{64}", manifest "[0-9a-f]{64}" \[4 of 4 shards\]/],
      ['dataset fingerprint', (m: Record<string, unknown>) => (at(m, 'dataset.splits.train').fingerprint = 'b'.repeat(64)), /dataset\.splits\.train\.fingerprint \(splitFingerprint\): at capture "[0-9a-f]{64}", manifest "b{64}" \[3 of 4 shards\]/],
      ['encoding', (m: Record<string, unknown>) => (at(m, 'encoding').precision = 'float16'), /encoding \(encoding\): at capture \{.*"precision":"float32".*\}, manifest \{.*"precision":"float16".*\} \[4 of 4 shards\]/],
    ] as const
  ).map(([what, edit, named]) => ({
    name: `a store manifest edited after capture (${what}): train-student refuses it, naming the field`,
    setup: (ws: TeacherWorkspace) => editJson(join(ws.dir, 'stores/good/manifest.json'), edit),
    args: ['train-student', '-c', 'good.json', '--set', 'train.run=runs/fresh'],
    code: 1,
    stderr: [/stores\/good\/manifest\.json does not match what was written at capture \(the part records next to its shards\), checked by train-student:/, named],
  })),
  {
    name: 'export of a run whose store manifest was edited after capture (teacher sha256)',
    setup: (ws) => editJson(join(ws.dir, 'stores/good/manifest.json'), (m) => (at(m, 'teacher').sha256 = 'a'.repeat(64))),
    args: ['export', '-c', 'good.json', '--out', 'exports/fresh'],
    code: 1,
    stderr: [/stores\/good\/manifest\.json does not match what was written at capture \(the part records next to its shards\), checked by the student run runs\/good:\n {2}- teacher\.sha256 \(teacherSha256\)/],
  },
  {
    name: 'evaluate of a run whose store manifest was edited after capture (dataset fingerprint)',
    setup: (ws) => editJson(join(ws.dir, 'stores/good/manifest.json'), (m) => (at(m, 'dataset.splits.test').fingerprint = 'c'.repeat(64))),
    args: ['evaluate', '-c', 'good.json', '--set', 'evaluate.report=reports/fresh', '--set', 'evaluate.export=exports/fresh'],
    code: 1,
    stderr: [/stores\/good\/manifest\.json does not match what was written at capture \(the part records next to its shards\), checked by the student run runs\/good:\n {2}- dataset\.splits\.test\.fingerprint \(splitFingerprint\): at capture "[0-9a-f]{64}", manifest "c{64}" \[test\/part-00000\.parquet\]/],
  },
  {
    name: 'finalize of a complete store whose manifest was edited after capture (card)',
    setup: (ws) => editJson(join(ws.dir, 'stores/good/manifest.json'), (m) => (at(m, 'teacher.card.output').kind = 'log_probs')),
    args: ['finalize', 'stores/good'],
    code: 1,
    stderr: [/stores\/good\/manifest\.json does not match what was written at capture \(the part records next to its shards\), checked by finalize:\n {2}- teacher\.card \(cardContentSha256\): at capture "[0-9a-f]{64}", manifest "[0-9a-f]{64}" \[4 of 4 shards\]/],
  },
  {
    name: 'an edited manifest that is not JSON',
    setup: (ws) => writeFile(join(ws.dir, 'stores/good/manifest.json'), '{"formatVersion": 1,'),
    args: ['verify', 'stores/good/manifest.json'],
    code: 1,
    stderr: [/stores\/good\/manifest\.json: is not valid JSON/],
  },
  {
    name: 'a dataset changed after capture (and re-indexed)',
    setup: (ws) => editDataset(ws.dir, (px) => (px[300] = 255 - px[300]!), true),
    args: ['verify', 'stores/good'],
    code: 1,
    stderr: [
      new RegExp(`stores/good/manifest\\.json: split "train" was captured from dataset rows with fingerprint ${SHA} \\(600 rows\\), but data/mnist now has ${SHA} \\(600 rows\\): the dataset changed after capture`),
      new RegExp(`stores/good/train/part-00000\\.parquet: was computed from dataset rows 0\\.\\.255 with fingerprint ${SHA}, but those rows of data/mnist now have ${SHA}`),
    ],
  },
  {
    name: 'a dataset file changed without its manifest',
    setup: (ws) => editDataset(ws.dir, (px) => (px[300] = 255 - px[300]!), false),
    args: ['verify', 'data/mnist'],
    code: 1,
    stderr: [new RegExp(`data/mnist/train/part-00001\\.parquet: (is \\d+ bytes, the manifest says \\d+|sha256 is ${SHA}, the manifest says ${SHA})`)],
  },
  {
    name: 'labels out of range (verify: the manifest says 10 classes)',
    setup: async (ws) => {
      await editDataset(ws.dir, (_px, labels) => (labels[3] = 11), false);
      const bytes = await readFile(join(ws.dir, 'data/mnist/train/part-00001.parquet'));
      await editJson(join(ws.dir, 'data/mnist/manifest.json'), (m) => Object.assign(at(m, 'splits.train.files.1'), { sha256: sha256Bytes(bytes), bytes: bytes.byteLength }));
    },
    args: ['verify', 'data/mnist'],
    code: 1,
    stderr: [/data\/mnist\/train\/part-00001\.parquet: row 203 has label 11, outside 0\.\.9 \(column "label"\)/, /data\/mnist\/train\/part-00001\.parquet: has content fingerprint/],
  },
  {
    name: 'labels out of range (data index --classes 10)',
    setup: async (ws) => {
      await editDataset(ws.dir, (_px, labels) => (labels[3] = 11), false);
      await rm(join(ws.dir, 'data/mnist/manifest.json'));
    },
    args: ['data', 'index', 'data/mnist', '--classes', '10'],
    code: 1,
    stderr: [/train\/part-00001\.parquet: row 203 has label 11, outside 0\.\.9/],
  },
  {
    name: 'NaN logits inside a shard whose checksums were updated',
    setup: (ws) => rewriteShard(ws.dir, 2, (l) => (l[5] = NaN)),
    args: ['verify', 'stores/good'],
    code: 1,
    stderr: [/stores\/good\/train\/part-00002\.parquet: holds 1 NaN\/Inf values; a stored shard never does/],
  },
  {
    name: 'a teacher with the wrong input shape, aimed at a good store',
    setup: async (ws) => {
      await writeTeacher(ws, 'narrow', { inputSize: 100 });
      await exp('narrow', { teacher: { path: 'teachers/narrow' } })(ws);
    },
    args: ['teacher-logits', '-c', 'narrow.json', '--force'],
    code: 1,
    stderr: [/teachers\/narrow\/model\.onnx: the model does not match its teacher card:\n {2}- input: expected "pixels" float32 \["batch", 784\] \(teacher card\), actual "pixels" float32 \["batch", 100\] \(model\)/],
  },
  {
    name: 'a teacher with the wrong input dtype, aimed at a good store',
    setup: async (ws) => {
      await writeTeacher(ws, 'int', { inputDtype: 'int32' });
      await exp('int', { teacher: { path: 'teachers/int' } })(ws);
    },
    args: ['teacher-logits', '-c', 'int.json', '--force'],
    code: 1,
    stderr: [/input: expected "pixels" float32 \["batch", 784\] \(teacher card\), actual "pixels" int32 \["batch", 784\] \(model\)/],
  },
  {
    name: 'a teacher file that is not ONNX, aimed at a good store',
    setup: async (ws) => {
      const junk = Buffer.from('this is not an ONNX model');
      await writeTeacher(ws, 'junk', {}, { sha256: sha256Bytes(junk) });
      await writeFile(join(ws.dir, 'teachers/junk/model.onnx'), junk);
      await exp('junk', { teacher: { path: 'teachers/junk' } })(ws);
    },
    args: ['teacher-logits', '-c', 'junk.json', '--force'],
    code: 1,
    stderr: [/teachers\/junk\/model\.onnx: ONNX Runtime cannot load it as an ONNX model/],
  },
  {
    name: 'a config path escaping the workspace',
    setup: exp('escape', { teacherLogits: { store: '../escape', device: 'cpu' } }),
    args: ['teacher-logits', '-c', 'escape.json'],
    code: 2,
    stderr: [/teacherLogits\.store "\.\.\/escape" escapes the workspace .*; paths must stay inside it/],
  },
  {
    name: 'two writers on one run folder',
    setup: (ws) => writeFile(join(ws.dir, 'runs/good/.lock'), JSON.stringify({ pid: process.pid, host: hostname(), purpose: 'train-student', since: 'now' })),
    args: ['train-student', '-c', 'good.json', '--force'],
    code: 1,
    stderr: [new RegExp(`runs/good is locked by another writer \\(pid ${process.pid} on .*, train-student since now\\)`)],
  },
  {
    name: 'a run whose weights changed',
    setup: (ws) => flip(join(ws.dir, 'runs/good/weights.bin'), 40),
    args: ['verify', 'runs/good'],
    code: 1,
    stderr: [new RegExp(`runs/good/weights\\.bin: has sha256 ${SHA}, the run manifest says ${SHA}`)],
  },
  {
    name: 'a run whose store was re-captured',
    setup: (ws) => editJson(join(ws.dir, 'stores/good/manifest.json'), (m) => (m.createdAt = new Date(0).toISOString())),
    args: ['verify', 'runs/good'],
    code: 1,
    stderr: [new RegExp(`stores/good/manifest\\.json: has sha256 ${SHA}, but the run was trained from a store manifest with sha256 ${SHA}`)],
  },
];

/** What `distill verify <path>` prints on stderr and exits with, computed in this process. */
async function verifyHere(path: string, cwd: string): Promise<{ code: number; stderr: string }> {
  const report = await verifyPath(join(cwd, path), cwd);
  return report.problems.length === 0 ? { code: 0, stderr: '' } : { code: 1, stderr: `error: ${formatVerifyReport(report)}\n` };
}

test('the good workspace verifies (CLI: exit 0, its dataset, store and run OK); a broken copy exits 1', async () => {
  const ok = await runCli(['verify', 'good.json'], { cwd: good.dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^verify experiment good\.json: OK$/m);
  assert.match(ok.stdout, /checked: dataset data\/mnist: OK\n {2}checked: store stores\/good: OK\n {2}checked: run runs\/good: OK/);
  const ws = await copyWorkspace(good);
  await flip(join(ws.dir, 'stores/good/train/part-00001.parquet'), 200);
  const r = await runCli(['verify', 'good.json'], { cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^error: verify experiment good\\.json: 1 problem\\n {2}- stores/good/train/part-00001\\.parquet: has sha256 ${SHA}, the manifest says ${SHA}\\n$`));
});

for (const c of cases) {
  test(`BAD CALL ${c.name}: exit ${c.code}, the culprit named, nothing that existed changed`, async () => {
    const ws = await copyWorkspace(good);
    await c.setup(ws);
    const before = await treeHashes(ws.dir);
    const r = c.args[0] === 'verify' ? await verifyHere(c.args[1]!, ws.dir) : await runCli(c.args, { cwd: ws.dir });
    assert.equal(r.code, c.code, `${c.args.join(' ')}\n${r.stderr}`);
    for (const re of c.stderr) assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.deepEqual(changedFiles(before, await treeHashes(ws.dir)), [], 'files that existed before the command are unchanged');
  });
}

/** Runs `fn` with a tmpfs mounted at a new folder; null (skip) where mounting is not allowed. */
async function withTmpfs<T>(sizeKb: number, fn: (dir: string) => Promise<T>): Promise<T | null> {
  const dir = await tmpDir('distill-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  try {
    return await fn(dir);
  } finally {
    execFileSync('umount', [dir]);
  }
}

test('BAD CALL a full disk (ENOSPC on a tmpfs): WriteError naming the file, no partial shard, the good store unchanged, resume completes', async (t) => {
  const done = await withTmpfs(4096, async (dir) => {
    const ws = { ...good, dir: join(dir, 'ws') };
    await mkdir(ws.dir);
    for (const p of ['data', 'teachers', 'stores/good', 'good.json']) await cp(join(good.dir, p), join(ws.dir, p), { recursive: true });
    await writeFile(join(ws.dir, 'full.json'), JSON.stringify(goodExperiment({ teacherLogits: { store: 'stores/full', shardRows: 256, batchSize: 64, device: 'cpu', format: 'arrow' } })));
    // Leave ~40 KiB free: the first shards (about 10 KiB each with their part records) fit, then the disk is full.
    const free = (await statfs(dir)).bavail * (await statfs(dir)).bsize;
    await writeFile(join(dir, 'filler'), Buffer.alloc(Math.max(0, free - 40 * 1024)));
    const before = await treeHashes(ws.dir);
    const r = await runCli(['teacher-logits', '-c', 'full.json'], { cwd: ws.dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: .*stores\/full\/(train|test)\/(\.)?part-\d{5}\.arrow(\.json)?: cannot write \(ENOSPC: no space left on device\); nothing was written under this name and an existing file is unchanged$/m);
    assert.deepEqual(changedFiles(before, await treeHashes(ws.dir)), [], 'no existing file changed');
    // Every shard under its final name is complete: it matches its part record, and no temp file is left.
    for (const split of ['train', 'test']) {
      const names = await readdir(join(ws.dir, 'stores/full', split)).catch(() => [] as string[]);
      assert.deepEqual(names.filter((n) => n.includes('.tmp-')), [], `${split}: no temp file left`);
      for (const n of names.filter((x) => x.endsWith('.arrow'))) {
        const part = JSON.parse(await readFile(join(ws.dir, 'stores/full', split, `${n}.json`), 'utf8').catch(() => 'null')) as { shard: { sha256: string } } | null;
        if (part) assert.equal(sha256Bytes(await readFile(join(ws.dir, 'stores/full', split, n))), part.shard.sha256, `${split}/${n} is complete`);
      }
    }
    await rm(join(dir, 'filler'));
    const resumed = await runCli(['teacher-logits', '-c', 'full.json'], { cwd: ws.dir });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((await runCli(['verify', 'stores/full'], { cwd: ws.dir })).code, 0);
    return true;
  });
  if (done === null) t.skip('mount -t tmpfs is not allowed here (needs root)');
});
