/**
 * The compute loop of the teacher-logits stage: runs the teacher over the shards of one split that
 * are not reused, batch by batch, and writes each shard (and its part record) as soon as its last
 * batch is back.
 */
import type { Table } from 'apache-arrow';
import type { TeacherLogitsSection } from '../../pipeline/config/experiment-config.ts';
import { fingerprintColumns } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { RowFingerprint } from '../../pipeline/dataset/row-fingerprint.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import type { EngineSession, EngineTensor } from '../../pipeline/engines/onnxruntime.ts';
import { DataError, DistillError } from '../../pipeline/errors.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import type { NumericArray } from '../../pipeline/io/column-values.ts';
import type { Reporter } from '../../pipeline/reporter.ts';
import type { StoreEncoding } from '../../pipeline/store/soft-target-store.ts';
import type { StoreRuntime, StoreShardRecord } from '../../pipeline/store/store-manifest.ts';
import { valuesPerRow } from '../../pipeline/teacher/check-bindings.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import type { LoadedTeacher } from '../../pipeline/teacher/load-teacher.ts';
import { inputTensor, toStoredLogits } from '../../pipeline/teacher/teacher-tensors.ts';
import type { CaptureKey } from './capture-key.ts';
import type { TeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import type { SequenceLayout } from '../../pipeline/teacher/sequence-card.ts';
import { rowLengths } from './row-lengths.ts';
import { shardEncoder } from './shard-encoder.ts';
import type { ShardEncoder } from './shard-encoder.ts';
import { writeShard } from './write-shard.ts';
import { deriveViewParams } from '../../pipeline/augment/view-policy.ts';
import type { ViewParams } from '../../pipeline/augment/view-policy.ts';
import { viewInputs } from './view-inputs.ts';

/** One shard of the plan: where it goes, its rows, and its record when a complete copy is reused. */
export interface ShardPlan {
  split: string;
  index: number;
  relPath: string;
  path: string;
  rowStart: number;
  rowEnd: number;
  reused: StoreShardRecord | null;
}

/** What {@link computeSplit} reads. */
export interface ComputeContext {
  cfg: TeacherLogitsSection;
  datasetDir: string;
  dataset: DatasetManifest;
  teacher: LoadedTeacher;
  reporter: Reporter;
  /** session.run calls kept in flight. Default 3. */
  inFlight?: number;
  /** The teacher card with a sequence teacher's "seq" dims resolved to the dataset's context. */
  card: TeacherCard;
  /** A sequence teacher's target layout; null for a classification teacher. */
  sequence: SequenceLayout | null;
  /** Dataset rows per session.run call (batch-rows.ts). */
  rowsPerCall: number;
}

/** A shard being assembled: its inputs, its output buffer and how many batches are still out. */
interface ShardState {
  plan: ShardPlan;
  inputs: NumericArray[];
  fingerprint: string;
  encoder: ShardEncoder;
  pendingBatches: number;
  /** View store: the parameters of the shard's rows * K views (also stored in the shard). */
  viewParams: ViewParams | null;
}

interface Batch {
  state: ShardState;
  from: number;
  n: number;
}

/**
 * A failed session.run as a DataError naming the model and the rows it was given, with ONNX
 * Runtime's own message (e.g. a Gather index out of range: a token id beyond the embedding table, or
 * a window longer than the model's position table) and what the teacher card can declare so that
 * the stage refuses such a dataset before the first batch.
 */
function runFailure(err: unknown, modelPath: string, rows: string, sequenceTeacher: boolean): Error {
  if (err instanceof DistillError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const hint = sequenceTeacher ? '; if the windows are longer than the model\'s position table or ids lie beyond its vocabulary, declare "context" and "tokenizer.vocabSize" in the teacher card and the stage checks them before the first batch' : '';
  return new DataError(`${modelPath}: ONNX Runtime failed on ${rows} (${message.trim()})${hint}`, { cause: err });
}

/**
 * Computes the non-reused shards of one split. Batches never straddle shards; up to `inFlight`
 * session.run calls are queued (on the worker thread) while this thread turns finished batches into
 * shards, so ORT never waits for encoding or writing. `ctx.rowsPerCall` rows go in per call (a view
 * store: their K views each). With the top-k reduction appended to the teacher's graph
 * (`teacher.reduced`), the call fetches only its outputs (ids, logits, tail, NaN/Inf counts) instead of
 * the full logits.
 */
export async function computeSplit(ctx: ComputeContext, split: string, plans: ShardPlan[], encoding: StoreEncoding, key: CaptureKey, runtime: StoreRuntime): Promise<Map<number, StoreShardRecord>> {
  const { cfg, datasetDir, dataset, teacher, reporter, card, sequence } = ctx;
  const classes = card.classes.count;
  const views = encoding.views ?? null;
  const k = views?.count ?? 1;
  const outDims = (n: number): number[] => (sequence ? [n, sequence.context, classes] : [n * k, classes]);
  const rowsPerCall = ctx.rowsPerCall;
  const reduced = teacher.reduced?.outputs ?? null;
  const fetches = reduced ? [reduced.index, reduced.logit, ...(reduced.tail ? [reduced.tail] : []), reduced.nonFinite] : [card.output.name];
  const session: EngineSession = teacher.opened.session;
  const todo = plans.filter((p) => !p.reused);
  const done = new Map<number, StoreShardRecord>();
  if (todo.length === 0) return done;
  const reader = new SplitReader(datasetDir, dataset, split);
  const fpColumns = fingerprintColumns(dataset);
  const jobs: { plan: ShardPlan; from: number; n: number }[] = [];
  for (const plan of todo) {
    for (let from = 0; from < plan.rowEnd - plan.rowStart; from += rowsPerCall) jobs.push({ plan, from, n: Math.min(rowsPerCall, plan.rowEnd - plan.rowStart - from) });
  }
  const states = new Map<number, ShardState>();
  const loadShard = async (plan: ShardPlan): Promise<ShardState> => {
    const table: Table = await reader.readRows(plan.rowStart, plan.rowEnd);
    const fp = new RowFingerprint(fpColumns);
    fp.update(table, `${displayPath(datasetDir)} ${split} rows ${plan.rowStart}..${plan.rowEnd - 1}`);
    const inputs = card.inputs.map((b) => columnValues(table.getChild(b.column)!, valuesPerRow(b.shape)));
    const rows = plan.rowEnd - plan.rowStart;
    const where = `${displayPath(datasetDir)} ${split}`;
    const seq = sequence ? { length: rowLengths(table, sequence, plan.rowStart, where), context: sequence.context } : {};
    const viewParams = views ? deriveViewParams(views, split, plan.rowStart, rows) : null;
    const encoder = shardEncoder(encoding, { split, rowStart: plan.rowStart, rows, nonFinite: cfg.nonFinite, ...seq, ...(viewParams ? { viewParams } : {}) });
    return { plan, inputs, fingerprint: fp.digest(), encoder, pendingBatches: Math.ceil(rows / rowsPerCall), viewParams };
  };
  const progress = reporter.progress(`teacher ${split}`, jobs.reduce((s, j) => s + j.n, 0), 'rows');
  const queue: { batch: Batch; result: Promise<Record<string, EngineTensor>> }[] = [];
  const depth = Math.max(1, ctx.inFlight ?? 3);
  let next = 0;
  const submit = async (): Promise<void> => {
    const job = jobs[next++]!;
    let state = states.get(job.plan.index);
    if (!state) {
      state = await loadShard(job.plan);
      states.set(job.plan.index, state);
    }
    const feeds: Record<string, EngineTensor> = {};
    card.inputs.forEach((b, i) => {
      feeds[b.name] = views
        ? inputTensor(b, viewInputs(views, state.viewParams!, state.inputs[i]!, valuesPerRow(b.shape), job.from, job.n), 0, job.n * k)
        : inputTensor(b, state.inputs[i]!, job.from, job.n);
    });
    const result = session.run(feeds, fetches);
    result.catch(() => undefined); // awaited below, in order; avoid an unhandled rejection meanwhile
    queue.push({ batch: { state, from: job.from, n: job.n }, result });
  };
  try {
    while (next < jobs.length || queue.length > 0) {
      while (queue.length < depth && next < jobs.length) await submit();
      const { batch, result } = queue.shift()!;
      const rows = `${split} rows ${batch.state.plan.rowStart + batch.from}..${batch.state.plan.rowStart + batch.from + batch.n - 1}`;
      const outputs = await result.catch((err: unknown) => {
        throw runFailure(err, teacher.modelPath, `${displayPath(datasetDir)} ${rows}`, sequence !== null);
      });
      const dims = outDims(batch.n);
      if (reduced) {
        const prefix = dims.slice(0, -1);
        const kk = encoding.k!;
        batch.state.encoder.addReduced(batch.from, batch.n, {
          index: checkedOutput(outputs, reduced.index, 'int32', [...prefix, kk], teacher.modelPath, rows) as Int32Array,
          logit: checkedOutput(outputs, reduced.logit, 'float32', [...prefix, kk], teacher.modelPath, rows) as Float32Array,
          tail: reduced.tail ? (checkedOutput(outputs, reduced.tail, 'float32', prefix, teacher.modelPath, rows) as Float32Array) : null,
          nonFinite: checkedOutput(outputs, reduced.nonFinite, 'int32', prefix, teacher.modelPath, rows) as Int32Array,
        });
      } else {
        const out = checkedOutput(outputs, card.output.name, 'float32', dims, teacher.modelPath, rows) as Float32Array;
        batch.state.encoder.add(batch.from, batch.n, toStoredLogits(out, card.output.kind));
      }
      progress.tick(batch.n);
      if (--batch.state.pendingBatches === 0) {
        const { plan, encoder, fingerprint } = batch.state;
        states.delete(plan.index);
        const nf = encoder.nonFinite;
        const record = await writeShard(
          { index: plan.index, path: plan.path, relPath: plan.relPath, rowStart: plan.rowStart, rowEnd: plan.rowEnd, columns: encoder.columns(), datasetFingerprint: fingerprint, nonFinite: nf.count, nonFiniteRows: nf.rows },
          encoding,
          cfg.format,
          key,
          runtime,
        );
        done.set(plan.index, record);
      }
    }
  } finally {
    progress.done();
  }
  return done;
}

/** The data of output `name`, after checking its type and dims (a DataError naming the model, output and rows). */
function checkedOutput(outputs: Record<string, EngineTensor>, name: string, type: string, dims: readonly number[], model: string, rows: string): EngineTensor['data'] {
  const out = outputs[name];
  const where = `${model}: output "${name}" for ${rows}`;
  if (!out) throw new DataError(`${where} is missing from the session's results`);
  if (out.type !== type || out.dims.length !== dims.length || out.dims.some((d, i) => d !== dims[i])) {
    throw new DataError(`${where}: expected ${type} [${dims.join(', ')}], actual ${out.type} [${out.dims.join(', ')}]`);
  }
  return out.data;
}
