/**
 * A small workspace with every artifact in a known good state, for the fault and bad-input tests:
 * an MNIST subset (600 train + 200 test rows, files of 200), a tiny ONNX teacher, the store of
 * `good.json` (shards of 256 rows, Parquet) and its student run (1 epoch, cpu backend). Tests copy
 * it and break the copy.
 */
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadExperiment } from '../../pipeline/config/load-experiment.ts';
import { silentReporter } from '../../pipeline/reporter.ts';
import { runTeacherLogits } from '../../stages/teacher-logits/run-teacher-logits.ts';
import { runTrainStudent } from '../../stages/train-student/run-train-student.ts';
import { teacherWorkspace, writeTeacher } from './teacher-workspace.ts';
import type { TeacherWorkspace } from './teacher-workspace.ts';
import { tmpDir } from './tmp-dir.ts';

/** The experiment of the good workspace; `over` replaces whole sections. */
export function goodExperiment(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'good',
    seed: 3,
    dataset: { path: 'data/mnist' },
    teacher: { path: 'teachers/good' },
    teacherLogits: { store: 'stores/good', shardRows: 256, batchSize: 64, device: 'cpu' },
    student: { arch: 'mlp', hidden: [16] },
    train: { run: 'runs/good', epochs: 1, batchSize: 50, backend: 'cpu' },
    ...over,
  };
}

/** Builds the good workspace (teacher-logits and train-student run in this process). */
export async function goodWorkspace(opts: { train?: boolean } = {}): Promise<TeacherWorkspace> {
  const ws = await teacherWorkspace(600, 200, 200);
  await writeTeacher(ws, 'good', { seed: 21 });
  await writeFile(join(ws.dir, 'good.json'), JSON.stringify(goodExperiment()));
  const exp = await loadExperiment('good.json', [], ws.dir);
  await runTeacherLogits(exp, {}, silentReporter);
  if (opts.train !== false) await runTrainStudent(exp, {}, silentReporter);
  return ws;
}

/** A fresh copy of a workspace (a new temporary directory). */
export async function copyWorkspace(ws: TeacherWorkspace, prefix = 'distill-case-'): Promise<TeacherWorkspace> {
  const dir = await tmpDir(prefix);
  await cp(ws.dir, dir, { recursive: true });
  return { ...ws, dir };
}
