/**
 * teacherLogits.reduceInGraph: top-k stores whose reduction ran inside the teacher's graph equal the
 * host-reduced stores of the same capture (ids exact, logits and tail_lse within float tolerance,
 * NaN/Inf counts and rows equal), on the tiny sequence teacher and on the MNIST classification path
 * (the committed mnist-cnn teacher); the manifest records the rewritten model's sha256 next to the
 * original's, verify rebuilds it, resume keeps host and graph shards apart, kill -9 + resume gives the
 * bytes of an uninterrupted run; teacherLogits.maxBatchBytes sizes the batches.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { indexDataset } from '../../pipeline/dataset/index-dataset.ts';
import { inProcessSessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { atomicWrite } from '../../pipeline/io/atomic-write.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { encodeTable } from '../../pipeline/io/table-files.ts';
import { CollectingReporter, silentReporter } from '../../pipeline/reporter.ts';
import { openStore } from '../../pipeline/store/open-store.ts';
import type { ShardTargets } from '../../pipeline/store/soft-target-store.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import { appendTopKGraph } from '../../pipeline/teacher/top-k-graph.ts';
import { mnistTable } from '../../stages/data/mnist-table.ts';
import { formatStoreSummary, inspectStore } from '../../stages/teacher-logits/inspect-store.ts';
import { finalizeStore } from '../../stages/teacher-logits/finalize-store.ts';
import { runTeacherLogits, runTeacherWorker } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { verifyStoreDir } from '../../stages/verify/verify-store-dir.ts';
import { killAtFirstShard } from '../helpers/kill-at-first-shard.ts';
import { runCli } from '../helpers/run-cli.ts';
import { sequenceWorkspace, writeSequenceExperiment, writeSequenceTeacher } from '../helpers/sequence-workspace.ts';
import { teacherWorkspace, writeExperiment, writeTeacher } from '../helpers/teacher-workspace.ts';

const opts = { sessionFactory: inProcessSessionFactory };
const projectRoot = join(import.meta.dirname, '../..');

async function shardsOf(dir: string, split = 'train'): Promise<ShardTargets[]> {
  const store = await openStore(dir);
  return Promise.all(store.shards(split).map((s) => store.readShard(split, s.index)));
}

const shas = async (dir: string, split = 'train'): Promise<string[]> => (await openStore(dir)).shards(split).map((s) => `${s.index} ${s.sha256}`);

/** Graph-reduced shards equal host-reduced ones: same rows and lengths, ids exact, values within `tol` (relative above 1). */
function assertSameTopK(graph: ShardTargets[], host: ShardTargets[], tol: number, label: string): void {
  assert.equal(graph.length, host.length, `${label}: shards`);
  graph.forEach((g, s) => {
    const h = host[s]!;
    assert.deepEqual([g.rowStart, g.rowEnd, g.positions], [h.rowStart, h.rowEnd, h.positions], `${label} shard ${s}`);
    if (h.length) assert.deepEqual([...g.length!], [...h.length], `${label} shard ${s}: lengths`);
    assert.deepEqual([...g.topkIndex!], [...h.topkIndex!], `${label} shard ${s}: ids`);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string): void => {
      for (let i = 0; i < b.length; i++) {
        const [x, y] = [a[i]!, b[i]!];
        if (x === y) continue; // equal, including -Infinity tails of k = V and zero padding
        assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `${label} shard ${s}: ${what}[${i}] graph ${x}, host ${y}`);
      }
    };
    close(g.topkLogit!, h.topkLogit!, 'topk_logit');
    close(g.tailLogSumExp!, h.tailLogSumExp!, 'tail_lse');
  });
}

