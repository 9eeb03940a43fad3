/**
 * The evaluate stage for sequence students (token classification, causal LM): both models on the
 * validation and test rows of a token dataset, the sequence report (sequence-report.ts: token metrics,
 * slices, diacritisation or LM sections, cascades chosen on validation), the hard-label baseline, the
 * token robustness suite, the export to ONNX (or why there is none) and both models timed in one ONNX
 * Runtime setup. docs/evaluation.md, "Sequence reports".
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { selectBackend } from '../../pipeline/engines/tfjs.ts';
import { evaluationKey } from '../../pipeline/eval/evaluation-key.ts';
import { exportCheckedSequence, SEQUENCE_PARITY_ROWS } from '../../pipeline/export/export-checked-sequence.ts';
import type { CheckedSequenceExport } from '../../pipeline/export/export-checked-sequence.ts';
import { atomicWrite, atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { readSequenceModel } from '../../pipeline/student/sequence/sequence-model-file.ts';
import { loadTeacher } from '../../pipeline/teacher/load-teacher.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import type { EvaluateOptions } from './run-evaluate.ts';
import { buildSequenceEvaluateReport } from './build-sequence-evaluate-report.ts';
import type { SequenceMeasurements } from './build-sequence-evaluate-report.ts';
import { countOnnxParameters } from './count-onnx-parameters.ts';
import { reportPaths, upToDateReport } from './report-files.ts';
import { renderSequenceHtml } from './render-sequence-html.ts';
import { renderSequenceMarkdown } from './render-sequence-markdown.ts';
import { sequenceBaselineMetrics } from './sequence-baseline.ts';
import { readSequenceEvalRows, slicesToReport, trainStatistics } from './sequence-eval-rows.ts';
import type { TokenShape } from './sequence-eval-rows.ts';
import { resolveSequenceEvaluateInputs } from './sequence-evaluate-inputs.ts';
import type { SequenceEvaluateInputs } from './sequence-evaluate-inputs.ts';
import type { SequenceEvaluateReport } from './sequence-evaluate-report.ts';
import { loadCheckedStudent, sequenceTeacher } from './sequence-models.ts';
import type { SequenceTeacher } from './sequence-models.ts';
import { buildSequenceReport } from './sequence-report.ts';
import { streamBatchRows, streamSplitPositions } from './stream-split-positions.ts';
import type { OnnxTiming } from './time-onnx-model.ts';
import { timeOnnxModel } from './time-onnx-model.ts';
import { measureTokenRobustness } from './token-robustness.ts';
import type { SequencePredictor } from './token-robustness.ts';
import { readTokenVocabulary } from './token-vocabulary.ts';
import type { TokenSplit } from '../../pipeline/eval/read-token-split.ts';

/** The export of the student, checked against its tfjs outputs on the first test rows (its session kept open for timing). */
async function exportStudent(exp: LoadedExperiment, inp: SequenceEvaluateInputs, t: SequenceTeacher, test: TokenSplit, student: SequencePredictor, reporter: Reporter): Promise<CheckedSequenceExport> {
  const n = Math.min(SEQUENCE_PARITY_ROWS, test.rows);
  const L = test.L;
  const card = t.card;
  const inputIds = test.inputIds.subarray(0, n * L);
  const attentionMask = test.attentionMask.subarray(0, n * L);
  const studentOut = await student(inputIds, attentionMask, n);
  const exported = await exportCheckedSequence(
    {
      run: inp.run,
      dir: inp.exportDir,
      name: `${exp.config.name}-student`,
      task: inp.task,
      ...(card.classes.names ? { classNames: card.classes.names } : {}),
      ...(card.tokenizer ? { tokenizer: card.tokenizer } : {}),
      idsColumn: t.idsColumn,
      maskColumn: t.maskColumn,
      rows: n,
      inputIds,
      attentionMask,
      tfjsOutputs: studentOut,
      split: inp.split,
      session: inp.sessionOptions,
      keepSession: true,
      workspace: exp.workspace,
    },
    reporter,
  );
  if (!exported.exportable) reporter.warn(`the student is not exported to ONNX: ${exported.reason}; the report says so and times the teacher only`);
  return exported;
}

