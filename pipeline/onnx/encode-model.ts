/**
 * Writes an ONNX `ModelProto` from a plain, typed spec: the spec is checked and turned into
 * `onnx.ModelProto` objects, which the maintained codec `onnx-proto` (pipeline/onnx/onnx-proto.ts)
 * encodes. Tensors are always stored as little-endian `raw_data`. Only what the distill pipeline needs
 * is covered: tensor-typed graph inputs and outputs, initializers, nodes with
 * INT/INTS/FLOAT/FLOATS/STRING/TENSOR attributes. The result is not checked as a graph (operator
 * names, edges, shapes): ONNX Runtime does that when it loads it. The builders of the parts
 * ({@link nodeProto}, {@link tensorProto}, {@link valueInfoProto}) are exported for code that extends
 * an existing model (pipeline/onnx/append-to-graph.ts).
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
import { int64Value, onnx } from './onnx-proto.ts';
import type { Int64, OnnxProto } from './onnx-proto.ts';

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
const AttributeType = onnx.AttributeProto.AttributeType;
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TEXT_ENCODER = new TextEncoder();

/**
 * Encodes `model` as ONNX protobuf bytes, ready for `ort.InferenceSession.create(bytes)` or a
 * `.onnx` file.
 * @throws RangeError or TypeError naming the offending tensor, attribute or dimension when the
 *   spec cannot be encoded (unknown dtype, data length not matching dims, ambiguous attribute...).
 */
export function encodeModel(model: OnnxModelSpec): Uint8Array {
  return standalone(onnx.ModelProto.encode(modelProto(model)).finish());
}

/**
 * A plain Uint8Array that owns its whole ArrayBuffer. protobufjs returns a Node Buffer, which for small
 * messages is a view into Node's shared allocation pool; callers may hash, transfer or keep the bytes.
 */
export function standalone(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !Buffer.isBuffer(bytes)) return bytes;
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return new Uint8Array(bytes.buffer);
  return new Uint8Array(bytes);
}

/** The checked `onnx.ModelProto` of `model` (what {@link encodeModel} encodes). */
export function modelProto(model: OnnxModelSpec): OnnxProto.ModelProto {
  const opsets: OnnxOpsetImport[] = [
    { domain: '', version: model.opsetVersion ?? DEFAULT_OPSET_VERSION },
    ...(model.extraOpsets ?? []),
  ];
  const producerName = model.producerName ?? 'distill';
  return onnx.ModelProto.create({
    irVersion: model.irVersion ?? DEFAULT_IR_VERSION,
    ...(producerName !== '' ? { producerName } : {}),
    ...(model.producerVersion !== undefined ? { producerVersion: model.producerVersion } : {}),
    ...(model.docString !== undefined ? { docString: model.docString } : {}),
    graph: graphProto(model.graph),
    opsetImport: opsets.map((o) => onnx.OperatorSetIdProto.create({ ...(o.domain !== '' ? { domain: o.domain } : {}), version: o.version })),
  });
}

function graphProto(graph: OnnxGraphSpec): OnnxProto.GraphProto {
  return onnx.GraphProto.create({
    node: graph.nodes.map((n) => nodeProto(n)),
    name: graph.name,
    initializer: (graph.initializers ?? []).map((t) => tensorProto(t, `initializer '${t.name}'`)),
    ...(graph.docString !== undefined ? { docString: graph.docString } : {}),
    input: graph.inputs.map((v) => valueInfoProto(v, `graph.inputs '${v.name}'`)),
    output: graph.outputs.map((v) => valueInfoProto(v, `graph.outputs '${v.name}'`)),
  });
}

/** One checked `onnx.NodeProto`; errors name the node and attribute. */
export function nodeProto(node: OnnxNodeSpec): OnnxProto.NodeProto {
  const where = `node '${node.name ?? node.outputs.join(',')}' (${node.opType})`;
  return onnx.NodeProto.create({
    input: [...node.inputs],
    output: [...node.outputs],
    ...(node.name !== undefined && node.name !== '' ? { name: node.name } : {}),
    opType: node.opType,
    attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attributeProto(name, value, `${where} attribute '${name}'`)),
    ...(node.domain !== undefined && node.domain !== '' ? { domain: node.domain } : {}),
  });
}

function attributeProto(name: string, value: OnnxAttributeValue, where: string): OnnxProto.AttributeProto {
  const attr = (fields: OnnxProto.IAttributeProto): OnnxProto.AttributeProto => onnx.AttributeProto.create({ name, ...fields });
  if (typeof value === 'number' || typeof value === 'bigint') return attr({ i: checkInt(value, where), type: AttributeType.INT });
  if (typeof value === 'string') return attr({ s: TEXT_ENCODER.encode(value), type: AttributeType.STRING });
  if (isReadonlyArray(value)) return attr({ ints: value.map((v, k) => checkInt(v, `${where}[${k}]`)), type: AttributeType.INTS });
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    throw new TypeError(`${where} must have exactly one of the keys f, floats, i, ints, s, t, but got {${keys.join(', ')}}`);
  }
  if ('f' in value) return attr({ f: value.f, type: AttributeType.FLOAT });
  if ('floats' in value) return attr({ floats: [...value.floats], type: AttributeType.FLOATS });
  if ('i' in value) return attr({ i: checkInt(value.i, where), type: AttributeType.INT });
  if ('ints' in value) return attr({ ints: value.ints.map((v, k) => checkInt(v, `${where}[${k}]`)), type: AttributeType.INTS });
  if ('s' in value) return attr({ s: typeof value.s === 'string' ? TEXT_ENCODER.encode(value.s) : value.s, type: AttributeType.STRING });
  if ('t' in value) return attr({ t: tensorProto(value.t, `${where} tensor`), type: AttributeType.TENSOR });
  throw new TypeError(`${where} has unknown key '${keys[0]}'; allowed: f, floats, i, ints, s, t`);
}

/** One checked `onnx.TensorProto` (dims, data type, name, little-endian raw_data); errors name `where`. */
export function tensorProto(tensor: OnnxTensorSpec, where = `tensor '${tensor.name}'`): OnnxProto.TensorProto {
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
  return onnx.TensorProto.create({ dims: [...tensor.dims], dataType: code, name: tensor.name, rawData: littleEndianBytes(tensor) });
}

/** One checked tensor-typed `onnx.ValueInfoProto` (element type, optional shape); errors name `where`. */
export function valueInfoProto(info: OnnxValueInfoSpec, where = `value '${info.name}'`): OnnxProto.ValueInfoProto {
  const elemType = dataTypeCode(info.dtype, `${where} dtype`);
  const shape = info.shape?.map((dim, k) => {
    if (typeof dim === 'string') return onnx.TensorShapeProto.Dimension.create({ dimParam: dim });
    if (Number.isSafeInteger(dim) && dim >= 0) return onnx.TensorShapeProto.Dimension.create({ dimValue: dim });
    throw new RangeError(`${where} shape[${k}] must be a non-negative integer or a string, but got ${dim}`);
  });
  return onnx.ValueInfoProto.create({
    name: info.name,
    type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType, ...(shape ? { shape: onnx.TensorShapeProto.create({ dim: shape }) } : {}) }) }),
  });
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

function checkInt(value: number | bigint, where: string): Int64 {
  if (typeof value === 'bigint') return int64Value(value);
  if (Number.isSafeInteger(value)) return value;
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