test('sequence teacher (causal LM): graph-reduced top-k equals host-reduced; the manifest ties the rewritten model to the original', async () => {
  const ws = await sequenceWorkspace(60, 12, 300);
  const teacher = await writeSequenceTeacher(ws, 'seq');
  const enc = { encoding: { mode: 'topk', k: 5, temperature: 2, precision: 'float32' } };
  const run = async (name: string, tl: Record<string, unknown>, reporter = silentReporter): Promise<StoreManifest> =>
    runTeacherLogits(await loadExperiment(await writeSequenceExperiment(ws, name, 'seq', { ...enc, ...tl }), [], ws.dir), opts, reporter);
  const host = await run('host', {});
  const reporter = new CollectingReporter();
  const graph = await run('graph', { reduceInGraph: true }, reporter);
  assertSameTopK(await shardsOf(join(ws.dir, 'stores/graph')), await shardsOf(join(ws.dir, 'stores/host')), 1e-5, 'seq');
  assert.deepEqual(graph.splits.train!.shards.map((s) => s.tokens), host.splits.train!.shards.map((s) => s.tokens));

  // The manifest: the original file's sha256 as before, the rewritten model's next to it.
  const rewritten = appendTopKGraph(teacher.bytes, 'model.onnx', { output: 'logits', kind: 'logits', classes: 300, k: 5, temperature: 2 });
  assert.equal(graph.teacher.sha256, sha256Bytes(teacher.bytes));
  assert.equal(host.teacher.graphReduction, undefined);
  assert.deepEqual(graph.teacher.graphReduction, { sha256: rewritten.sha256, bytes: rewritten.bytes.byteLength, opsetVersion: 13, ops: rewritten.ops });
  assert.notEqual(rewritten.sha256, graph.teacher.sha256);
  assert.ok(reporter.messages('info').some((m) => m.includes(`the rewritten model's sha256 is ${rewritten.sha256}`)));
  const part = JSON.parse(await readFile(join(ws.dir, 'stores/graph/train/part-00000.parquet.json'), 'utf8')) as { key: { reducedModelSha256?: string; teacherSha256: string } };
  assert.deepEqual([part.key.teacherSha256, part.key.reducedModelSha256], [graph.teacher.sha256, rewritten.sha256]);
  assert.match(formatStoreSummary(await inspectStore(join(ws.dir, 'stores/graph'), 1, ws.dir)), new RegExp(`reduction   in the teacher graph \\(Sub, IsNaN.*TopK.*ReduceLogSumExp; opset 13\\); ORT ran the rewritten model, sha256 ${rewritten.sha256.slice(0, 16)}`));

  // verify rebuilds the rewritten model from the teacher on disk; an edited hash is caught twice.
  const ok = await verifyStoreDir(join(ws.dir, 'stores/graph'), ws.dir);
  assert.deepEqual(ok.problems, []);
  assert.ok(ok.checked.some((c) => c.includes('the graph-reduced model rebuilt from it has the recorded sha256')), ok.checked.join('\n'));
  const manifestPath = join(ws.dir, 'stores/graph/manifest.json');
  const edited = JSON.parse(await readFile(manifestPath, 'utf8')) as StoreManifest;
  edited.teacher.graphReduction!.sha256 = 'a'.repeat(64);
  await writeFile(manifestPath, JSON.stringify(edited));
  const bad = (await verifyStoreDir(join(ws.dir, 'stores/graph'), ws.dir)).problems.map((p) => p.problem).join('\n');
  assert.match(bad, /teacher\.graphReduction\.sha256 \(reducedModelSha256\): at capture "[0-9a-f]{64}", manifest "a{64}"/);
  assert.match(bad, new RegExp(`teacher\\.graphReduction\\.sha256 is a{64}, but the teacher with the top-k reduction \\(k 5, T_c 2\\) appended has sha256 ${rewritten.sha256}`));

  // Host and graph shards are never mixed: switching is another capture (refused; --force recomputes).
  await assert.rejects(run('host', { reduceInGraph: true }), { name: 'DataError', message: /already holds soft targets of another capture[^]*reducedModelSha256: stored none \(host reduction\), now "[0-9a-f]{64}"/ });

  // Two sharded workers + finalize: the same shards and the same recorded rewritten model.
  const wfile = await writeSequenceExperiment(ws, 'workers', 'seq', { ...enc, reduceInGraph: true });
  for (let i = 0; i < 2; i++) await runTeacherWorker(await loadExperiment(wfile, [], ws.dir), { index: i, count: 2, source: 'flags', describe: `--shard-index ${i}` }, opts, silentReporter);
  const merged = await finalizeStore(join(ws.dir, 'stores/workers'), silentReporter);
  assert.deepEqual(merged.manifest.teacher.graphReduction, graph.teacher.graphReduction);
  assert.deepEqual(await shas(join(ws.dir, 'stores/workers')), await shas(join(ws.dir, 'stores/graph')));

  // maxBatchBytes: 3 rows of the [B, 12, 300] float32 output (14,400 bytes each) fit in 50,000 bytes.
  const sized = await run('sized', { reduceInGraph: true, maxBatchBytes: 50_000, batchSize: 1000 });
  assert.equal(sized.runtime.batchSize, 3);
  assert.deepEqual(sized.config.maxBatchBytes, 50_000);
  assertSameTopK(await shardsOf(join(ws.dir, 'stores/sized')), await shardsOf(join(ws.dir, 'stores/host')), 1e-5, 'batch 3');
});

