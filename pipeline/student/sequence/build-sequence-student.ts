import type { SequenceArch, StudentSection } from '../../config/experiment-config.ts';
import { tf } from '../../engines/tfjs.ts';
import { ConfigError } from '../../errors.ts';
import { denseSeq, embed } from './embedding-block.ts';
import { recurrentBlock } from './recurrent-block.ts';
import { SeededVariables } from './seeded-variables.ts';
import type { SequenceShape, SequenceStudent } from './sequence-student.ts';
import { outputClasses } from './sequence-student.ts';
import { transformerBlock } from './transformer-block.ts';
import { windowMlpBlock } from './window-mlp-block.ts';

const SEQUENCE_ARCHS: readonly SequenceArch[] = ['embedding', 'window-mlp', 'gru', 'lstm', 'transformer'];

/** Whether `arch` is a sequence student (token ids in, logits per position out). */
export function isSequenceArch(arch: string): arch is SequenceArch {
  return (SEQUENCE_ARCHS as readonly string[]).includes(arch);
}

/** A sequence student's sizes with the documented defaults applied (schemas/experiment.schema.json). */
export interface SequenceSpec {
  arch: SequenceArch;
  dModel: number;
  layers: number;
  heads: number;
  mlpRatio: number;
  window: number;
  bidirectional: boolean;
  embedding: 'auto' | 'gather' | 'one-hot';
  hidden: number[];
  activation: StudentSection['activation'];
  context?: number;
}

/** The config's student section with the sequence defaults: dModel 128, layers 2, heads 4, mlpRatio 4, window 4. */
export function sequenceSpec(spec: StudentSection): SequenceSpec {
  if (!isSequenceArch(spec.arch)) throw new ConfigError(`student.arch "${spec.arch}" is not a sequence student; expected one of ${SEQUENCE_ARCHS.join(', ')}`);
  return {
    arch: spec.arch,
    dModel: spec.dModel ?? 128,
    layers: spec.layers ?? 2,
    heads: spec.heads ?? 4,
    mlpRatio: spec.mlpRatio ?? 4,
    window: spec.window ?? 4,
    bidirectional: spec.bidirectional ?? false,
    embedding: spec.embedding ?? 'auto',
    hidden: spec.hidden,
    activation: spec.activation,
    ...(spec.context !== undefined ? { context: spec.context } : {}),
  };
}

/** Checks the config against the shape before any weight is made; each error names the field. */
function checkSpec(spec: SequenceSpec, shape: SequenceShape): void {
  if (spec.arch === 'transformer' && spec.dModel % spec.heads !== 0) {
    throw new ConfigError(`student.dModel (${spec.dModel}) must be a multiple of student.heads (${spec.heads})`);
  }
  const positions = spec.context ?? shape.context;
  if (spec.arch === 'transformer' && positions < shape.context) {
    throw new ConfigError(`the dataset's context is ${shape.context} tokens, longer than the student's position table (student.context = ${positions}); raise student.context to at least ${shape.context}`);
  }
  if ((spec.arch === 'gru' || spec.arch === 'lstm') && spec.bidirectional && shape.causal) {
    throw new ConfigError(`student.bidirectional is true, but the task is a causal LM: a position must not see the tokens it predicts (set bidirectional: false)`);
  }
}

/**
 * Builds a sequence student from the config (docs/training.md, "Sequence students"):
 * `embedding` (token vector -> linear head: a bigram model), `window-mlp`, `gru`/`lstm` (tfjs-layers)
 * and `transformer` (pre-LN, attention written with tfjs ops). Weights are seeded from `shape.seed`.
 *
 * @throws ConfigError for sizes that do not fit (heads, the position table, bidirectional causal LM).
 * @example
 * const s = buildSequenceStudent(cfg.student, { vocab: 64, context: 32, causal: true, seed: 1, embedding: 'one-hot' });
 * const logits = s.apply(ids, mask); // [B, 32, 64]
 */
export function buildSequenceStudent(section: StudentSection, shape: SequenceShape): SequenceStudent {
  const spec = sequenceSpec(section);
  checkSpec(spec, shape);
  const arch = spec.arch;
  const vars = new SeededVariables(shape.seed);
  let block: { apply: (ids: tf.Tensor2D, mask: tf.Tensor2D) => tf.Tensor3D; macsPerToken: number; dispose?: () => void };
  if (arch === 'transformer') {
    block = transformerBlock({ dModel: spec.dModel, layers: spec.layers, heads: spec.heads, mlpRatio: spec.mlpRatio, positions: spec.context ?? shape.context, activation: spec.activation }, shape, vars);
  } else if (arch === 'window-mlp') {
    block = windowMlpBlock({ dModel: spec.dModel, window: spec.window, hidden: spec.hidden, activation: spec.activation }, shape, vars);
  } else if (arch === 'gru' || arch === 'lstm') {
    block = recurrentBlock({ cell: arch, dModel: spec.dModel, layers: spec.layers, bidirectional: spec.bidirectional }, shape, vars);
  } else {
    const table = vars.normal('embed/tokens', [shape.vocab, spec.dModel]);
    const w = vars.glorot('logits/kernel', [spec.dModel, outputClasses(shape)]);
    const b = vars.constant('logits/bias', outputClasses(shape), 0);
    block = { apply: (ids) => denseSeq(embed(table as tf.Tensor2D, ids, shape.embedding), w as tf.Tensor2D, b as tf.Tensor1D), macsPerToken: spec.dModel * outputClasses(shape) };
  }
  return {
    arch,
    shape,
    variables: vars.variables,
    variableNames: vars.names,
    params: vars.count(),
    macsPerToken: block.macsPerToken,
    apply: (ids, mask) => tf.tidy(() => block.apply(ids, mask)),
    dispose: () => {
      block.dispose?.();
      tf.dispose(vars.variables);
    },
  };
}
