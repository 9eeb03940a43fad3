/**
 * Counts the parameters of an ONNX model from its bytes: the elements of every floating-point
 * initializer and of every floating-point `Constant` node's tensor (some exporters store weights
 * that way). Integer tensors (shapes, indices) are not parameters. The model is read with the
 * onnx-proto decoder (pipeline/onnx/decode-model.ts).
 */
import { attributesOf, decodeModel, decodedTensor, graphOf } from '../../pipeline/onnx/decode-model.ts';
import { int64ToNumber, onnx } from '../../pipeline/onnx/onnx-proto.ts';
import type { OnnxProto } from '../../pipeline/onnx/onnx-proto.ts';

const DataType = onnx.TensorProto.DataType;
/** ONNX TensorProto data types counted as parameters: FLOAT, FLOAT16, DOUBLE, BFLOAT16. */
const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

function tensorElements(t: OnnxProto.ITensorProto, where: string): number {
  const tensor = decodedTensor(t);
  if (!FLOAT_TYPES.has(tensor.dataType)) return 0;
  return tensor.dims.reduce<number>((n, d) => n * int64ToNumber(d, `${where}: tensor '${tensor.name}' dims`), 1);
}

/** Floating-point parameter count of an ONNX model (see the module comment); bytes that are not ONNX are a DataError naming `where`. */
export function countOnnxParameters(model: Uint8Array, where = 'ONNX model'): number {
  const graph = graphOf(decodeModel(model, where), where);
  let total = 0;
  for (const t of graph.initializer) total += tensorElements(t, where);
  for (const node of graph.node) {
    if (node.opType !== 'Constant') continue;
    for (const a of attributesOf(node)) if (a.t) total += tensorElements(a.t, where);
  }
  return total;
}
