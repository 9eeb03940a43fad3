/**
 * Checks a teacher card's bindings against the model (session input/output metadata) and against
 * the dataset manifest, before the first batch. Every mismatch is listed with the expected and the
 * actual name, dtype and shape.
 */
import type { DatasetColumn, DatasetManifest } from '../dataset/dataset-manifest.ts';
import { elementTypeOf, featureSizeOf } from '../dataset/feature-size.ts';
import { DataError } from '../errors.ts';
import type { ValueMetadata } from '../engines/onnxruntime.ts';
import type { TeacherCard } from './teacher-card.ts';
import { isSequenceCard } from './teacher-card.ts';

function fmtShape(shape: readonly (number | string)[] | undefined): string {
  return shape ? `[${shape.map((d) => (typeof d === 'string' ? JSON.stringify(d) : String(d))).join(', ')}]` : '?';
}

function describe(m: ValueMetadata): string {
  return m.isTensor ? `"${m.name}" ${m.type ?? '?'} ${fmtShape(m.shape)}` : `"${m.name}" (not a tensor)`;
}

/** Values per row of a binding: the product of its non-batch dims. */
export function valuesPerRow(shape: readonly (number | 'batch' | 'seq')[]): number {
  return shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
}

/** True when the model dim accepts the card dim: equal numbers, or symbolic / -1 in the model. */
function dimAccepts(model: number | string, card: number | 'batch' | 'seq'): boolean {
  if (typeof model === 'string' || model < 0 || card === 'seq') return true; // seq: checked again once resolved to L
  return typeof card === 'number' && model === card;
}

/** The output problem of a sequence teacher: float32 [batch, seq, vocab] with symbolic or equal dims. */
function sequenceOutputProblem(card: TeacherCard, out: ValueMetadata): string | null {
  const seq = card.inputs.find((b) => b.shape.length === 2)?.shape[1] ?? 'seq';
  const expected = `"${card.output.name}" float32 ["batch", ${typeof seq === 'number' ? seq : '"seq"'}, ${card.classes.count}]`;
  const s = out.shape;
  const ok = out.isTensor && out.type === 'float32' && s !== undefined && s.length === 3 && dimAccepts(s[0]!, 'batch') && dimAccepts(s[1]!, seq) && dimAccepts(s[2]!, card.classes.count);
  return ok ? null : `output: expected ${expected} (teacher card), actual ${describe(out)} (model)`;
}

/**
 * The problems between a card and a model's metadata (empty when they agree). The batch dim of an
 * input must be symbolic in the model (a fixed batch cannot take the configured batch size).
 */
export function modelBindingProblems(card: TeacherCard, inputs: readonly ValueMetadata[], outputs: readonly ValueMetadata[]): string[] {
  const problems: string[] = [];
  for (const b of card.inputs) {
    const expected = `"${b.name}" ${b.dtype} ${fmtShape(b.shape)}`;
    const m = inputs.find((i) => i.name === b.name);
    if (!m) {
      problems.push(`input: expected ${expected}, but the model has no input "${b.name}" (model inputs: ${inputs.map(describe).join(', ')})`);
      continue;
    }
    const shapeOk = m.shape !== undefined && m.shape.length === b.shape.length && m.shape.every((d, i) => dimAccepts(d, b.shape[i]!));
    if (!m.isTensor || m.type !== b.dtype || !shapeOk) {
      problems.push(`input: expected ${expected} (teacher card), actual ${describe(m)} (model)`);
    }
  }
  const unbound = inputs.filter((i) => !card.inputs.some((b) => b.name === i.name));
  if (unbound.length > 0) problems.push(`input: the model also needs ${unbound.map(describe).join(', ')}, which the teacher card does not bind`);
  const out = outputs.find((o) => o.name === card.output.name);
  const expectedOut = `"${card.output.name}" float32 ["batch", ${card.classes.count}]`;
  if (!out) {
    problems.push(`output: expected ${expectedOut}, but the model has no output "${card.output.name}" (model outputs: ${outputs.map(describe).join(', ')})`);
  } else if (isSequenceCard(card)) {
    const problem = sequenceOutputProblem(card, out);
    if (problem) problems.push(problem);
  } else {
    const s = out.shape;
    const shapeOk = s !== undefined && s.length === 2 && dimAccepts(s[0]!, 'batch') && dimAccepts(s[1]!, card.classes.count);
    if (!out.isTensor || out.type !== 'float32' || !shapeOk) problems.push(`output: expected ${expectedOut} (teacher card), actual ${describe(out)} (model)`);
  }
  return problems;
}

/** Throws a DataError listing {@link modelBindingProblems}, naming the model file. */
export function checkModelBindings(card: TeacherCard, inputs: readonly ValueMetadata[], outputs: readonly ValueMetadata[], modelPath: string): void {
  const problems = modelBindingProblems(card, inputs, outputs);
  if (problems.length > 0) {
    throw new DataError(`${modelPath}: the model does not match its teacher card:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const NUMERIC = /^(?:u?int(?:8|16|32|64)|float(?:16|32|64))$/;

/**
 * The element type and values per row of a dataset column, or null when it is not numeric:
 * a scalar (1 value), `fixed_size_list<T>[n]` (n), or a `list<T>` / `large_list<T>` column, which
 * every reader sees as the padded fixed_size_list<T>[maxLength] its manifest `sequence` declares.
 */
export function columnLayout(column: Pick<DatasetColumn, 'type' | 'sequence'>): { dtype: string; width: number } | null {
  if (/^(?:large_list|list)</.test(column.type) && !column.sequence) return null; // a list the manifest does not size
  const dtype = elementTypeOf(column.type);
  return NUMERIC.test(dtype) ? { dtype, width: featureSizeOf(column) } : null;
}

/** Throws a DataError when a bound column is missing, not numeric or of the wrong size. */
export function checkDatasetBindings(card: TeacherCard, manifest: DatasetManifest, cardPath: string, datasetDir: string): void {
  const problems: string[] = [];
  for (const b of card.inputs) {
    const col = manifest.columns.find((c) => c.name === b.column);
    const expected = `column "${b.column}" with ${valuesPerRow(b.shape)} numeric values per row (input "${b.name}" ${b.dtype} ${fmtShape(b.shape)})`;
    if (!col) {
      problems.push(`expected ${expected}, but the dataset has no such column (columns: ${manifest.columns.map((c) => `${c.name}: ${c.type}`).join(', ')})`);
      continue;
    }
    const layout = columnLayout(col);
    if (!layout || layout.width !== valuesPerRow(b.shape) || col.role === 'row') {
      problems.push(`expected ${expected}, actual column "${col.name}": ${col.type}${layout ? ` (${layout.width} values per row)` : ''}${col.sequence && layout ? `; a list column is read padded to its maximum length (re-index with --max-length ${col.name}=${valuesPerRow(b.shape)})` : ''}`);
    } else if (!b.dtype.startsWith('float') && layout.dtype.startsWith('float')) {
      problems.push(`expected ${expected}, actual column "${col.name}": ${col.type}; a float column cannot feed an integer input`);
    }
  }
  if (problems.length > 0) {
    throw new DataError(`${cardPath}: the teacher's inputs do not match the dataset ${datasetDir}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
