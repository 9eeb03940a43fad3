/**
 * train-student for token datasets: a sequence student (pipeline/student/sequence/) trained from a
 * per-position store (dense, top-k or sampled) or from hard labels alone, with the same contract as
 * the classification path: seeded epochs over a shuffled stream of shards, metrics.jsonl and an
 * atomic checkpoint after every epoch, exact resume, the epoch chosen on validation rows, test scored
 * once, model.json + weights.bin (format distill-sequence-student) and run-manifest.json last.
 */
import { join } from 'node:path';
import type { LoadedExperiment } from '../../pipeline/config/load-experiment.ts';
import { resolvedConfigRecord } from '../../pipeline/config/load-experiment.ts';
import { describeValidation } from '../../pipeline/config/validation-rows.ts';
import type { BackendChoice } from '../../pipeline/engines/tfjs.ts';
import { selectBackend, tf } from '../../pipeline/engines/tfjs.ts';
import { ConfigError, DistillError } from '../../pipeline/errors.ts';
import { atomicWrite, atomicWriteJson } from '../../pipeline/io/atomic-write.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import { writeCheckpoint } from '../../pipeline/student/checkpoint.ts';
import { RUN_MANIFEST } from '../../pipeline/student/run-manifest.ts';
import type { EpochMetrics, RunManifest, SplitMetrics } from '../../pipeline/student/run-manifest.ts';
import { buildSequenceStudent, isSequenceArch, sequenceSpec } from '../../pipeline/student/sequence/build-sequence-student.ts';
import { embeddingMethodFor } from '../../pipeline/student/sequence/embedding-block.ts';
import { saveSequenceStudent } from '../../pipeline/student/sequence/sequence-model-file.ts';
import type { SequenceStudent } from '../../pipeline/student/sequence/sequence-student.ts';
import { buildRunManifest } from './build-run-manifest.ts';
import { chunkRowCounts } from './chunked-split.ts';
import { epochPlan } from './epoch-plan.ts';
import { EpochSelector } from './epoch-selection.ts';
import { evaluateSequenceSplit } from './evaluate-sequence-split.ts';
import type { SequenceEvalOptions } from './evaluate-sequence-split.ts';
import { createOptimizer, saveOptimizerState } from './optimizer-state.ts';
import type { SequenceInputs, TrainingInputs } from './prepare-inputs.ts';
import { freshState, resumeFromCheckpoint } from './resume-run.ts';
import type { TrainingState } from './resume-run.ts';
import { sequenceBatchTensors } from './sequence-batch.ts';
import { sequenceBatches } from './sequence-batches.ts';
import { sequenceSplitSource } from './sequence-split-source.ts';
import type { SequenceSplit } from './sequence-split-source.ts';
import { sequenceTargets } from './sequence-targets.ts';
import { sequenceTrainStep } from './sequence-train-step.ts';
import { restoreWeights, weightsOf } from './student-weights.ts';
import type { TrainStudentOptions } from './run-train-student.ts';

/** What runTrainStudent hands over once the run folder is claimed and the inputs are checked. */
export interface SequenceRunParts {
  exp: LoadedExperiment;
  inputs: TrainingInputs & { sequence: SequenceInputs };
  runDir: string;
  /** The config key checkpoints record. */
  key: string;
  outputs: { metrics: string; config: string; checkpoints: string };
  opts: TrainStudentOptions;
  reporter: Reporter;
}

/** Everything an epoch reads. */
interface SequenceContext extends SequenceRunParts {
  student: SequenceStudent;
  optimizer: tf.Optimizer;
  trainSource: SequenceSplit;
  evalSource: SequenceSplit;
  evalRole: 'validation' | 'test';
  evalLabel: string;
  evalOptions: SequenceEvalOptions;
}

const fmt = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined ? '-' : x.toFixed(digits));

/** Bytes of one [rows * P, V] float32 tensor that a sequence evaluation batch may take (the loss makes a few). */
const EVAL_TENSOR_BYTES = 64 * 2 ** 20;

/**
 * Rows per evaluation batch: train.evalBatchSize counts rows, but a sequence row holds P positions of V
 * logits (lm-brown: 127 x 2,000), so 1,000 rows would make 1 GB tensors and the top-k KL several of
 * them (13 GB measured). The batch is capped so that one [rows * P, V] tensor stays under 64 MiB.
 */
export function sequenceEvalRows(evalBatchSize: number, positions: number, classes: number): number {
  return Math.max(1, Math.min(evalBatchSize, Math.floor(EVAL_TENSOR_BYTES / (positions * classes * 4))));
}

