/**
 * Per-position soft-target stores on the tiny sequence teacher (test/fixtures/tiny-sequence-teacher.ts)
 * over a token dataset (test/helpers/sequence-workspace.ts): top-k against a plain float64 reference,
 * sampled stores identical across batch sizes and worker counts, dense budget, tokenizer check,
 * DuckDB reading the shards, kill -9 + resume.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { inProcessSessionFactory } from '../../pipeline/engines/onnxruntime.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { openStore, verifyStore } from '../../pipeline/store/open-store.ts';
import type { ShardTargets } from '../../pipeline/store/soft-target-store.ts';
import { formatStoreSummary, inspectStore } from '../../stages/teacher-logits/inspect-store.ts';
import { finalizeStore } from '../../stages/teacher-logits/finalize-store.ts';
import { runTeacherLogits, runTeacherWorker } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { tinySequenceForward } from '../fixtures/tiny-sequence-teacher.ts';
import { killAtFirstShard } from '../helpers/kill-at-first-shard.ts';
import { runCli } from '../helpers/run-cli.ts';
import { sequenceWorkspace, writeSequenceExperiment, writeSequenceTeacher } from '../helpers/sequence-workspace.ts';

const opts = { sessionFactory: inProcessSessionFactory };

async function capture(ws: { dir: string }, name: string, tl: Record<string, unknown>, teacher = 'seq'): Promise<ShardTargets[]> {
  const file = await writeSequenceExperiment(ws as never, name, teacher, tl);
  await runTeacherLogits(await loadExperiment(file, [], ws.dir), opts, silentReporter);
  const store = await openStore(join(ws.dir, 'stores', name));
  await verifyStore(store);
  return Promise.all(store.shards('train').map((s) => store.readShard('train', s.index)));
}

const shas = async (dir: string): Promise<string[]> => (await openStore(dir)).shards('train').map((s) => `${s.index} ${s.sha256}`);

test('per-position topk (causal LM) equals a plain float64 reference: ids exact, logits and tail_lse within 1e-4, padding empty', async () => {
  const ws = await sequenceWorkspace();
  const teacher = await writeSequenceTeacher(ws, 'seq');
  const k = 5;
  const T = 2;
  const shards = await capture(ws, 'topk', { encoding: { mode: 'topk', k, temperature: T } });
  const L = ws.context;
  const P = L - 1;
  const ref = tinySequenceForward(teacher.weights, ws.ids, ws.mask, ws.rows, L);
  let checked = 0;
  for (const s of shards) {
    assert.equal(s.positions, P);
    for (let row = s.rowStart; row < s.rowEnd; row++) {
      const r = row - s.rowStart;
      const len = ws.mask.subarray(row * L, (row + 1) * L).reduce((a, b) => a + b, 0);
      assert.equal(s.length![r], len);
      for (let pos = 0; pos < P; pos++) {
        const at = (r * P + pos) * k;
        if (pos >= len - 1) {
          assert.deepEqual([...s.topkIndex!.subarray(at, at + k), s.tailLogSumExp![r * P + pos]], [...new Array(k).fill(0), 0], `row ${row} padding position ${pos}`);
          continue;
        }
        const z = Array.from(ref.subarray((row * L + pos) * ws.vocab, (row * L + pos + 1) * ws.vocab));
        const order = z.map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        assert.deepEqual([...s.topkIndex!.subarray(at, at + k)], order.slice(0, k).map(([, j]) => j), `row ${row} position ${pos}`);
        order.slice(0, k).forEach(([v], i) => assert.ok(Math.abs(s.topkLogit![at + i]! - v) < 1e-4));
        const tail = Math.log(order.slice(k).reduce((a, [v]) => a + Math.exp(v / T), 0));
        assert.ok(Math.abs(s.tailLogSumExp![r * P + pos]! - tail) < 1e-4, `row ${row} position ${pos}: tail ${s.tailLogSumExp![r * P + pos]} vs ${tail}`);
        checked++;
      }
    }
  }
  const tokens = [...ws.mask].reduce((a, b) => a + b, 0) - ws.rows; // one fewer target than real tokens per row
  assert.equal(checked, tokens);
  const m = (await openStore(join(ws.dir, 'stores/topk'))).manifest;
  const bytes = m.splits.train!.shards.reduce((a, x) => a + x.bytes, 0);
  assert.deepEqual([m.encoding.positions, m.encoding.target, m.splits.train!.shards.reduce((a, x) => a + x.tokens!, 0)], [P, 'next-token', tokens]);
  assert.equal(m.encoding.bytesPerToken, Math.round((bytes / tokens) * 100) / 100);

  const summary = await inspectStore(join(ws.dir, 'stores/topk'), 1, ws.dir);
  assert.equal(summary.bytesPerToken, m.encoding.bytesPerToken);
  assert.match(summary.tokenNote!, /tokens named by the dataset's char tokenizer \(vocab\.json\)/);
  assert.equal(summary.samples[0]!.position, 0);
  assert.equal(typeof summary.samples[0]!.top[0]!.name, 'string');
  assert.match(formatStoreSummary(summary), /per position, 11 next-token positions per row.*\n(.|\n)*bytes per stored token/);

  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const rows = (await con.runAndReadAll(`select count(*)::int, sum(length)::int, min(len(topk_index))::int, max(len(tail_lse))::int from read_parquet('${join(ws.dir, 'stores/topk/train')}/*.parquet')`)).getRows();
  assert.deepEqual(rows, [[ws.rows, tokens + ws.rows, P * k, P]]);
  con.closeSync();
});

test('sampled stores are byte-identical across batch sizes and worker counts', async () => {
  const ws = await sequenceWorkspace(50, 10, 30, 'token-classification');
  await writeSequenceTeacher(ws, 'seq');
  const enc = { encoding: { mode: 'sampled', samples: 12, temperature: 1.5, seed: 3 } };
  const a = await capture(ws, 'sa', { ...enc, batchSize: 8 });
  await capture(ws, 'sb', { ...enc, batchSize: 3 });
  assert.deepEqual(await shas(join(ws.dir, 'stores/sb')), await shas(join(ws.dir, 'stores/sa')));
  const file = await writeSequenceExperiment(ws, 'sw', 'seq', { ...enc, batchSize: 5 });
  for (let i = 0; i < 3; i++) await runTeacherWorker(await loadExperiment(file, [], ws.dir), { index: i, count: 3, source: 'flags', describe: `--shard-index ${i}` }, opts, silentReporter);
  const merged = await finalizeStore(join(ws.dir, 'stores/sw'), silentReporter);
  assert.deepEqual(await shas(join(ws.dir, 'stores/sw')), await shas(join(ws.dir, 'stores/sa')));
  assert.equal(merged.manifest.encoding.bytesPerToken, (await openStore(join(ws.dir, 'stores/sa'))).manifest.encoding.bytesPerToken);
  // token classification: every real token is a target, N = 12 draws each, P = L positions.
  const s = a[0]!;
  assert.equal(s.positions, 10);
  const m = 12;
  for (let r = 0; r < s.rowEnd - s.rowStart; r++) {
    for (let pos = 0; pos < 10; pos++) {
      const sum = s.sampleCount!.subarray((r * 10 + pos) * m, (r * 10 + pos + 1) * m).reduce((x, y) => x + y, 0);
      assert.equal(sum, pos < s.length![r]! ? 12 : 0);
    }
  }
  const other = await capture(ws, 'sc', { encoding: { mode: 'sampled', samples: 12, temperature: 1.5, seed: 4 } });
  assert.notDeepEqual(other[0]!.sampleIndex, a[0]!.sampleIndex);
});

test('BAD CALL: dense over its byte budget, a dataset of another tokenizer, of another task', async () => {
  const ws = await sequenceWorkspace(20, 8, 16);
  await writeSequenceTeacher(ws, 'seq');
  const file = await writeSequenceExperiment(ws, 'dense', 'seq', { encoding: { mode: 'dense', precision: 'float16', denseMaxBytes: 4000 } });
  await assert.rejects(runTeacherLogits(await loadExperiment(file, [], ws.dir), opts, silentReporter), {
    name: 'ConfigError',
    message: /a dense float16 store would take 4480 bytes \(4480 bytes: 20 rows x 7 positions x 16 logits\), above teacherLogits\.encoding\.denseMaxBytes = 4000/,
  });
  const ok = await capture(ws, 'dense2', { encoding: { mode: 'dense', denseMaxBytes: 8960 } });
  assert.equal(ok[0]!.logits!.length, 16 * 7 * 16);
  await writeSequenceTeacher(ws, 'other-tok', {}, { tokenizer: { sha256: 'b'.repeat(64) } });
  const f2 = await writeSequenceExperiment(ws, 'tok', 'other-tok', { encoding: { mode: 'topk', k: 2 } });
  await assert.rejects(runTeacherLogits(await loadExperiment(f2, [], ws.dir), opts, silentReporter), {
    name: 'DataError',
    message: new RegExp(`tokenized with tokenizer sha256 ${ws.tokenizerSha256}, but the teacher .* was trained with tokenizer sha256 ${'b'.repeat(64)}`),
  });
  await writeSequenceTeacher(ws, 'tagger', {}, { task: 'token-classification' });
  const f3 = await writeSequenceExperiment(ws, 'task', 'tagger', { encoding: { mode: 'topk', k: 2 } });
  await assert.rejects(runTeacherLogits(await loadExperiment(f3, [], ws.dir), opts, silentReporter), { name: 'DataError', message: /the dataset's task is causal-lm, but the teacher .* is a token-classification teacher/ });
});

test('kill -9 during a sampled sequence capture, then resume: the same shard bytes as an uninterrupted run', async () => {
  const ws = await sequenceWorkspace(400, 24, 200);
  await writeSequenceTeacher(ws, 'seq');
  const enc = { encoding: { mode: 'sampled', samples: 32, temperature: 1, seed: 9 }, shardRows: 20, batchSize: 10 };
  await writeSequenceExperiment(ws, 'ref', 'seq', enc);
  await writeSequenceExperiment(ws, 'crash', 'seq', enc);
  const ref = await runCli(['teacher-logits', '-c', 'ref.json'], { cwd: ws.dir });
  assert.equal(ref.code, 0, ref.stdout + ref.stderr);
  const first = await runCli(['teacher-logits', '-c', 'crash.json'], { cwd: ws.dir, onSpawn: killAtFirstShard(join(ws.dir, 'stores/crash/train')) });
  assert.equal(first.signal, 'SIGKILL', `the capture finished before the kill: ${first.stdout + first.stderr}`);
  const again = await runCli(['teacher-logits', '-c', 'crash.json'], { cwd: ws.dir });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout + again.stderr, /resuming: [1-9]\d* of 20 shards are complete/);
  assert.deepEqual(await shas(join(ws.dir, 'stores/crash')), await shas(join(ws.dir, 'stores/ref')));
});
