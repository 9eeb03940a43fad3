import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import { columnsWithRole, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { selectBackend } from '../../pipeline/engines/tfjs.ts';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { resolveEvaluateSection } from '../../pipeline/eval/resolve-evaluate-section.ts';
import { readEvalRows } from '../../pipeline/eval/read-eval-rows.ts';
import { join } from 'node:path';
import { evaluationKey } from '../../pipeline/eval/evaluation-key.ts';
import { EXPORT_MANIFEST, exportCheckedStudent } from '../../pipeline/export/export-checked-student.ts';
import { pathExists } from '../../pipeline/io/path-exists.ts';
import { readJsonFile } from '../../pipeline/io/read-json.ts';
import { outputKeyDifferences } from '../../pipeline/up-to-date.ts';
import type { OutputKey } from '../../pipeline/up-to-date.ts';
import { loadStudentModel } from '../../pipeline/student/load-student-model.ts';
import { predictLayersModel } from '../../pipeline/student/predict-layers-model.ts';
import { resolveStudentRun } from '../../pipeline/student/resolve-student-run.ts';
import { isSequenceRun } from '../../pipeline/student/sequence/sequence-model-file.ts';
import { runSequenceExport } from './run-sequence-export.ts';

/** Options of {@link runExport}. */
export interface ExportOptions {
  /** Run folder to export; default train.run. */
  run?: string;
  /** Output folder; default evaluate.export, itself default `<run>/export`. */
  out?: string;
  /** Export again even when the export is up to date (same config, run, dataset and code). Default false. */
  force?: boolean;
}

/** What {@link runExport} did. */
export interface ExportResult {
  /** export-manifest.json of the export. */
  manifestPath: string;
  /** True when the export was already up to date and nothing was written. */
  upToDate: boolean;
}

/** Whether `dir` holds a finished export (model.onnx and export-manifest.json) recorded with `key`. */
async function exportUpToDate(dir: string, key: OutputKey): Promise<boolean> {
  if (!(await pathExists(join(dir, 'model.onnx')))) return false;
  const read = await readJsonFile(join(dir, EXPORT_MANIFEST));
  return read.ok && outputKeyDifferences((read.value as { key?: OutputKey }).key, key).length === 0;
}

/**
 * `distill export`: writes the trained student of `train.run` as ONNX (model.onnx + card.json +
 * export-manifest.json) and checks it with ONNX Runtime against tfjs on the eval split
 * (evaluate.limitRows rows when set): max abs diff <= 1e-4, or a DataError and no manifest. A
 * sequence student (model.json format distill-sequence-student) goes through runSequenceExport.
 *
 * @example
 * const { written, parity } = await runExport(await loadExperiment('artifacts/experiments/mnist-kd/experiment.json'), {}, reporter);
 */
export async function runExport(exp: LoadedExperiment, opts: ExportOptions, reporter: Reporter): Promise<ExportResult> {
  const cfg = exp.config;
  if (!cfg.train && !opts.run) throw new ConfigError('the experiment has no train section: export needs train.run (or --run <folder>)');
  const ev = resolveEvaluateSection(cfg.evaluate);
  const datasetDir = resolveInWorkspace(exp.workspace, 'dataset.path', cfg.dataset.path);
  const dataset = await readDatasetManifest(datasetDir);
  const run = await resolveStudentRun(exp, opts.run ?? cfg.train!.run, opts.run ? '--run' : 'train.run', dataset);
  const out = opts.out ? resolveInWorkspace(exp.workspace, '--out', opts.out) : ev.export ? resolveInWorkspace(exp.workspace, 'evaluate.export', ev.export) : `${run.dir}/export`;
  const key = await evaluationKey(exp, { run, dataset, splits: [cfg.dataset.evalSplit] });
  if (!opts.force && (await exportUpToDate(out, key))) {
    reporter.info(`${join(out, 'model.onnx')} is up to date (same resolved config, student run, dataset and code): nothing exported`, { upToDate: true });
    return { manifestPath: join(out, EXPORT_MANIFEST), upToDate: true };
  }
  const choice = await selectBackend(cfg.train?.backend ?? 'auto');
  reporter.info(choice.notice);
  if (await isSequenceRun(run.dir)) return runSequenceExport({ exp, run, dataset, datasetDir, out, key, session: { device: ev.device, intraOpThreads: ev.intraOpThreads } }, reporter);
  const { model } = await loadStudentModel(run.modelJson);
  const label = columnsWithRole(dataset, 'label')[0];
  if (!label) throw new DataError(`the dataset ${datasetDir} has no label column`);
  const rows = await readEvalRows({ dir: datasetDir, manifest: dataset, split: cfg.dataset.evalSplit, features: [run.feature], label: label.name, ...(ev.limitRows ? { limitRows: ev.limitRows } : {}) });
  const tfjsOutputs = predictLayersModel(model, rows.features.get(run.feature)!, rows.rows, run.inputScale, ev.batchSize);
  try {
    const done = await exportCheckedStudent(
      {
        run,
        model,
        dir: out,
        name: `${cfg.name}-student`,
        columns: rows.features,
        rows: rows.rows,
        tfjsOutputs,
        split: cfg.dataset.evalSplit,
        session: { device: ev.device, intraOpThreads: ev.intraOpThreads },
        workspace: exp.workspace,
        key,
      },
      reporter,
    );
    return { manifestPath: done.manifestPath, upToDate: false };
  } finally {
    model.dispose();
  }
}