/** Latency and throughput of the teacher and of the exported student, in the same ONNX Runtime setup. */
async function measureSpeed(inp: SequenceEvaluateInputs, teacher: LoadedTeacher, t: SequenceTeacher, exported: CheckedSequenceExport, test: TokenSplit, reporter: Reporter): Promise<{ teacherTiming: OnnxTiming; studentTiming: OnnxTiming | null; teacherBytes: number; teacherParams: number }> {
  const { ev } = inp;
  const throughputBatch = Math.max(1, Math.min(256, Math.floor(4096 / test.L)));
  reporter.info(`timing ${exported.exportable ? 'teacher and student' : 'the teacher'} in ONNX Runtime (${teacher.opened.executionProvider}, ${ev.intraOpThreads || 'default'} intra-op threads): ${ev.latencyRuns} runs at batch 1, ${ev.throughputBatches} batches of ${throughputBatch} rows of ${test.L} tokens`);
  const opts = { latencyRuns: ev.latencyRuns, throughputRuns: ev.throughputBatches, throughputBatch };
  const columns = t.columns(test.inputIds, test.attentionMask);
  const teacherTiming = await timeOnnxModel(teacher.opened.session, t.card, columns, test.rows, opts);
  const studentTiming = exported.exportable ? await timeOnnxModel(exported.opened!.session, exported.written.card, columns, test.rows, opts) : null;
  return { teacherTiming, studentTiming, teacherBytes: (await stat(teacher.modelPath)).size, teacherParams: countOnnxParameters(await readFile(teacher.modelPath), teacher.modelPath) };
}

/** Bytes of a sequence student's model.json and weights file. */
async function tfjsBytes(modelJson: string): Promise<number> {
  const file = (await readSequenceModel(modelJson)).file;
  return (await stat(modelJson)).size + (await stat(join(dirname(modelJson), file.weightsFile))).size;
}

/**
 * Evaluates a sequence student (see the file comment) and writes metrics.json, report.md and
 * report.html into the report folder; up to date (same config, inputs and code) is left as it is.
 *
 * Steps: resolve the inputs; open and check the models; read the rows; export the student; score test
 * (teacher, student, baseline) and validation batch by batch into per-position numbers; the sequence
 * report, the baseline and the robustness suite; speed; the report.
 */
