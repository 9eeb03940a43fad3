import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolveInWorkspace } from '../../pipeline/config/load-experiment.ts';
import { columnsWithRole, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { selectBackend } from '../../pipeline/engines/tfjs.ts';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { resolveEvaluateSection } from '../../pipeline/eval/resolve-evaluate-section.ts';
import { readEvalRows } from '../../pipeline/eval/read-eval-rows.ts';
import { exportCheckedStudent } from '../../pipeline/export/export-checked-student.ts';
import type { CheckedExport } from '../../pipeline/export/export-checked-student.ts';
import { loadStudentModel } from '../../pipeline/student/load-student-model.ts';
import { predictLayersModel } from '../../pipeline/student/predict-layers-model.ts';
import { resolveStudentRun } from '../../pipeline/student/resolve-student-run.ts';

/** Options of {@link runExport}. */
export interface ExportOptions {
  /** Run folder to export; default train.run. */
  run?: string;
  /** Output folder; default evaluate.export, itself default `<run>/export`. */
  out?: string;
}

/**
 * `distill export`: writes the trained student of `train.run` as ONNX (model.onnx + card.json +
 * export-manifest.json) and checks it with ONNX Runtime against tfjs on the eval split
 * (evaluate.limitRows rows when set): max abs diff <= 1e-4, or a DataError and no manifest.
 *
 * @example
 * const { written, parity } = await runExport(await loadExperiment('artifacts/experiments/mnist-kd/experiment.json'), {}, reporter);
 */
export async function runExport(exp: LoadedExperiment, opts: ExportOptions, reporter: Reporter): Promise<CheckedExport> {
  const cfg = exp.config;
  if (!cfg.train && !opts.run) throw new ConfigError('the experiment has no train section: export needs train.run (or --run <folder>)');
  const ev = resolveEvaluateSection(cfg.evaluate);
  const datasetDir = resolveInWorkspace(exp.workspace, 'dataset.path', cfg.dataset.path);
  const dataset = await readDatasetManifest(datasetDir);
  const run = await resolveStudentRun(exp, opts.run ?? cfg.train!.run, opts.run ? '--run' : 'train.run', dataset);
  const out = opts.out ? resolveInWorkspace(exp.workspace, '--out', opts.out) : ev.export ? resolveInWorkspace(exp.workspace, 'evaluate.export', ev.export) : `${run.dir}/export`;
  const choice = await selectBackend(cfg.train?.backend ?? 'auto');
  reporter.info(choice.notice);
  const { model } = await loadStudentModel(run.modelJson);
  const label = columnsWithRole(dataset, 'label')[0];
  if (!label) throw new DataError(`the dataset ${datasetDir} has no label column`);
  const rows = await readEvalRows({ dir: datasetDir, manifest: dataset, split: cfg.dataset.evalSplit, features: [run.feature], label: label.name, ...(ev.limitRows ? { limitRows: ev.limitRows } : {}) });
  const tfjsOutputs = predictLayersModel(model, rows.features.get(run.feature)!, rows.rows, run.inputScale, ev.batchSize);
  try {
    return await exportCheckedStudent(
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
      },
      reporter,
    );
  } finally {
    model.dispose();
  }
}