/** A split of the token dataset as a chunked source (targets joined when the store covers it and `withTargets`). */
function source(p: SequenceRunParts, split: string, withTargets: boolean, extra: { limitRows?: number; rowSelection?: { ids: Uint32Array; keep: 'only' | 'except' } } = {}): SequenceSplit {
  const { inputs } = p;
  return sequenceSplitSource({ dir: inputs.datasetDir, manifest: inputs.dataset, split, columns: inputs.sequence.columns, context: inputs.sequence.context, store: withTargets ? inputs.store : null, ...extra });
}

/** Step 1: the student for the dataset's task, with the embedding lookup the backend can differentiate. */
function buildStudent(p: SequenceRunParts, backend: BackendChoice): SequenceStudent {
  const cfg = p.exp.config;
  if (!isSequenceArch(cfg.student!.arch)) {
    throw new ConfigError(`student.arch is "${cfg.student!.arch}", but the dataset ${p.inputs.datasetDir} is a token dataset (task ${p.inputs.sequence.task}); use one of embedding, window-mlp, gru, lstm, transformer`);
  }
  const s = p.inputs.sequence;
  const embedding = embeddingMethodFor(sequenceSpec(cfg.student!).embedding, backend.backend);
  return buildSequenceStudent(cfg.student!, { vocab: s.inputVocab, classes: p.inputs.classes, context: s.context, causal: s.task === 'causal-lm', seed: cfg.seed, embedding });
}

/** Step 2: the training, per-epoch and test sources. */
function sources(p: SequenceRunParts): Pick<SequenceContext, 'trainSource' | 'evalSource' | 'evalRole' | 'evalLabel'> {
  const cfg = p.exp.config;
  const train = cfg.train!;
  const v = p.inputs.validation;
  const limit = train.limitRows !== undefined ? { limitRows: train.limitRows } : {};
  const trainSource = source(p, cfg.dataset.trainSplit, train.alpha < 1, { ...limit, ...(v?.kind === 'carve-out' ? { rowSelection: { ids: v.rows, keep: 'except' as const } } : {}) });
  if (!v) return { trainSource, evalSource: source(p, cfg.dataset.evalSplit, p.inputs.evalHasTargets), evalRole: 'test', evalLabel: `${cfg.dataset.evalSplit} (no validation rows configured)` };
  const evalSource = v.kind === 'split' ? source(p, v.split, p.inputs.validationHasTargets) : source(p, v.split, p.inputs.validationHasTargets, { ...limit, rowSelection: { ids: v.rows, keep: 'only' } });
  return { trainSource, evalSource, evalRole: 'validation', evalLabel: 'validation' };
}

/** One pass over the training rows in the epoch's seeded order; the mean loss and tokens/s. */
async function trainPass(ctx: SequenceContext, epoch: number): Promise<{ trainLoss: number; examples: number; tokens: number; steps: number; seconds: number }> {
  const cfg = ctx.exp.config;
  const train = cfg.train!;
  const rowsPerEpoch = chunkRowCounts(ctx.trainSource).reduce((a, b) => a + b, 0);
  const progress = ctx.reporter.progress(`epoch ${epoch}/${train.epochs}`, rowsPerEpoch, 'rows');
  const plan = epochPlan(chunkRowCounts(ctx.trainSource), cfg.seed, epoch, train.shuffleWindow);
  const enc = ctx.trainSource.encoding;
  const t0 = performance.now();
  let lossSum: tf.Scalar = tf.scalar(0);
  let steps = 0;
  let examples = 0;
  let tokens = 0;
  for await (const b of sequenceBatches(ctx.trainSource, plan, train.batchSize)) {
    const targets = b.targets && enc ? sequenceTargets(b.targets, Int32Array.from({ length: b.host.size }, (_, i) => i), enc, train.tail) : null;
    const bt = sequenceBatchTensors(b.host, ctx.inputs.sequence.target, targets);
    try {
      const cost = sequenceTrainStep(ctx.student, ctx.optimizer, bt, ctx.evalOptions.loss);
      const next = tf.add(lossSum, cost) as tf.Scalar;
      tf.dispose([lossSum, cost]);
      lossSum = next;
    } finally {
      tf.dispose([bt.ids, bt.mask, bt.labels, bt.weights, ...(bt.targets ? Object.values(bt.targets).filter((x): x is tf.Tensor => x instanceof tf.Tensor) : [])]);
    }
    steps++;
    examples += b.host.size;
    for (const m of b.host.mask) tokens += m;
    progress.tick(b.host.size);
  }
  const trainLoss = (await lossSum.data())[0]! / Math.max(steps, 1);
  lossSum.dispose();
  progress.done();
  return { trainLoss, examples, tokens, steps, seconds: (performance.now() - t0) / 1000 };
}