export async function runSequenceEvaluate(exp: LoadedExperiment, opts: EvaluateOptions, reporter: Reporter): Promise<SequenceEvaluateReport> {
  const inp = await resolveSequenceEvaluateInputs(exp, reporter);
  const { ev, run } = inp;
  const cfg = exp.config;
  const trainSplit = cfg.dataset.trainSplit;
  const splits = [...new Set([inp.split, ...(inp.validation ? [inp.validation.split] : []), trainSplit])];
  const key = await evaluationKey(exp, { run, baselineRun: inp.baselineRun, teacherDir: inp.teacherDir, dataset: inp.dataset, splits });
  const existing = opts.force ? null : await upToDateReport<SequenceEvaluateReport>(inp.reportDir, key);
  if (existing) {
    reporter.info(`${existing.outputs.html} is up to date (same resolved config, inputs and code): nothing re-evaluated`, { report: existing.outputs.metrics, upToDate: true });
    return existing;
  }
  const teacher = await loadTeacher(inp.teacherDir, inp.sessionOptions, reporter);
  const cleanups: (() => unknown)[] = [() => teacher.opened.session.release()];
  try {
    const t = sequenceTeacher(teacher, inp.dataset, inp.datasetDir, run.feature, ev.batchSize);
    const backend = await selectBackend(cfg.train!.backend, opts.backendLoader);
    reporter.info(backend.notice);
    const student = await loadCheckedStudent(run.modelJson, t, 'train.run');
    cleanups.push(() => student.student.dispose());
    const L = t.layout.context;
    const shape: TokenShape = { idsColumn: t.idsColumn, maskColumn: t.layout.maskColumn, L, P: t.layout.positions, C: t.classes };
    const vocab = await readTokenVocabulary(inp.datasetDir, inp.dataset, run.feature, t.card.tokenizer?.padId);
    const rows = await readSequenceEvalRows(inp, shape);
    const { test, validation } = rows;
    const batchRows = streamBatchRows(ev.batchSize, L, t.classes);
    reporter.info(`evaluating a ${inp.task} student (${student.student.arch}) on ${test.rows} of ${inp.splitInfo.rows} "${inp.split}" rows of ${L} tokens, scored in batches of ${batchRows} rows; thresholds chosen on ${rows.selection.description}`);
    let baselinePredict: SequencePredictor | undefined;
    if (inp.baselineRun) {
      const b = await loadCheckedStudent(inp.baselineRun.modelJson, t, 'evaluate.baselineRun');
      cleanups.push(() => b.student.dispose());
      baselinePredict = b.predict;
    }
    const exported = await exportStudent(exp, inp, t, test, student.predict, reporter);
    if (exported.exportable) cleanups.push(() => exported.opened!.session.release());

    const target = t.layout.target;
    const slices = slicesToReport(test);
    const stream = { target, classes: t.classes, batchRows };
    const testPositions = await streamSplitPositions({ ...stream, rows: test, name: `"${inp.split}"`, slices, models: { teacher: t.predict, student: student.predict, ...(baselinePredict ? { baseline: baselinePredict } : {}) } }, reporter);
    const valPositions = validation ? await streamSplitPositions({ ...stream, rows: validation, name: `"${validation.split}"`, slices: { position: [], row: [] }, models: { teacher: t.predict, student: student.predict } }, reporter) : testPositions;
    const stats = await trainStatistics(inp, shape, vocab, trainSplit);
    const sequence = buildSequenceReport(valPositions, testPositions, stats);
    const baseline: SequenceMeasurements['baseline'] = baselinePredict ? sequenceBaselineMetrics(testPositions, stats.diacritics?.separators) : null;
    const robustness = await measureTokenRobustness(
      { ev, seed: cfg.seed, test, target, classes: t.classes, vocab, ...(target === 'token' && t.card.classes.names ? { classNames: t.card.classes.names } : {}), teacher: t.predict, student: student.predict, ...(stats.diacritics ? { separators: stats.diacritics.separators } : {}), blocked: null },
      reporter,
    );
    const speed = await measureSpeed(inp, teacher, t, exported, test, reporter);
    const outputs = reportPaths(inp.reportDir);
    const measured: SequenceMeasurements = {
      rows: test.rows,
      context: L,
      positions: shape.P,
      backend,
      student: { arch: student.student.arch, params: student.student.params, macsPerToken: student.student.macsPerToken, tfjsBytes: await tfjsBytes(run.modelJson) },
      sequence,
      slicesSkipped: slices.skipped,
      selection: rows.selection,
      baseline,
      robustness,
      exported,
      ...speed,
    };
    const report: SequenceEvaluateReport = { ...buildSequenceEvaluateReport(exp, inp, teacher, measured, outputs), key };
    await atomicWriteJson(outputs.metrics, report);
    await atomicWrite(outputs.markdown, renderSequenceMarkdown(report));
    await atomicWrite(outputs.html, renderSequenceHtml(report));
    const pct = (x: number | null): string => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
    const h = report.headline;
    reporter.info(
      `report ready: ${report.outputs.html} (token accuracy teacher ${pct(h.teacherAccuracy)}, student ${pct(h.studentAccuracy)}, agreement ${pct(h.agreement)}` +
        (h.studentDer !== null ? `, DER teacher ${pct(h.teacherDer)} student ${pct(h.studentDer)}` : `, perplexity teacher ${h.teacherPerplexity.toFixed(2)} student ${h.studentPerplexity.toFixed(2)}`) +
        (h.latencySpeedup !== null ? `, ${h.latencySpeedup.toFixed(1)}x faster at batch 1)` : ', student not exported)'),
      { headline: report.headline },
    );
    return report;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
