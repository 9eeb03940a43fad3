import type { OnnxNodeSpec, OnnxTensorSpec } from '../onnx/encode-model.ts';

/** Memory layout of a rank-3 (image) value: tfjs's channels-last, or ONNX Conv's channels-first. */
export type ImageLayout = 'nhwc' | 'nchw';

/**
 * The ONNX graph being built from a chain of tfjs layers, and the value flowing through it: its name,
 * its logical (tfjs, channels-last) shape without the batch dim, and its actual layout. Each layer
 * converter reads `shape`, emits nodes and sets `cur` and `shape` to what it outputs.
 */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNodeSpec[] = [];
  readonly initializers: OnnxTensorSpec[] = [];
  /** Weight elements written as initializers. */
  parameters = 0;
  /** The current value's name. */
  cur: string;
  /** The current value's logical shape (tfjs, channels-last), without the batch dim. */
  shape: number[];
  layout: ImageLayout = 'nhwc';
  /** What the current value holds: raw logits, or probabilities after a softmax. */
  outputKind: 'logits' | 'probs' = 'logits';
  /** The ONNX ops emitted for the layer being converted. */
  ops: string[] = [];
  private counter = 0;

  constructor(inputName: string, inputShape: readonly number[]) {
    this.cur = inputName;
    this.shape = [...inputShape];
  }

  /** A fresh value name: `base_<n>`. */
  fresh(base: string): string {
    return `${base}_${this.counter++}`;
  }

  /** Adds a node; returns its (first) output. */
  emit(node: OnnxNodeSpec): string {
    this.nodes.push(node);
    this.ops.push(node.opType);
    return node.outputs[0]!;
  }

  /** Adds a float32 weight initializer (counted in `parameters`); returns its name. */
  weight(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dtype: 'float32', dims, data });
    this.parameters += data.length;
    return name;
  }

  /** Adds a constant initializer (not a weight: not counted in `parameters`). */
  constant(tensor: OnnxTensorSpec): string {
    this.initializers.push(tensor);
    return tensor.name;
  }

  /** Transposes an image value to `want` (a no-op when it is there already or not an image). */
  toLayout(want: ImageLayout, layer: string): void {
    if (this.layout === want || this.shape.length !== 3) return;
    this.cur = this.emit({ opType: 'Transpose', name: `${layer}/to_${want}`, inputs: [this.cur], outputs: [this.fresh(`${layer}_${want}`)], attributes: { perm: want === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1] } });
    this.layout = want;
  }
}
