import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { OpenSessionOptions } from '../../pipeline/engines/onnxruntime.ts';
import { ConfigError, DataError } from '../../pipeline/errors.ts';
import { readTokenSplit } from '../../pipeline/eval/read-token-split.ts';
import { exportCheckedSequence, SEQUENCE_PARITY_ROWS } from '../../pipeline/export/export-checked-sequence.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { StudentRun } from '../../pipeline/student/resolve-student-run.ts';
import { predictSequenceStudent } from '../../pipeline/student/sequence/predict-sequence-student.ts';
import { loadSequenceStudent } from '../../pipeline/student/sequence/sequence-model-file.ts';
import type { OutputKey } from '../../pipeline/up-to-date.ts';

/** What {@link runSequenceExport} needs (resolved by runExport). */
export interface SequenceExportInputs {
  exp: LoadedExperiment;
  run: StudentRun;
  dataset: DatasetManifest;
  datasetDir: string;
  out: string;
  key: OutputKey;
  session: OpenSessionOptions;
}

/**
 * `distill export` for a sequence student: model.onnx + card.json + export-manifest.json, checked at
 * every position of the first 64 eval rows (evaluate.limitRows when smaller) against tfjs within
 * 1e-4. The teacher is not needed.
 * @throws ConfigError when the architecture is not exported (gru, lstm): nothing is written, and the
 *   message says why; DataError on a parity failure or a dataset that is not a token dataset.
 */
export async function runSequenceExport(inp: SequenceExportInputs, reporter: Reporter): Promise<{ manifestPath: string; upToDate: boolean }> {
  const { exp, run, dataset, datasetDir } = inp;
  const cfg = exp.config;
  const task = dataset.task;
  if (task !== 'token-classification' && task !== 'causal-lm') throw new DataError(`${datasetDir}: task is ${task ?? 'classification'}; the sequence student of ${run.dir} is checked on a token dataset (task token-classification or causal-lm)`);
  const maskColumn = dataset.columns.find((c) => c.role === 'mask')?.name ?? null;
  const limit = Math.min(SEQUENCE_PARITY_ROWS, cfg.evaluate?.limitRows ?? SEQUENCE_PARITY_ROWS);
  const rows = await readTokenSplit({ dir: datasetDir, manifest: dataset, split: cfg.dataset.evalSplit, idsColumn: run.feature, maskColumn, limitRows: limit });
  const student = await loadSequenceStudent(run.modelJson);
  let tfjsOutputs: Float32Array;
  try {
    tfjsOutputs = predictSequenceStudent(student, rows.inputIds, rows.attentionMask, rows.rows, 16);
  } finally {
    student.dispose();
  }
  const tok = dataset.tokenizer;
  const done = await exportCheckedSequence(
    {
      run,
      dir: inp.out,
      name: `${cfg.name}-student`,
      task,
      ...(tok ? { tokenizer: { kind: tok.kind, file: tok.file, sha256: tok.sha256, vocabSize: tok.vocabSize } } : {}),
      idsColumn: run.feature,
      maskColumn: maskColumn ?? 'attention_mask',
      rows: rows.rows,
      inputIds: rows.inputIds,
      attentionMask: rows.attentionMask,
      tfjsOutputs,
      split: cfg.dataset.evalSplit,
      session: inp.session,
      workspace: exp.workspace,
      key: inp.key,
    },
    reporter,
  );
  if (!done.exportable) throw new ConfigError(`nothing exported: ${done.reason}`);
  return { manifestPath: done.manifestPath, upToDate: false };
}
