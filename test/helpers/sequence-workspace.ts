/**
 * A throwaway workspace for per-position (sequence) teacher-logits tests: a token dataset written
 * with apache-arrow + `indexDataset` (right-padded windows, char tokenizer file, task recorded), the
 * tiny sequence teacher with its card, and experiment configs.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Field, FixedSizeList, Int32, Int64, RecordBatch, Schema, Struct, Table, Uint8, makeData } from 'apache-arrow';
import { indexDataset } from '../../pipeline/dataset/index-dataset.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { encodeTable } from '../../pipeline/io/table-files.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { makeTinySequenceTeacher } from '../fixtures/tiny-sequence-teacher.ts';
import type { TinySequenceOptions, TinySequenceTeacher } from '../fixtures/tiny-sequence-teacher.ts';
import { tmpDir } from './tmp-dir.ts';
import { writeSequenceTeacherFiles } from './write-sequence-teacher-files.ts';

/** What the workspace holds. */
export interface SequenceWorkspace {
  dir: string;
  /** Workspace-relative dataset path. */
  dataset: string;
  rows: number;
  context: number;
  vocab: number;
  /** Row-major ids and masks of the train split (rows * context). */
  ids: Int32Array;
  mask: Uint8Array;
  tokenizerSha256: string;
}

const list = (name: string, size: number, item: Int32 | Uint8): Field => new Field(name, new FixedSizeList(size, new Field('item', item, false)), false);

function tokenTable(rowStart: number, ids: Int32Array, mask: Uint8Array, length: Int32Array, l: number): Table {
  const n = length.length;
  const schema = new Schema([new Field('row', new Int64(), false), list('input_ids', l, new Int32()), list('attention_mask', l, new Uint8()), new Field('length', new Int32(), false)]);
  const fsl = (i: number, child: ReturnType<typeof makeData>) => makeData({ type: schema.fields[i]!.type as FixedSizeList, length: n, nullCount: 0, child });
  const children = [
    makeData({ type: new Int64(), length: n, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(rowStart + i)) }),
    fsl(1, makeData({ type: new Int32(), length: n * l, data: ids })),
    fsl(2, makeData({ type: new Uint8(), length: n * l, data: mask })),
    makeData({ type: new Int32(), length: n, data: length }),
  ];
  return new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }))]);
}

/**
 * Creates the workspace: `rows` windows of `context` tokens (ids 2..vocab-1, lengths 1..context,
 * right padding with id 0), in files of `rowsPerFile` rows, task `task`.
 */
export async function sequenceWorkspace(rows = 60, context = 12, vocab = 40, task: 'causal-lm' | 'token-classification' = 'causal-lm', rowsPerFile = 25): Promise<SequenceWorkspace> {
  const dir = await tmpDir('distill-seq-');
  const data = join(dir, 'data/tokens');
  await mkdir(join(data, 'train'), { recursive: true });
  const rand = mulberry32(7);
  const ids = new Int32Array(rows * context);
  const mask = new Uint8Array(rows * context);
  const length = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    length[r] = r % 5 === 0 ? context : 1 + Math.floor(rand() * context);
    for (let t = 0; t < length[r]!; t++) {
      ids[r * context + t] = 2 + Math.floor(rand() * (vocab - 2));
      mask[r * context + t] = 1;
    }
  }
  for (let start = 0, i = 0; start < rows; start += rowsPerFile, i++) {
    const end = Math.min(rows, start + rowsPerFile);
    const table = tokenTable(start, ids.slice(start * context, end * context), mask.slice(start * context, end * context), length.slice(start, end), context);
    await writeFile(join(data, `train/part-${String(i).padStart(5, '0')}.parquet`), encodeTable(table, 'parquet'));
  }
  await indexDataset(data, { name: 'tokens', label: null, features: ['input_ids', 'attention_mask', 'length'] }, silentReporter);
  const vocabFile = JSON.stringify({ kind: 'char', normalization: 'NFC', pad: '<pad>', unk: '<unk>', symbols: ['<pad>', '<unk>', ...Array.from({ length: vocab - 2 }, (_, i) => String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(i) : ''))] });
  await writeFile(join(data, 'vocab.json'), vocabFile);
  const manifestPath = join(data, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as DatasetManifest;
  const tokenizerSha256 = sha256Bytes(vocabFile);
  manifest.task = task;
  manifest.tokenizer = { kind: 'char', file: 'vocab.json', sha256: tokenizerSha256, vocabSize: vocab, normalization: 'NFC' };
  manifest.sequence = { context, stride: context, lengths: { min: Math.min(...length), mean: length.reduce((s, x) => s + x, 0) / rows, max: Math.max(...length) } };
  for (const c of manifest.columns) {
    if (c.name === 'attention_mask') c.role = 'mask';
    if (c.name === 'length') c.role = 'length';
    if (c.name === 'input_ids') Object.assign(c, { kind: 'tokens', vocabSize: vocab });
  }
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
  return { dir, dataset: 'data/tokens', rows, context, vocab, ids, mask, tokenizerSha256 };
}

/** Writes the tiny sequence teacher and its card under `<ws>/teachers/<name>`; card fields can be overridden. */
export async function writeSequenceTeacher(ws: SequenceWorkspace, name: string, opts: TinySequenceOptions = {}, card: Record<string, unknown> = {}): Promise<TinySequenceTeacher> {
  const teacher = makeTinySequenceTeacher({ vocab: ws.vocab, ...opts });
  const task = JSON.parse(await readFile(join(ws.dir, ws.dataset, 'manifest.json'), 'utf8')).task as string;
  await writeSequenceTeacherFiles(join(ws.dir, 'teachers', name), name, task, teacher.bytes, ws.vocab, {
    tokenizer: { kind: 'char', file: 'vocab.json', sha256: ws.tokenizerSha256, vocabSize: ws.vocab },
    context: 64,
    ...card,
  });
  return teacher;
}

/** Writes `<ws>/<name>.json`, an experiment capturing the train split with teacher `teacher` into `stores/<name>`. */
export async function writeSequenceExperiment(ws: SequenceWorkspace, name: string, teacher: string, teacherLogits: Record<string, unknown> = {}): Promise<string> {
  const file = join(ws.dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      name,
      dataset: { path: ws.dataset, trainSplit: 'train', evalSplit: 'train' },
      teacher: { path: `teachers/${teacher}` },
      teacherLogits: { store: `stores/${name}`, splits: ['train'], shardRows: 16, batchSize: 8, device: 'cpu', ...teacherLogits },
    }),
  );
  return file;
}
