/**
 * Writes an ONNX `ModelProto` (onnx.proto3) from a plain, typed spec, without any dependency.
 *
 * Field numbers follow onnx/onnx `onnx/onnx.proto3`. Tensors are always stored as little-endian
 * `raw_data`. Only what the distill pipeline needs is covered: tensor-typed graph inputs and
 * outputs, initializers, nodes with INT/INTS/FLOAT/FLOATS/STRING/TENSOR attributes. The result is
 * not checked as a graph (operator names, edges, shapes): ONNX Runtime does that when it loads it.
 *
 * @example
 * ```ts
 * const bytes = encodeModel({
 *   producerName: 'distill-test',
 *   graph: {
 *     name: 'double',
 *     nodes: [{ opType: 'Mul', inputs: ['x', 'two'], outputs: ['y'] }],
 *     initializers: [{ name: 'two', dtype: 'float32', dims: [], data: new Float32Array([2]) }],
 *     inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }],
 *     outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 3] }],
 *   },
 * });
 * const session = await ort.InferenceSession.create(bytes);
 * ```
 */
import { ProtobufWriter } from './protobuf-writer.ts';

/** Element types that can be written: ONNX FLOAT, FLOAT16, INT32, INT64 and UINT8. */
export type OnnxDataType = 'float32' | 'float16' | 'int32' | 'int64' | 'uint8';

/** The typed array that holds each {@link OnnxDataType}; float16 is given as raw IEEE 754 half bits. */
export interface OnnxTensorDataMap {
  float32: Float32Array;
  float16: Uint16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
}

/** A constant tensor (graph initializer or TENSOR attribute), stored row-major as `raw_data`. */
export type OnnxTensorSpec = {
  [D in OnnxDataType]: {
    /** Tensor name; initializers are referenced by it from node inputs. */
    readonly name: string;
    /** Element type; decides the type of `data`. */
    readonly dtype: D;
    /** Dimensions; `[]` is a scalar. The product must equal `data.length`. */
    readonly dims: readonly number[];
    /** Elements in row-major order. */
    readonly data: OnnxTensorDataMap[D];
  };
}[OnnxDataType];

/**
 * A node attribute value. The ONNX attribute type is never guessed from the numeric value:
 * - `number` or `bigint` is INT (a non-integer `number` is rejected: write `{ f: 0.5 }`);
 * - `number[]` is INTS (integers only);
 * - `string` is STRING;
 * - `{ f }` is FLOAT, so `alpha = 1.0` is `{ f: 1 }`; `{ floats }` is FLOATS;
 * - `{ i }`, `{ ints }`, `{ s }` are explicit INT, INTS, STRING; `{ t }` is TENSOR.
 */
export type OnnxAttributeValue =
  | number
  | bigint
  | readonly number[]
  | string
  | { readonly f: number }
  | { readonly floats: readonly number[] }
  | { readonly i: number | bigint }
  | { readonly ints: readonly (number | bigint)[] }
  | { readonly s: string | Uint8Array }
  | { readonly t: OnnxTensorSpec };

/** One operator application. */
export interface OnnxNodeSpec {
  /** Operator name, e.g. `'Gemm'`. */
  readonly opType: string;
  /** Input value names in operator order; `''` marks a skipped optional input. */
  readonly inputs: readonly string[];
  /** Output value names in operator order. */
  readonly outputs: readonly string[];
  /** Optional node name (shown in ONNX Runtime errors). */
  readonly name?: string;
  /** Operator set domain; default `''` (the standard ai.onnx domain). */
  readonly domain?: string;
  /** Attributes by name; see {@link OnnxAttributeValue} for how each is typed. */
  readonly attributes?: Readonly<Record<string, OnnxAttributeValue>>;
}

/** A tensor-typed graph input or output. */
export interface OnnxValueInfoSpec {
  /** Value name. */
  readonly name: string;
  /** Element type. */
  readonly dtype: OnnxDataType;
  /**
   * Dimensions: a number is a fixed size, a string a symbolic dimension (`dim_param`, e.g. `'batch'`).
   * Omitted: the shape (and rank) is unknown.
   */
  readonly shape?: readonly (number | string)[];
}

/** A computation graph. */
export interface OnnxGraphSpec {
  /** Graph name. */
  readonly name: string;
  /** Nodes in topological order. */
  readonly nodes: readonly OnnxNodeSpec[];
  /** Constant tensors; default none. */
  readonly initializers?: readonly OnnxTensorSpec[];
  /** Graph inputs fed at run time (do not list initializers here). */
  readonly inputs: readonly OnnxValueInfoSpec[];
  /** Graph outputs. */
  readonly outputs: readonly OnnxValueInfoSpec[];
  /** Optional documentation string. */
  readonly docString?: string;
}