test('MNIST classification (committed mnist-cnn teacher, views too): graph-reduced top-k equals host-reduced', async () => {
  const ws = await teacherWorkspace(300, 100, 150);
  const dir = join(ws.dir, 'teachers/cnn');
  await mkdir(dir, { recursive: true });
  for (const f of ['model.onnx', 'card.json']) await copyFile(join(projectRoot, 'artifacts/teachers/mnist-cnn', f), join(dir, f));
  const capture = async (name: string, tl: Record<string, unknown>): Promise<StoreManifest> =>
    runTeacherLogits(await loadExperiment(await writeExperiment(ws, name, 'cnn', { shardRows: 128, batchSize: 48, ...tl }), [], ws.dir), opts, silentReporter);
  for (const [label, tl] of [
    ['k 3, T 2', { encoding: { mode: 'topk', k: 3, temperature: 2 } }],
    ['k 10 = C, T 1', { encoding: { mode: 'topk', k: 10, temperature: 1 } }],
    ['K 3 views, k 2, T 4', { encoding: { mode: 'topk', k: 2, temperature: 4 }, views: { count: 3, seed: 1, image: { shift: 2, rotation: 10 } } }],
  ] as const) {
    const name = label.replace(/[^a-z0-9]+/gi, '-');
    await capture(`${name}-host`, tl);
    const m = await capture(`${name}-graph`, { ...tl, reduceInGraph: true });
    assert.equal(m.teacher.graphReduction!.opsetVersion, 13);
    for (const split of ['train', 'test']) {
      assertSameTopK(await shardsOf(join(ws.dir, `stores/${name}-graph`), split), await shardsOf(join(ws.dir, `stores/${name}-host`), split), 1e-5, `${label} ${split}`);
    }
  }
});

test('NaN/Inf and probs outputs: the graph counts and zeroes exactly what the host does, under both policies', async () => {
  const ws = await teacherWorkspace(20, 10, 20);
  // 40 rows; rows 7 and 31 have pixel 0 = 255, which the NaN-injecting probs teacher turns into NaN rows.
  const images = new Uint8Array(40 * 784);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7) % 251;
  for (let r = 0; r < 40; r++) images[r * 784] = r === 7 || r === 31 ? 255 : 0;
  await atomicWrite(join(ws.dir, 'data/nan/train/part-00000.parquet'), encodeTable(mnistTable(images, Uint8Array.from({ length: 40 }, (_, i) => i % 10), 0, 40), 'parquet'));
  await indexDataset(join(ws.dir, 'data/nan'), { name: 'nan', label: 'label', classes: 10 }, silentReporter);
  await writeTeacher(ws, 'nan', { injectNaN: true, nanThreshold: 0.5, outputKind: 'probs' });
  const capture = async (name: string, tl: Record<string, unknown>): Promise<StoreManifest> => {
    const file = await writeExperiment(ws, name, 'nan', { splits: ['train'], shardRows: 16, batchSize: 8, encoding: { mode: 'topk', k: 4, temperature: 1.5 }, ...tl });
    const json = JSON.parse(await readFile(file, 'utf8')) as { dataset: { path: string } };
    json.dataset.path = 'data/nan';
    await writeFile(file, JSON.stringify(json));
    return runTeacherLogits(await loadExperiment(file, [], ws.dir), opts, silentReporter);
  };
  for (const reduceInGraph of [false, true]) {
    await assert.rejects(capture(`err-${reduceInGraph}`, { reduceInGraph }), { name: 'DataError', message: /the teacher produced NaN\/Inf for 1 row of split "train": rows 7; teacherLogits\.nonFinite is "error"/ });
  }
  const host = await capture('zero-host', { nonFinite: 'zero' });
  const graph = await capture('zero-graph', { nonFinite: 'zero', reduceInGraph: true });
  const counts = (m: StoreManifest): unknown => m.splits.train!.shards.map((s) => [s.nonFinite, s.nonFiniteRows]);
  assert.deepEqual(counts(graph), [[10, [7]], [10, [31]], [0, []]]);
  assert.deepEqual(counts(graph), counts(host));
  assertSameTopK(await shardsOf(join(ws.dir, 'stores/zero-graph')), await shardsOf(join(ws.dir, 'stores/zero-host')), 1e-5, 'probs, zero policy');
});

