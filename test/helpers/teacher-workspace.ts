/**
 * A throwaway workspace for teacher-logits tests: a small MNIST subset (built once per test file),
 * tiny teachers from test/fixtures/tiny-teacher.ts with their cards, and experiment configs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { runMnistData } from '../../stages/data/run-mnist.ts';
import { makeTinyTeacher } from '../fixtures/tiny-teacher.ts';
import type { TinyTeacher, TinyTeacherOptions } from '../fixtures/tiny-teacher.ts';
import { tmpDir } from './tmp-dir.ts';

/** Pixel scale of the cards: pixels / 255. */
export const PIXEL_SCALE = 1 / 255;

/** A workspace with data/mnist (train and test subsets). */
export interface TeacherWorkspace {
  dir: string;
  /** Workspace-relative dataset path. */
  dataset: string;
  train: number;
  test: number;
}

/** Creates the workspace and its MNIST subset (`rowsPerFile` rows per dataset file). */
export async function teacherWorkspace(train = 1000, test = 300, rowsPerFile = 400): Promise<TeacherWorkspace> {
  const dir = await tmpDir('distill-tl-');
  await runMnistData({ out: join(dir, 'data/mnist'), limitTrain: train, limitTest: test, rowsPerFile }, silentReporter);
  return { dir, dataset: 'data/mnist', train, test };
}

/** Writes a tiny teacher and its card under `<ws>/teachers/<name>`; card fields can be overridden. */
export async function writeTeacher(ws: TeacherWorkspace, name: string, opts: TinyTeacherOptions = {}, card: Record<string, unknown> = {}): Promise<TinyTeacher> {
  const teacher = makeTinyTeacher(opts);
  const dir = join(ws.dir, 'teachers', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), teacher.bytes);
  const cfg = teacher.config;
  await writeFile(
    join(dir, 'card.json'),
    JSON.stringify({
      formatVersion: 1,
      name,
      model: 'model.onnx',
      sha256: sha256Bytes(teacher.bytes),
      inputs: [{ name: cfg.inputName, column: 'pixels', dtype: 'float32', shape: ['batch', 784], preprocess: { scale: PIXEL_SCALE, offset: 0 } }],
      output: { name: cfg.outputName, kind: cfg.outputKind },
      classes: { count: cfg.classes, names: Array.from({ length: cfg.classes }, (_, i) => `digit ${i}`) },
      ...card,
    }),
  );
  return teacher;
}

/** Writes `<ws>/<name>.json`, an experiment using teacher `teacher`, storing to `stores/<name>`. */
export async function writeExperiment(ws: TeacherWorkspace, name: string, teacher: string, teacherLogits: Record<string, unknown> = {}): Promise<string> {
  const file = join(ws.dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      name,
      dataset: { path: ws.dataset },
      teacher: { path: `teachers/${teacher}` },
      teacherLogits: { store: `stores/${name}`, shardRows: 256, batchSize: 64, device: 'cpu', ...teacherLogits },
    }),
  );
  return file;
}