/** An operator set import besides the default ai.onnx one. */
export interface OnnxOpsetImport {
  /** Domain, e.g. `'com.microsoft'`. */
  readonly domain: string;
  /** Operator set version. */
  readonly version: number;
}

/** A whole model: what {@link encodeModel} writes. */
export interface OnnxModelSpec {
  /** ONNX IR version; default 8 (ONNX 1.10+). */
  readonly irVersion?: number;
  /** Version of the default ai.onnx operator set; default 13. */
  readonly opsetVersion?: number;
  /** Extra operator sets for nodes with a `domain`; default none. */
  readonly extraOpsets?: readonly OnnxOpsetImport[];
  /** Tool that made the model; default `'distill'`. */
  readonly producerName?: string;
  /** Version of that tool; default omitted. */
  readonly producerVersion?: string;
  /** Optional documentation string. */
  readonly docString?: string;
  /** The graph to run. */
  readonly graph: OnnxGraphSpec;
}

/** Default {@link OnnxModelSpec.irVersion}. */
export const DEFAULT_IR_VERSION = 8;
/** Default {@link OnnxModelSpec.opsetVersion}. */
export const DEFAULT_OPSET_VERSION = 13;

const DATA_TYPE_CODE: Readonly<Record<OnnxDataType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  float16: 10,
};
const ARRAY_CONSTRUCTOR: Readonly<Record<OnnxDataType, new (length: number) => ArrayBufferView>> = {
  float32: Float32Array,
  float16: Uint16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
};
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TEXT_ENCODER = new TextEncoder();

/**
 * Encodes `model` as ONNX protobuf bytes, ready for `ort.InferenceSession.create(bytes)` or a
 * `.onnx` file.
 * @throws RangeError or TypeError naming the offending tensor, attribute or dimension when the
 *   spec cannot be encoded (unknown dtype, data length not matching dims, ambiguous attribute...).
 */
export function encodeModel(model: OnnxModelSpec): Uint8Array {
  const w = new ProtobufWriter();
  w.int64(1, model.irVersion ?? DEFAULT_IR_VERSION);
  const producerName = model.producerName ?? 'distill';
  if (producerName !== '') w.string(2, producerName);
  if (model.producerVersion !== undefined) w.string(3, model.producerVersion);
  if (model.docString !== undefined) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  const opsets: OnnxOpsetImport[] = [
    { domain: '', version: model.opsetVersion ?? DEFAULT_OPSET_VERSION },
    ...(model.extraOpsets ?? []),
  ];
  for (const opset of opsets) {
    w.message(8, (o) => {
      if (opset.domain !== '') o.string(1, opset.domain);
      o.int64(2, opset.version);
    });
  }
  return w.finish();
}

function writeGraph(w: ProtobufWriter, graph: OnnxGraphSpec): void {
  for (const node of graph.nodes) w.message(1, (n) => writeNode(n, node));
  w.string(2, graph.name);
  for (const tensor of graph.initializers ?? []) w.message(5, (t) => writeTensor(t, tensor, `initializer '${tensor.name}'`));
  if (graph.docString !== undefined) w.string(10, graph.docString);
  for (const input of graph.inputs) w.message(11, (v) => writeValueInfo(v, input, `graph.inputs '${input.name}'`));
  for (const output of graph.outputs) w.message(12, (v) => writeValueInfo(v, output, `graph.outputs '${output.name}'`));
}

function writeNode(w: ProtobufWriter, node: OnnxNodeSpec): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  if (node.name !== undefined && node.name !== '') w.string(3, node.name);
  w.string(4, node.opType);
  const where = `node '${node.name ?? node.outputs.join(',')}' (${node.opType})`;
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.message(5, (a) => writeAttribute(a, name, value, `${where} attribute '${name}'`));
  }
  if (node.domain !== undefined && node.domain !== '') w.string(7, node.domain);
}

