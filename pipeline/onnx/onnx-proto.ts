/**
 * The ONNX protobuf codec: the `onnx-proto` package (onnx/onnx's onnx.proto3 of ONNX 1.10, IR version
 * 8, compiled to static code by protobufjs 6). The one place that imports it, so the CommonJS interop
 * and the int64 representation are handled once. Every other module uses {@link onnx} from here.
 *
 * int64 fields: protobufjs decodes them as `Long` objects when the `long` package is installed (it is,
 * as protobufjs's dependency) and as numbers otherwise; {@link int64ToNumber} reads either. Encoding
 * accepts numbers (safe integers) and Longs; {@link int64Value} turns a bigint into one of them.
 */
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal.js';

/** The generated onnx.proto3 message classes and enums (ModelProto, GraphProto, NodeProto, ...). */
export const onnx = onnxProto.onnx;

// The type side of the same namespace, for annotations (OnnxProto.IModelProto, OnnxProto.ModelProto, ...).
export type { onnx as OnnxProto } from 'onnx-proto';
import type { onnx as OnnxProto } from 'onnx-proto';

/** What protobufjs holds in an int64 field: a number, or a `Long` (the `long` package's class). */
export type Int64 = NonNullable<OnnxProto.ITensorProto['dims']>[number];

/** The parts of the `long` package's class used here (protobufjs exposes it as util.Long). */
interface LongClass {
  fromString(value: string): Int64;
}

/** A decoded int64 as a JS number; a value beyond 2^53 is a RangeError naming `where`. */
export function int64ToNumber(value: Int64 | null | undefined, where: string): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : value.toNumber();
  if (!Number.isSafeInteger(n)) throw new RangeError(`${where} is ${String(value)}, beyond what a JS number holds exactly`);
  return n;
}

/** A number or bigint as protobufjs encodes an int64: the number itself, or a Long beyond 2^53. */
export function int64Value(value: number | bigint): Int64 {
  if (typeof value === 'number') return value;
  if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  const Long = protobuf.util.Long as unknown as LongClass | undefined;
  if (!Long) throw new RangeError(`int64 ${value} needs the 'long' package, which protobufjs did not find`);
  return Long.fromString(BigInt.asIntN(64, value).toString());
}
