/**
 * Bad token input at the teacher, through the real CLI: a dataset built by `distill data text` (char
 * tokenizer, windows of 16) meets sequence teachers that cannot take it. Each case is a DataError
 * naming the dataset/column or rows and both sides, exit 1, and no store manifest or shard written:
 * - windows longer than the teacher card's `context` (refused before the first batch);
 * - windows longer than the model's position table when the card does not declare `context`
 *   (ONNX Runtime's Gather fails; the error names the model and the rows);
 * - token ids beyond the teacher's vocabulary (refused before the first batch from the manifest's
 *   vocabulary sizes; at run time, naming the rows, when the card declares no vocabulary).
 * A control: the same position-table teacher with 16 positions runs.
 * (Bad text, ragged lists and ids beyond --vocab-size at indexing: data-text.test.ts,
 * data-index-lists.test.ts, list-features-pipeline.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { pathExists } from '../../pipeline/io/path-exists.ts';
import { makeTinySequenceTeacher } from '../fixtures/tiny-sequence-teacher.ts';
import type { TinySequenceOptions } from '../fixtures/tiny-sequence-teacher.ts';
import { runCli } from '../helpers/run-cli.ts';
import { writeSequenceTeacherFiles } from '../helpers/write-sequence-teacher-files.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

const CONTEXT = 16;
const TEXTS = ['the cat sat on the mat and looked at the garden', 'a dog ran far away from the river in the morning', 'birds sing at dawn over the small market'];

async function teacher(ws: string, name: string, task: 'causal-lm' | 'token-classification', opts: TinySequenceOptions, card: Record<string, unknown> = {}, dataset = 'data/corpus'): Promise<void> {
  const t = makeTinySequenceTeacher(opts);
  await writeSequenceTeacherFiles(join(ws, 'teachers', name), name, task, t.bytes, t.weights.classes, card);
  await writeFile(
    join(ws, `${name}.json`),
    JSON.stringify({
      name,
      dataset: { path: dataset, trainSplit: 'train', evalSplit: 'train' },
      teacher: { path: `teachers/${name}` },
      teacherLogits: { store: `stores/${name}`, splits: ['train'], shardRows: 16, batchSize: 4, device: 'cpu', encoding: { mode: 'topk', k: 2 } },
    }),
  );
}

/** Runs teacher-logits with experiment `name`; returns its stderr after checking exit 1 and that no store manifest or shard exists. */
async function refused(ws: string, name: string): Promise<string> {
  const r = await runCli(['teacher-logits', '-c', `${name}.json`], { cwd: ws });
  assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
  const store = join(ws, 'stores', name);
  assert.equal(await pathExists(join(store, 'manifest.json')), false, `${name}: no store manifest`);
  const files = (await pathExists(store)) ? await readdir(store, { recursive: true }) : [];
  assert.deepEqual(files.filter((f) => /\.(parquet|arrow)$/.test(f)), [], `${name}: no shard`);
  return r.stderr;
}

test('BAD INPUT at the teacher through the CLI: windows beyond the context or the position table, ids beyond the vocabulary', async () => {
  const ws = await tmpDir('distill-seqbad-');
  await mkdir(join(ws, 'corpus'));
  for (const [i, text] of TEXTS.entries()) await writeFile(join(ws, 'corpus', `d${i}.txt`), text);
  const built = await runCli(['data', 'text', 'corpus', '--out', 'data/corpus', '--context', String(CONTEXT), '--split', 'train=1'], { cwd: ws });
  assert.equal(built.code, 0, built.stderr);
  const manifest = JSON.parse(await readFile(join(ws, 'data/corpus/manifest.json'), 'utf8')) as DatasetManifest;
  const vocab = manifest.tokenizer!.vocabSize;
  const ids = manifest.columns.find((c) => c.name === 'input_ids')!;
  assert.deepEqual([manifest.task, ids.kind, ids.vocabSize], ['causal-lm', 'tokens', vocab]);

  // The card's context: refused before the first batch.
  await teacher(ws, 'ctx8', 'causal-lm', { vocab }, { context: 8 });
  assert.match(await refused(ws, 'ctx8'), /data\/corpus: windows of 16 tokens are longer than the teacher's context 8 \(.*card\.json\); rebuild the dataset with --context 8 or less/);

  // The model's own position table (8 rows), not declared in the card: ORT fails; the error names the model and the rows.
  await teacher(ws, 'pos8', 'causal-lm', { vocab, positions: 8 });
  assert.match(await refused(ws, 'pos8'), /teachers\/pos8\/model\.onnx: ONNX Runtime failed on data\/corpus train rows 0\.\.3 \(.*\); if the windows are longer than the model's position table .* declare "context" and "tokenizer\.vocabSize" in the teacher card/);
  // Control: a table of 16 positions takes the same windows.
  await teacher(ws, 'pos16', 'causal-lm', { vocab, positions: CONTEXT });
  const ok = await runCli(['teacher-logits', '-c', 'pos16.json'], { cwd: ws });
  assert.equal(ok.code, 0, ok.stderr);

  // Ids beyond the vocabulary: a causal LM's vocabulary is its output classes; a tagger's is its card's tokenizer.vocabSize.
  await teacher(ws, 'small-lm', 'causal-lm', { vocab: vocab - 3 });
  const v = vocab - 1;
  assert.match(await refused(ws, 'small-lm'), new RegExp(`data/corpus: column "input_ids" holds token ids 0\\.\\.${v} \\(vocabulary ${vocab}\\), but the teacher .*card\\.json has ${vocab - 3} ids \\(classes\\.count\\); ids ${vocab - 3}\\.\\.${v} are out of its vocabulary`));
  const lines = TEXTS.map((text, i) => JSON.stringify({ id: `t${i}`, text, labels: Array.from(text, (ch) => (ch === ' ' ? 0 : 1 + (ch.charCodeAt(0) % 3))) }));
  await writeFile(join(ws, 'tagged.jsonl'), `${lines.join('\n')}\n`);
  const builtTagged = await runCli(['data', 'text', 'tagged.jsonl', '--out', 'data/tagged', '--context', String(CONTEXT), '--split', 'train=1', '--id-field', 'id', '--labels-field', 'labels'], { cwd: ws });
  assert.equal(builtTagged.code, 0, builtTagged.stderr);
  const tagged = JSON.parse(await readFile(join(ws, 'data/tagged/manifest.json'), 'utf8')) as DatasetManifest;
  const tv = tagged.tokenizer!.vocabSize;
  assert.equal(tagged.task, 'token-classification');
  await teacher(ws, 'small-tagger', 'token-classification', { vocab: tv - 3, classes: 4 }, { tokenizer: { sha256: tagged.tokenizer!.sha256, vocabSize: tv - 3 } }, 'data/tagged');
  assert.match(await refused(ws, 'small-tagger'), new RegExp(`data/tagged: column "input_ids" holds token ids 0\\.\\.${tv - 1} \\(vocabulary ${tv}\\), but the teacher .*card\\.json has ${tv - 3} ids \\(tokenizer\\.vocabSize\\)`));
  // Without a declared vocabulary, the embedding Gather fails at run time, naming the model and the rows.
  await teacher(ws, 'blind-tagger', 'token-classification', { vocab: 3, classes: 4 }, {}, 'data/tagged');
  assert.match(await refused(ws, 'blind-tagger'), /teachers\/blind-tagger\/model\.onnx: ONNX Runtime failed on data\/tagged train rows 0\.\.3 \(/);
});
