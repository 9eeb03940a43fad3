/**
 * Extends an existing ONNX model with nodes and graph outputs without re-encoding it.
 *
 * In protobuf, a message parsed from the concatenation of two encodings has the repeated fields of
 * both, in order. So the main graph's bytes followed by the encoding of a GraphProto holding only the
 * new `node` and `output` entries is that graph with the new nodes after its own and the new outputs
 * after its own. The model's `graph` field (ModelProto field 7) is rewritten with that body and its
 * new length; every other byte of the model, including fields the onnx-proto codec (ONNX 1.10) does
 * not know, stays as it was. Only the top-level fields are walked, with protobufjs's Reader. A full
 * decode and re-encode with onnx-proto would not keep them: it drops unknown fields and re-packs
 * repeated integers (measured on the committed teachers: 12 to 66 bytes different, docs/decisions.md).
 *
 * @example
 * const bytes = appendToGraph(original, 'model.onnx', {
 *   nodes: [{ opType: 'Softmax', inputs: ['logits'], outputs: ['probs'], attributes: { axis: -1 } }],
 *   outputs: [{ name: 'probs', dtype: 'float32' }],
 * });
 */
import protobuf from 'protobufjs/minimal.js';
import { DataError } from '../errors.ts';
import { nodeProto, standalone, valueInfoProto } from './encode-model.ts';
import type { OnnxNodeSpec, OnnxValueInfoSpec } from './encode-model.ts';
import { onnx } from './onnx-proto.ts';

/** What {@link appendToGraph} adds to the main graph. */
export interface GraphAddition {
  /** Nodes run after the model's own (they may read any of its values). */
  readonly nodes: readonly OnnxNodeSpec[];
  /** New graph outputs, listed after the model's own. */
  readonly outputs: readonly OnnxValueInfoSpec[];
}

/** ModelProto.graph: field 7, length-delimited. */
const GRAPH_FIELD = 7;
const LENGTH_DELIMITED = 2;

/** Where the model's graph field lies: [start of its tag, start of its body, end). */
function graphField(model: Uint8Array, where: string): { start: number; body: number; end: number } {
  const found: { start: number; body: number; end: number }[] = [];
  const reader = protobuf.Reader.create(model);
  try {
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const tag = reader.uint32();
      if (tag >>> 3 === GRAPH_FIELD && (tag & 7) === LENGTH_DELIMITED) {
        const length = reader.uint32();
        const body = reader.pos;
        reader.skip(length);
        found.push({ start, body, end: reader.pos });
      } else reader.skipType(tag & 7);
    }
  } catch (err) {
    throw new DataError(`${where}: not an ONNX model (protobufjs reading its fields says: ${(err as Error).message})`, { cause: err });
  }
  if (found.length !== 1) throw new DataError(`${where}: expected one graph in the ONNX model, found ${found.length}`);
  return found[0]!;
}

/** The model bytes with `addition` merged into its graph (a new standalone array); `where` names the model in errors. */
export function appendToGraph(model: Uint8Array, where: string, addition: GraphAddition): Uint8Array {
  const field = graphField(model, where);
  const extra = onnx.GraphProto.encode(
    onnx.GraphProto.create({
      node: addition.nodes.map((n) => nodeProto(n)),
      output: addition.outputs.map((o) => valueInfoProto(o, `graph.outputs '${o.name}'`)),
    }),
  ).finish();
  const header = protobuf.Writer.create().uint32((GRAPH_FIELD << 3) | LENGTH_DELIMITED).uint32(field.end - field.body + extra.byteLength).finish();
  const parts = [model.subarray(0, field.start), header, model.subarray(field.body, field.end), extra, model.subarray(field.end)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return standalone(out);
}
