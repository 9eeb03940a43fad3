/**
 * A dataset whose feature is a DuckDB-written `list<float>` column, the way DuckDB, pandas/pyarrow,
 * Polars, Spark and Hugging Face `datasets` store arrays, runs through the whole pipeline on the
 * real CLI: `data index`, `teacher-logits` with a real ONNX teacher whose input is bound to the list
 * column, `train-student` and `evaluate`. Two layouts: every row has the teacher's 6 values
 * (a constant-length list, used as a fixed feature), and ragged rows of 4..6 values indexed with
 * `--max-length x=6` (read right-padded with 0). The rows come from the tabular blobs of
 * test/fixtures/tabular-dataset.ts (written by apache-arrow as fixed_size_list) and are rewritten by
 * DuckDB as lists; the teacher is those blobs' Bayes classifier.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import type { EvaluateReport } from '../../stages/evaluate/evaluate-report.ts';
import { writeTabularDataset, writeTabularTeacher } from '../fixtures/tabular-dataset.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

const TRAIN = 400;
const TEST = 150;

/**
 * Rewrites `<ws>/src/<split>/part-00000.parquet` (x: fixed_size_list<float32>[6]) with DuckDB as
 * `<ws>/<out>/<split>/part-00000.parquet` with x as a DuckDB list (FLOAT[]): all 6 values, or the
 * first 4 + row % 3 values when ragged.
 */
async function duckdbLists(ws: string, out: string, ragged: boolean): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (const split of ['train', 'test']) {
    await mkdir(join(ws, out, split), { recursive: true });
    const x = ragged ? 'list_slice(x::FLOAT[], 1, 4 + (row % 3)::INTEGER)' : 'x::FLOAT[]';
    await conn.run(`COPY (SELECT row, ${x} AS x, label FROM read_parquet('${join(ws, 'src', split, 'part-00000.parquet')}') ORDER BY row) TO '${join(ws, out, split, 'part-00000.parquet')}' (FORMAT parquet)`);
  }
  conn.closeSync();
}

async function experiment(ws: string, name: string, dataset: string): Promise<string> {
  const file = `${name}.json`;
  await writeFile(
    join(ws, file),
    JSON.stringify({
      name,
      seed: 3,
      dataset: { path: dataset },
      teacher: { path: 'teachers/bayes' },
      teacherLogits: { store: `stores/${name}`, device: 'cpu', shardRows: 256 },
      student: { arch: 'mlp', hidden: [16] },
      train: { run: `runs/${name}`, epochs: 3, batchSize: 32, learningRate: 0.01, backend: 'cpu', temperature: 2, alpha: 0.2 },
      evaluate: { corruptionRows: 100, severities: [3], latencyRuns: 5, throughputBatches: 1 },
    }),
  );
  return file;
}

/** Runs teacher-logits, train-student and evaluate; returns the report and the run manifest. */
async function runPipeline(ws: string, config: string, name: string): Promise<{ report: EvaluateReport; run: RunManifest }> {
  for (const args of [['teacher-logits', '-c', config], ['train-student', '-c', config], ['evaluate', '-c', config]]) {
    const res = await runCli(args, { cwd: ws });
    assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
  }
  const report = JSON.parse(await readFile(join(ws, `runs/${name}/report/metrics.json`), 'utf8')) as EvaluateReport;
  const run = JSON.parse(await readFile(join(ws, `runs/${name}/run-manifest.json`), 'utf8')) as RunManifest;
  return { report, run };
}

async function manifestOf(ws: string, dataset: string): Promise<DatasetManifest> {
  return JSON.parse(await readFile(join(ws, dataset, 'manifest.json'), 'utf8')) as DatasetManifest;
}