test('BAD CALL: reduceInGraph on a dense or sampled store, maxBatchBytes on a classifier', async () => {
  const ws = await sequenceWorkspace(10, 6, 20);
  await writeSequenceTeacher(ws, 'seq');
  for (const mode of ['dense', 'sampled']) {
    const file = await writeSequenceExperiment(ws, mode, 'seq', { encoding: { mode }, reduceInGraph: true });
    await assert.rejects(runTeacherLogits(await loadExperiment(file, [], ws.dir), opts, silentReporter), { name: 'ConfigError', message: new RegExp(`teacherLogits\\.reduceInGraph applies to top-k stores, but encoding\\.mode is ${mode}`) });
  }
  const cls = await teacherWorkspace(20, 10, 20);
  await writeTeacher(cls, 'mlp');
  const file = await writeExperiment(cls, 'mbb', 'mlp', { maxBatchBytes: 1e6 });
  await assert.rejects(runTeacherLogits(await loadExperiment(file, [], cls.dir), opts, silentReporter), { name: 'ConfigError', message: /teacherLogits\.maxBatchBytes sizes the batches of a sequence teacher's \[batch, seq, vocab\] output; this teacher is a classifier/ });
});

test('kill -9 during a graph-reduced capture (CLI flags), then resume: the same shard bytes as an uninterrupted run', async () => {
  const ws = await sequenceWorkspace(400, 24, 200);
  await writeSequenceTeacher(ws, 'seq');
  const enc = { encoding: { mode: 'topk', k: 8, temperature: 1.5 }, shardRows: 20, batchSize: 10 };
  await writeSequenceExperiment(ws, 'ref', 'seq', enc);
  await writeSequenceExperiment(ws, 'crash', 'seq', enc);
  const flags = ['--reduce-in-graph', '--max-batch-bytes', String(10 * 24 * 200 * 4)];
  const ref = await runCli(['teacher-logits', '-c', 'ref.json', ...flags], { cwd: ws.dir });
  assert.equal(ref.code, 0, ref.stdout + ref.stderr);
  const first = await runCli(['teacher-logits', '-c', 'crash.json', ...flags], { cwd: ws.dir, onSpawn: killAtFirstShard(join(ws.dir, 'stores/crash/train')) });
  assert.equal(first.signal, 'SIGKILL', `the capture finished before the kill: ${first.stdout + first.stderr}`);
  const again = await runCli(['teacher-logits', '-c', 'crash.json', ...flags], { cwd: ws.dir });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout + again.stderr, /resuming: [1-9]\d* of 20 shards are complete/);
  assert.deepEqual(await shas(join(ws.dir, 'stores/crash')), await shas(join(ws.dir, 'stores/ref')));
  const m = (await openStore(join(ws.dir, 'stores/crash'))).manifest;
  assert.deepEqual([m.config.reduceInGraph, m.runtime.batchSize, m.teacher.graphReduction !== undefined], [true, 10, true]);
});
