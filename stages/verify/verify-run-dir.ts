import type { ExperimentConfig } from '../../pipeline/config/experiment-config.ts';
import { resolveValidation, validationRecord } from '../../pipeline/config/validation-rows.ts';
import type { ValidationPlan } from '../../pipeline/config/validation-rows.ts';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkAgainstSchema } from '../../pipeline/config/validate-schema.ts';
import { readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { sha256Bytes, sha256File } from '../../pipeline/io/sha256.ts';
import { STORE_MANIFEST } from '../../pipeline/store/store-manifest.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import { CHECKPOINT_DIR, readLatestCheckpoint } from '../../pipeline/student/checkpoint.ts';
import { RUN_MANIFEST } from '../../pipeline/student/run-manifest.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { canonicalJson, jsonDiffs, newReport, readJson } from './verify-report.ts';
import type { VerifyReport } from './verify-report.ts';

/** Bytes of the tensors a tfjs model.json's weight specs describe. */
function weightSpecBytes(model: unknown): number | null {
  const groups = (model as { weightsManifest?: { weights?: { shape: number[]; dtype?: string }[] }[] }).weightsManifest;
  if (!Array.isArray(groups)) return null;
  let bytes = 0;
  for (const g of groups) for (const w of g.weights ?? []) bytes += w.shape.reduce((p, d) => p * d, 1) * (w.dtype === 'float32' || w.dtype === 'int32' || w.dtype === undefined ? 4 : 1);
  return bytes;
}

/** The run's inputs at their recorded paths, when present: dataset fingerprints, store manifest sha256. */
async function inputProblems(m: RunManifest, workspace: string, report: VerifyReport, where: string): Promise<void> {
  const ds = m.inputs.dataset;
  try {
    const dataset = await readDatasetManifest(resolve(workspace, ds.path));
    for (const [s, rec] of Object.entries(ds.splits)) {
      const now = dataset.splits[s];
      if (!now || now.fingerprint !== rec.fingerprint || now.rows !== rec.rows) {
        report.problems.push({ file: where, problem: `was trained on split "${s}" with fingerprint ${rec.fingerprint} (${rec.rows} rows), but ${ds.path} now has ${now ? `${now.fingerprint} (${now.rows} rows)` : 'no such split'}` });
      }
    }
    report.checked.push(`dataset ${ds.path}: split fingerprints`);
  } catch (err) {
    if ((err as Error).message.includes('does not exist')) report.notes.push(`the dataset ${ds.path} is not on disk: its fingerprints were not checked`);
    else report.problems.push({ file: join(ds.path, 'manifest.json'), problem: (err as Error).message });
  }
  const st = m.inputs.store;
  if (!st) return;
  const storeManifest = join(resolve(workspace, st.path), STORE_MANIFEST);
  let text: string;
  try {
    text = await readFile(storeManifest, 'utf8');
  } catch {
    report.notes.push(`the store ${st.path} is not on disk: its manifest sha256 was not checked`);
    return;
  }
  const sha = sha256Bytes(text);
  if (sha !== st.manifestSha256) {
    report.problems.push({ file: displayPath(storeManifest, workspace), problem: `has sha256 ${sha}, but the run was trained from a store manifest with sha256 ${st.manifestSha256} (the store was re-captured or edited after training)` });
  }
  const teacher = (() => {
    try {
      return (JSON.parse(text) as { teacher?: { sha256?: string } }).teacher?.sha256;
    } catch {
      return undefined;
    }
  })();
  if (teacher !== st.teacherSha256) report.problems.push({ file: displayPath(storeManifest, workspace), problem: `names teacher sha256 ${String(teacher)}, the run recorded ${st.teacherSha256}` });
  report.checked.push(`store ${st.path}: manifest sha256 and teacher sha256`);
}

/**
 * The validation rows the run recorded against the ones its resolved config gives: a carve-out is
 * drawn again from the seed and the recorded train rows, and its ids' sha256 must match; the test
 * metrics must be on dataset.evalSplit and the per-epoch ones on validation.
 */
function validationProblems(m: RunManifest, cfg: ExperimentConfig, report: VerifyReport, where: string): void {
  if (m.validation === undefined) return; // a run from before dataset.validation existed
  const trainRows = m.inputs.dataset.splits[cfg.dataset.trainSplit]?.rows;
  let plan: ValidationPlan | null;
  try {
    plan = trainRows === undefined ? null : resolveValidation(cfg, trainRows);
  } catch (err) {
    report.problems.push({ file: where, problem: `its config's dataset.validation does not resolve: ${(err as Error).message}` });
    return;
  }
  const want = plan ? validationRecord(plan, cfg.seed, m.inputs.dataset.splits[plan.split]?.rows ?? -1) : null;
  if (canonicalJson(want) !== canonicalJson(m.validation)) {
    report.problems.push({ file: where, problem: `records validation ${JSON.stringify(m.validation)}, but its config gives ${JSON.stringify(want)}` });
  }
  if (m.test && m.test.split !== cfg.dataset.evalSplit) report.problems.push({ file: where, problem: `its test metrics are on "${m.test.split}", not dataset.evalSplit "${cfg.dataset.evalSplit}"` });
  if (want && m.final.eval.role !== 'validation') report.problems.push({ file: where, problem: 'has validation rows, but its per-epoch metrics are not on them' });
  report.checked.push(want ? `validation rows (${want.kind}${want.rowIdsSha256 ? `, ids sha256 ${want.rowIdsSha256.slice(0, 12)}` : ''}) drawn again from the config` : 'no validation rows: per-epoch metrics on the test split, nothing chosen');
}

/**
 * Verifies a student run folder and collects every problem: run-manifest.json (schema), weights.bin
 * (sha256 as recorded, size as model.json's weight specs say), model.json, config.resolved.json
 * (schema; the sha256 of its config and its source's sha256 as the manifest records), metrics.jsonl
 * (one line per epoch 1..N, the last equal to the manifest's `final`), the last checkpoint (its bin's
 * sha256, its epoch) and, when on disk at the recorded paths, the inputs: the dataset's split
 * fingerprints and the store manifest's sha256 and teacher.
 *
 * @example
 * const report = await verifyRunDir('artifacts/experiments/mnist-kd/runs/distilled');
 */
export async function verifyRunDir(dir: string, workspace: string = process.cwd()): Promise<VerifyReport> {
  const shownDir = displayPath(dir, workspace);
  const report = newReport('run', shownDir);
  const where = join(shownDir, RUN_MANIFEST);
  const read = await readJson(join(dir, RUN_MANIFEST), where);
  if ('problem' in read) {
    if (read.problem.problem === 'is missing') read.problem.problem = 'is missing: the run is not finished (train-student --resume continues it)';
    report.problems.push(read.problem);
    return report;
  }
  const schema = checkAgainstSchema('run-manifest', read.value);
  if (schema.length > 0) {
    report.problems.push(...schema.map((p) => ({ file: where, problem: p.message })));
    return report;
  }
  const m = read.value as RunManifest;
  const file = (name: string): { abs: string; shown: string } => ({ abs: join(dir, name), shown: join(shownDir, name) });

  const weights = file(m.outputs.weights);
  let weightsBytes: number | null = null;
  try {
    weightsBytes = (await stat(weights.abs)).size;
    const sha = await sha256File(weights.abs);
    if (sha !== m.outputs.weightsSha256) report.problems.push({ file: weights.shown, problem: `has sha256 ${sha}, the run manifest says ${m.outputs.weightsSha256}` });
  } catch (err) {
    report.problems.push({ file: weights.shown, problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
  }
  const model = file(m.outputs.model);
  const modelJson = await readJson(model.abs, model.shown);
  if ('problem' in modelJson) report.problems.push(modelJson.problem);
  else {
    const expected = weightSpecBytes(modelJson.value);
    if (expected === null) report.problems.push({ file: model.shown, problem: 'has no weightsManifest' });
    else if (weightsBytes !== null && expected !== weightsBytes) report.problems.push({ file: weights.shown, problem: `is ${weightsBytes} bytes, but ${m.outputs.model}'s weight specs describe ${expected}` });
  }

  const cfg = file(m.outputs.config);
  const resolved = await readJson(cfg.abs, cfg.shown);
  if ('problem' in resolved) report.problems.push(resolved.problem);
  else {
    const rec = resolved.value as { config?: unknown; sourceSha256?: string };
    const sha = sha256Bytes(JSON.stringify(rec.config));
    if (sha !== m.config.resolvedSha256) report.problems.push({ file: cfg.shown, problem: `its config has sha256 ${sha}, the run manifest says ${m.config.resolvedSha256} (edited after the run)` });
    if (rec.sourceSha256 !== m.config.sourceSha256) report.problems.push({ file: cfg.shown, problem: `sourceSha256 is ${String(rec.sourceSha256)}, the run manifest says ${m.config.sourceSha256}` });
    const problems = checkAgainstSchema('experiment', structuredClone(rec.config));
    if (problems.length > 0) report.problems.push({ file: cfg.shown, problem: `is not a valid resolved config: ${problems.map((p) => p.message).join('; ')}` });
    else validationProblems(m, rec.config as ExperimentConfig, report, where);
  }

  const metrics = file(m.outputs.metrics);
  try {
    const lines = (await readFile(metrics.abs, 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { epoch: number });
    const epochs = lines.map((l) => l.epoch);
    // Early stopping ends before training.epochs: the last trained epoch is final.epoch.
    if (m.final.epoch > m.training.epochs) report.problems.push({ file: where, problem: `final.epoch ${m.final.epoch} is beyond training.epochs ${m.training.epochs}` });
    const want = Array.from({ length: Math.min(m.final.epoch, m.training.epochs) }, (_, i) => i + 1);
    if (canonicalJson(epochs) !== canonicalJson(want)) report.problems.push({ file: metrics.shown, problem: `holds epochs [${epochs.join(', ')}], expected [${want.join(', ')}]` });
    const last = lines[lines.length - 1];
    if (last && canonicalJson(last) !== canonicalJson(m.final)) report.problems.push({ file: metrics.shown, problem: `its last line differs from the run manifest's final metrics: ${jsonDiffs(last, m.final).join('; ')}` });
  } catch (err) {
    report.problems.push({ file: metrics.shown, problem: `cannot be read as JSON lines (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
  }

  try {
    const ckpt = await readLatestCheckpoint(dir);
    if (!ckpt) report.notes.push(`${join(shownDir, CHECKPOINT_DIR)} holds no checkpoint (resume needs one)`);
    else if (ckpt.meta.epoch !== m.final.epoch) report.problems.push({ file: join(shownDir, CHECKPOINT_DIR), problem: `the last checkpoint is of epoch ${ckpt.meta.epoch}, the run trained ${m.final.epoch}` });
  } catch (err) {
    report.problems.push({ file: join(shownDir, CHECKPOINT_DIR), problem: (err as Error).message });
  }
  report.checked.push('run manifest schema', 'weights.bin sha256 and size, model.json', 'config.resolved.json sha256', 'metrics.jsonl epochs and final line', 'last checkpoint sha256');
  await inputProblems(m, workspace, report, where);
  return report;
}
