/**
 * Counts the parameters of an ONNX model from its bytes: the elements of every floating-point
 * initializer and of every floating-point `Constant` node's tensor (some exporters store weights
 * that way). Integer tensors (shapes, indices) are not parameters. A minimal protobuf walk over
 * onnx.proto3's ModelProto.graph (7) -> GraphProto.initializer (5) / node (1) -> NodeProto.attribute
 * (5) -> AttributeProto.t (5) -> TensorProto.dims (1), data_type (2); no ONNX library needed.
 */
import { DataError } from '../../pipeline/errors.ts';

/** ONNX TensorProto data types counted as parameters: FLOAT, FLOAT16, DOUBLE, BFLOAT16. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

interface Field {
  no: number;
  wire: number;
  /** varint value (wire 0) */
  value: number;
  /** payload (wire 2) */
  bytes: Uint8Array | null;
}

function* fields(buf: Uint8Array, where: string): Generator<Field> {
  let at = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= buf.length) throw new DataError(`${where}: truncated protobuf varint`);
      const b = buf[at++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new DataError(`${where}: malformed protobuf varint`);
  };
  while (at < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) yield { no, wire, value: varint(), bytes: null };
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const len = varint();
      if (at + len > buf.length) throw new DataError(`${where}: protobuf field ${no} runs past the end`);
      yield { no, wire, value: 0, bytes: buf.subarray(at, at + len) };
      at += len;
    } else throw new DataError(`${where}: unsupported protobuf wire type ${wire} (field ${no}); not an ONNX model?`);
  }
}

function tensorElements(t: Uint8Array, where: string): number {
  let type = 0;
  let count = 1;
  for (const f of fields(t, where)) {
    if (f.no === 2 && f.wire === 0) type = f.value;
    if (f.no === 1 && f.wire === 0) count *= f.value;
    if (f.no === 1 && f.wire === 2) for (const d of packedVarints(f.bytes!, where)) count *= d;
  }
  return FLOAT_TYPES.has(type) ? count : 0;
}

function packedVarints(buf: Uint8Array, where: string): number[] {
  // Re-use the field reader by prefixing each varint with a fake key: simpler to decode inline.
  const out: number[] = [];
  let at = 0;
  while (at < buf.length) {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (at >= buf.length) throw new DataError(`${where}: truncated packed varint`);
      const b = buf[at++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
    }
    out.push(result);
  }
  return out;
}

/** Floating-point parameter count of an ONNX model (see the module comment). */
export function countOnnxParameters(model: Uint8Array, where = 'ONNX model'): number {
  let total = 0;
  for (const m of fields(model, where)) {
    if (m.no !== 7 || m.wire !== 2) continue;
    for (const g of fields(m.bytes!, where)) {
      if (g.no === 5 && g.wire === 2) total += tensorElements(g.bytes!, where);
      if (g.no === 1 && g.wire === 2) {
        let isConstant = false;
        const tensors: Uint8Array[] = [];
        for (const n of fields(g.bytes!, where)) {
          if (n.no === 4 && n.wire === 2) isConstant = new TextDecoder().decode(n.bytes!) === 'Constant';
          if (n.no === 5 && n.wire === 2) for (const a of fields(n.bytes!, where)) if (a.no === 5 && a.wire === 2) tensors.push(a.bytes!);
        }
        if (isConstant) for (const t of tensors) total += tensorElements(t, where);
      }
    }
  }
  return total;
}