test('a DuckDB list<float> feature column runs through data index, teacher-logits, train-student and evaluate (constant and ragged lengths)', async () => {
  const ws = await tmpDir('distill-lists-');
  await writeTabularDataset(join(ws, 'src'), TRAIN, TEST);
  await writeTabularTeacher(join(ws, 'teachers/bayes'));
  await duckdbLists(ws, 'data/const', false);
  await duckdbLists(ws, 'data/ragged', true);

  // Constant length: indexed without options, the same fingerprint as the fixed_size_list source.
  for (const [dir, extra] of [['src', []], ['data/const', []]] as const) {
    const res = await runCli(['data', 'index', dir, ...extra], { cwd: ws });
    assert.equal(res.code, 0, res.stderr);
  }
  const src = await manifestOf(ws, 'src');
  const constant = await manifestOf(ws, 'data/const');
  const x = constant.columns.find((c) => c.name === 'x')!;
  assert.equal(src.columns.find((c) => c.name === 'x')!.type, 'fixed_size_list<float32>[6]');
  assert.equal(x.type, 'list<float32>', 'DuckDB writes a list, not a fixed_size_list');
  assert.deepEqual(x.sequence!.lengths, { min: 6, mean: 6, max: 6 });
  assert.equal(constant.splits.train!.fingerprint, src.splits.train!.fingerprint);
  assert.equal(constant.splits.test!.fingerprint, src.splits.test!.fingerprint);

  const c = await runPipeline(ws, await experiment(ws, 'const', 'data/const'), 'const');
  assert.equal(c.run.status, 'complete');
  assert.equal(c.report.inputs.dataset.rows, TEST);
  assert.ok(c.report.headline.teacherAccuracy > 0.6, `the Bayes teacher read the list column: accuracy ${c.report.headline.teacherAccuracy}`);
  assert.ok(c.report.robustness.skipped === null && c.report.robustness.featureKind === 'vector', JSON.stringify(c.report.robustness));

  // Ragged: refused without --max-length (DataError naming file, row and column), then padded to 6.
  const refused = await runCli(['data', 'index', 'data/ragged'], { cwd: ws });
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, /test\/part-00000\.parquet: row 1 of list column "x" has 5 values, but test\/part-00000\.parquet row 0 has 4: .*--max-length x=N/);
  const indexed = await runCli(['data', 'index', 'data/ragged', '--max-length', 'x=6', '--padding', 'right', '--pad-value', '0'], { cwd: ws });
  assert.equal(indexed.code, 0, indexed.stderr);
  const ragged = (await manifestOf(ws, 'data/ragged')).columns.find((col) => col.name === 'x')!;
  assert.equal(ragged.type, 'list<float32>');
  assert.deepEqual({ ...ragged.sequence!, lengths: { ...ragged.sequence!.lengths, mean: Math.round(ragged.sequence!.lengths.mean * 100) / 100 } }, { maxLength: 6, padding: 'right', padValue: 0, lengths: { min: 4, mean: 5, max: 6 } });

  const r = await runPipeline(ws, await experiment(ws, 'ragged', 'data/ragged'), 'ragged');
  assert.equal(r.run.status, 'complete');
  assert.equal(r.report.inputs.dataset.rows, TEST);
  // Rows with 4 or 5 values miss the two widest features, so the teacher is weaker than on all 6, but far above chance (1/3).
  assert.ok(r.report.headline.teacherAccuracy > 0.45, `teacher accuracy on padded rows ${r.report.headline.teacherAccuracy}`);
  assert.ok(r.report.headline.teacherAccuracy <= c.report.headline.teacherAccuracy + 0.05);

  // A teacher wider than the declared maximum length is refused before the first batch, naming both sides.
  const short = await runCli(['data', 'index', 'data/ragged', '--max-length', 'x=7'], { cwd: ws });
  assert.equal(short.code, 0, short.stderr);
  const bad = await runCli(['teacher-logits', '-c', 'ragged.json', '--set', 'teacherLogits.store=stores/ragged7'], { cwd: ws });
  assert.equal(bad.code, 1, bad.stdout);
  assert.match(bad.stderr, /expected column "x" with 6 numeric values per row \(input "x" float32 \["batch", 6\]\), actual column "x": list<float32> \(7 values per row\); a list column is read padded to its maximum length \(re-index with --max-length x=6\)/);
});