function writeAttribute(w: ProtobufWriter, name: string, value: OnnxAttributeValue, where: string): void {
  w.string(1, name);
  if (typeof value === 'number' || typeof value === 'bigint') {
    w.int64(3, checkInt(value, where)).int64(20, ATTR_INT);
  } else if (typeof value === 'string') {
    w.string(4, value).int64(20, ATTR_STRING);
  } else if (isReadonlyArray(value)) {
    w.packedInt64(8, value.map((v, k) => checkInt(v, `${where}[${k}]`))).int64(20, ATTR_INTS);
  } else {
    const keys = Object.keys(value);
    if (keys.length !== 1) {
      throw new TypeError(
        `${where} must have exactly one of the keys f, floats, i, ints, s, t, but got {${keys.join(', ')}}`,
      );
    }
    if ('f' in value) {
      w.float(2, value.f).int64(20, ATTR_FLOAT);
    } else if ('floats' in value) {
      w.packedFloat(7, value.floats).int64(20, ATTR_FLOATS);
    } else if ('i' in value) {
      w.int64(3, checkInt(value.i, where)).int64(20, ATTR_INT);
    } else if ('ints' in value) {
      w.packedInt64(8, value.ints.map((v, k) => checkInt(v, `${where}[${k}]`))).int64(20, ATTR_INTS);
    } else if ('s' in value) {
      w.bytes(4, typeof value.s === 'string' ? TEXT_ENCODER.encode(value.s) : value.s).int64(20, ATTR_STRING);
    } else if ('t' in value) {
      w.message(5, (t) => writeTensor(t, value.t, `${where} tensor`)).int64(20, ATTR_TENSOR);
    } else {
      throw new TypeError(`${where} has unknown key '${keys[0]}'; allowed: f, floats, i, ints, s, t`);
    }
  }
}

function writeTensor(w: ProtobufWriter, tensor: OnnxTensorSpec, where: string): void {
  const code = dataTypeCode(tensor.dtype, `${where} dtype`);
  const expected = ARRAY_CONSTRUCTOR[tensor.dtype];
  if (!(tensor.data instanceof expected)) {
    throw new TypeError(
      `${where} has dtype '${tensor.dtype}' and needs a ${expected.name}, but got ${describe(tensor.data)}`,
    );
  }
  let count = 1;
  tensor.dims.forEach((d, k) => {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${where} dims[${k}] must be a non-negative integer, but got ${d}`);
    }
    count *= d;
  });
  if (count !== tensor.data.length) {
    throw new RangeError(
      `${where} has dims [${tensor.dims.join(', ')}] (${count} elements), but data has ${tensor.data.length} elements`,
    );
  }
  w.packedInt64(1, tensor.dims);
  w.int64(2, code);
  w.string(8, tensor.name);
  w.bytes(9, littleEndianBytes(tensor));
}

function writeValueInfo(w: ProtobufWriter, info: OnnxValueInfoSpec, where: string): void {
  const code = dataTypeCode(info.dtype, `${where} dtype`);
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int64(1, code);
      if (info.shape === undefined) return;
      const shape = info.shape;
      tensorType.message(2, (s) => {
        shape.forEach((dim, k) => {
          s.message(1, (d) => {
            if (typeof dim === 'string') {
              d.string(2, dim);
            } else if (Number.isSafeInteger(dim) && dim >= 0) {
              d.int64(1, dim);
            } else {
              throw new RangeError(`${where} shape[${k}] must be a non-negative integer or a string, but got ${dim}`);
            }
          });
        });
      });
    }),
  );
}

function littleEndianBytes(tensor: OnnxTensorSpec): Uint8Array {
  const { data } = tensor;
  if (IS_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let k = 0; k < data.length; k++) {
    switch (tensor.dtype) {
      case 'float32':
        view.setFloat32(k * 4, tensor.data[k] as number, true);
        break;
      case 'float16':
        view.setUint16(k * 2, tensor.data[k] as number, true);
        break;
      case 'int32':
        view.setInt32(k * 4, tensor.data[k] as number, true);
        break;
      case 'int64':
        view.setBigInt64(k * 8, tensor.data[k] as bigint, true);
        break;
      case 'uint8':
        out[k] = tensor.data[k] as number;
        break;
    }
  }
  return out;
}

function dataTypeCode(dtype: OnnxDataType, where: string): number {
  const code = Object.hasOwn(DATA_TYPE_CODE, dtype) ? DATA_TYPE_CODE[dtype] : undefined;
  if (code === undefined) {
    throw new RangeError(`${where} is "${String(dtype)}"; should be one of: ${Object.keys(DATA_TYPE_CODE).join(', ')}`);
  }
  return code;
}

function checkInt(value: number | bigint, where: string): number | bigint {
  if (typeof value === 'bigint' || Number.isSafeInteger(value)) return value;
  throw new RangeError(
    `${where} is ${value}, which is not an integer; a bare number is an INT attribute, write { f: ${value} } for FLOAT`,
  );
}

function isReadonlyArray(value: unknown): value is readonly number[] {
  return Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}
