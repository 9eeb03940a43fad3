/**
 * Reads an ONNX model's bytes with the onnx-proto codec (pipeline/onnx/onnx-proto.ts). protobufjs types
 * nested messages as their optional-field interfaces (`IGraphProto`...), but a decoded message's
 * nested messages are instances of the generated classes, whose repeated fields are always arrays:
 * the accessors here give them their class types, so callers need no null checks on lists.
 */
import { DataError } from '../errors.ts';
import { onnx } from './onnx-proto.ts';
import type { OnnxProto } from './onnx-proto.ts';

/**
 * Decodes ONNX bytes; bytes that are not a ModelProto are a DataError naming `where` (the file).
 *
 * @example
 * const model = decodeModel(await readFile('teacher/model.onnx'), 'teacher/model.onnx');
 * graphOf(model, 'teacher/model.onnx').output.map((o) => o.name); // ['logits']
 */
export function decodeModel(bytes: Uint8Array, where: string): OnnxProto.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new DataError(`${where}: not an ONNX model (the onnx-proto decoder says: ${(err as Error).message})`, { cause: err });
  }
}

/** The model's graph; a model without one is a DataError naming `where`. */
export function graphOf(model: OnnxProto.ModelProto, where: string): OnnxProto.GraphProto {
  if (!model.graph) throw new DataError(`${where}: the ONNX model has no graph`);
  return model.graph as OnnxProto.GraphProto;
}

/** A decoded node's attributes, with their class type. */
export function attributesOf(node: OnnxProto.INodeProto): OnnxProto.AttributeProto[] {
  return (node.attribute ?? []) as OnnxProto.AttributeProto[];
}

/** A decoded tensor (initializer or attribute value), with its class type. */
export function decodedTensor(tensor: OnnxProto.ITensorProto): OnnxProto.TensorProto {
  return tensor as OnnxProto.TensorProto;
}

/** A decoded value's tensor type (element type and dims), or null when it is not a tensor. */
export function tensorTypeOf(value: OnnxProto.IValueInfoProto): { elemType: number; dims: OnnxProto.TensorShapeProto.Dimension[] | null } | null {
  const t = value.type?.tensorType;
  if (!t) return null;
  return { elemType: t.elemType ?? 0, dims: t.shape ? ((t.shape.dim ?? []) as OnnxProto.TensorShapeProto.Dimension[]) : null };
}
