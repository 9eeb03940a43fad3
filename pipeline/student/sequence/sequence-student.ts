/**
 * The contract of a sequence student: token ids and their attention mask in, logits at every position
 * out. Each architecture is a block in its own file (sequence-blocks.ts dispatches).
 */
import type { SequenceArch } from '../../config/experiment-config.ts';
import type { tf } from '../../engines/tfjs.ts';
import type { EmbeddingMethod } from './embedding-block.ts';

/** What a sequence student is built for. */
export interface SequenceShape {
  /** Vocabulary size V (the store's classes; token ids lie in [0, V)). */
  vocab: number;
  /** Output classes per position: the label classes of token classification; absent = vocab (a language model). */
  classes?: number;
  /** Context L: positions per row of the token dataset. */
  context: number;
  /** True for a causal LM: position t sees tokens 0..t only. False for token classification. */
  causal: boolean;
  /** Master seed of the initial weights. */
  seed: number;
  /** How ids are looked up (see embeddingMethodFor). */
  embedding: EmbeddingMethod;
}

/** Output logits per position: `classes`, else the vocabulary. */
export function outputClasses(shape: Pick<SequenceShape, 'vocab' | 'classes'>): number {
  return shape.classes ?? shape.vocab;
}

/** A sequence student and its forward pass. */
export interface SequenceStudent {
  arch: SequenceArch;
  shape: SequenceShape;
  /** Trainable variables in a fixed order (checkpoints and the optimizer rely on it). */
  variables: tf.Variable[];
  /** Their names, e.g. `block_1/attn/wq`, in the same order. */
  variableNames: string[];
  /** Trainable parameter count. */
  params: number;
  /** Multiply-accumulates per token of one forward pass (attention counted at full context L; a lookup costs 0). */
  macsPerToken: number;
  /**
   * Logits [B, L, V] for `ids` [B, L] int32 and `mask` [B, L] float32 (1 = real token). Padding
   * positions never influence real ones. `dropoutSeed` is accepted for the trainer's signature; the
   * sequence blocks have no dropout.
   */
  apply(ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D;
  /** Frees layers built outside the variable set (recurrent blocks). */
  dispose(): void;
}