/** One epoch: train, score the per-epoch rows, write metrics.jsonl and the checkpoint, report. */
async function runEpoch(ctx: SequenceContext, epoch: number, state: TrainingState): Promise<void> {
  const train = ctx.exp.config.train!;
  const pass = await trainPass(ctx, epoch);
  state.steps += pass.steps;
  const t1 = performance.now();
  const evalMetrics = { ...(await evaluateSequenceSplit(ctx.student, ctx.evalSource, ctx.evalOptions)), role: ctx.evalRole };
  const evalSeconds = (performance.now() - t1) / 1000;
  const record = { epoch, trainSeconds: pass.seconds, evalSeconds, examplesPerSecond: pass.examples / pass.seconds };
  state.records = [...state.records.filter((r) => r.epoch < epoch), record];
  const line: EpochMetrics = { epoch, trainLoss: pass.trainLoss, examples: pass.examples, trainSeconds: pass.seconds, examplesPerSecond: record.examplesPerSecond, tokensPerSecond: pass.tokens / pass.seconds, eval: evalMetrics };
  state.metrics = [...state.metrics.filter((m) => m.epoch < epoch), line];
  await atomicWrite(join(ctx.runDir, ctx.outputs.metrics), state.metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
  await writeCheckpoint(ctx.runDir, { epoch, configKey: ctx.key, rng: { seed: ctx.exp.config.seed, nextEpoch: epoch + 1 }, steps: state.steps, epochs: state.records }, await weightsOf(ctx.student), await saveOptimizerState(ctx.optimizer));
  const sq = evalMetrics.sequence!;
  ctx.reporter.info(
    `epoch ${epoch}/${train.epochs}: train loss ${fmt(pass.trainLoss)}, ${ctx.evalLabel} token accuracy ${fmt(evalMetrics.accuracy)}, perplexity ${fmt(sq.perplexity, 3)}` +
      `${sq.teacherPerplexity !== null ? ` (teacher ${fmt(sq.teacherPerplexity, 3)})` : ''}, agreement ${fmt(evalMetrics.agreement)}, KL ${fmt(evalMetrics.kl)}, ${(pass.tokens / pass.seconds).toFixed(0)} tokens/s`,
    { epoch, trainLoss: pass.trainLoss, eval: evalMetrics, trainSeconds: pass.seconds, tokensPerSecond: pass.tokens / pass.seconds },
  );
}

/** Step 3: the remaining epochs, the kept epoch's weights, and the test split scored once. */
async function trainAndSelect(ctx: SequenceContext, state: TrainingState): Promise<{ final: EpochMetrics; selection: ReturnType<EpochSelector['record']>; test: SplitMetrics }> {
  const cfg = ctx.exp.config;
  const train = cfg.train!;
  const selector = EpochSelector.for(train, ctx.evalRole === 'validation', ctx.evalLabel);
  let stop = false;
  for (const m of state.metrics) stop = await selector.observe(m, m.epoch === state.resumedFrom ? () => weightsOf(ctx.student) : null);
  for (let epoch = state.startEpoch; epoch <= train.epochs && !stop; epoch++) {
    await runEpoch(ctx, epoch, state);
    stop = await selector.observe(state.metrics[state.metrics.length - 1]!, () => weightsOf(ctx.student));
    if (stop) ctx.reporter.info(`early stopping after epoch ${epoch}: no better ${ctx.evalLabel} ${train.selectMetric} for ${train.patience} epochs`);
  }
  const final = state.metrics[state.metrics.length - 1];
  if (!final) throw new DistillError(`${ctx.runDir}: no epoch was trained (train.epochs ${train.epochs}, checkpoint after epoch ${state.startEpoch - 1})`);
  const chosen = selector.chosen(final);
  if (chosen.epoch !== final.epoch) {
    if (!chosen.weights) throw new DistillError(`${ctx.runDir}: the best ${ctx.evalLabel} epoch is ${chosen.epoch}, before this run's resume point, and its weights were not kept; re-run with --force to train from epoch 1`);
    restoreWeights(ctx.student, chosen.weights, `epoch ${chosen.epoch} (best on ${ctx.evalLabel})`);
    ctx.reporter.info(`keeping epoch ${chosen.epoch} (best ${ctx.evalLabel} ${train.selectMetric}) of ${final.epoch}`);
  }
  let test: SplitMetrics = final.eval;
  if (ctx.evalRole === 'validation') {
    test = { ...(await evaluateSequenceSplit(ctx.student, source(ctx, cfg.dataset.evalSplit, ctx.inputs.evalHasTargets), ctx.evalOptions)), role: 'test' };
    ctx.reporter.info(`"${cfg.dataset.evalSplit}" scored once: token accuracy ${fmt(test.accuracy)}, perplexity ${fmt(test.sequence!.perplexity, 3)}, agreement ${fmt(test.agreement)}`);
  }
  return { final, selection: selector.record(final), test };
}

/**
 * Trains a sequence student (see the module doc). Called by runTrainStudent with the run folder
 * locked and claimed and the inputs checked (store positions, target kind, vocabulary, lengths, T).
 */
export async function trainSequenceStudent(p: SequenceRunParts): Promise<RunManifest> {
  const { exp, inputs, runDir, reporter } = p;
  const cfg = exp.config;
  const train = cfg.train!;
  const backend = await selectBackend(p.opts.backend ?? train.backend, p.opts.backendLoader);
  reporter.info(backend.notice, { backend: backend.backend, package: backend.package, simd: backend.simd, attempts: backend.attempts });
  await atomicWriteJson(join(runDir, p.outputs.config), resolvedConfigRecord(exp));
  const student = buildStudent(p, backend);
  const optimizer = createOptimizer(train);
  try {
    const createdAt = new Date().toISOString();
    const state = p.opts.resume ? await resumeFromCheckpoint(runDir, p.outputs.metrics, student, optimizer, p.key, train, reporter) : freshState();
    const src = sources(p);
    const evalOptions: SequenceEvalOptions = { batchSize: sequenceEvalRows(train.evalBatchSize, inputs.sequence.positions, inputs.classes), target: inputs.sequence.target, loss: { temperature: train.temperature, alpha: train.alpha }, tail: train.tail };
    const ctx: SequenceContext = { ...p, student, optimizer, ...src, evalOptions };
    const rowsPerEpoch = chunkRowCounts(src.trainSource).reduce((a, b) => a + b, 0);
    const s = inputs.sequence;
    reporter.info(inputs.validation ? `per-epoch metrics and choices on ${describeValidation(inputs.validation)}; "${cfg.dataset.evalSplit}" is scored once at the end` : `no dataset.validation: per-epoch metrics are on the test split "${cfg.dataset.evalSplit}" and nothing is chosen on them`);
    reporter.info(
      `training a ${cfg.student!.arch} sequence student (${student.params} parameters, ${student.macsPerToken} MACs/token, ${student.shape.embedding} embedding) for ${s.task}: ` +
        `${rowsPerEpoch} rows of ${s.context} tokens, ${inputs.classes} classes per position, ${train.epochs} epochs (alpha ${train.alpha}, T ${train.temperature}${inputs.store && train.alpha < 1 ? `, ${inputs.store.encoding.mode} targets` : ', hard labels only'})`,
    );
    const { final, selection, test } = await trainAndSelect(ctx, state);
    const saved = await saveSequenceStudent(student, cfg.student!, runDir);
    const sequence = { task: s.task, target: s.target, context: s.context, positions: s.positions, vocab: inputs.classes, inputVocab: s.inputVocab, macsPerToken: student.macsPerToken, embedding: student.shape.embedding };
    const record = { inputShape: [s.context], params: student.params, forwardMacs: Math.max(1, student.macsPerToken * s.context) };
    const manifest = buildRunManifest({ exp, inputs, backend, student: record, sequence, state, final, selection, test, saved, rowsPerEpoch, createdAt, outputs: p.outputs });
    await atomicWriteJson(join(runDir, RUN_MANIFEST), manifest);
    reporter.info(`student ready: ${join(runDir, saved.modelJson)} (epoch ${selection.epoch}; "${cfg.dataset.evalSplit}" token accuracy ${fmt(test.accuracy)}, perplexity ${fmt(test.sequence!.perplexity, 3)}, agreement ${fmt(test.agreement)})`, {
      run: runDir,
      accuracy: test.accuracy,
      agreement: test.agreement,
      perplexity: test.sequence!.perplexity,
    });
    return manifest;
  } finally {
    student.dispose();
    optimizer.dispose();
  }
}
