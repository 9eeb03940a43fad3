/**
 * A minimal protobuf wire-format encoder: just what `encodeModel` needs to write `onnx.proto3`.
 *
 * Supported: varint fields (int32/int64/uint64/enum, negatives as 10-byte two's complement),
 * fixed32 floats, length-delimited strings/bytes/sub-messages and packed repeated varints/floats.
 * Not supported (not needed by ONNX): zigzag (sint*), fixed64, groups.
 *
 * Large byte fields (tensor `raw_data`) are kept as references and copied exactly once, in
 * {@link ProtobufWriter.finish}; nested messages are spliced in without re-copying their bytes.
 *
 * @example
 * ```ts
 * const w = new ProtobufWriter();
 * w.int64(1, 8).message(8, (opset) => opset.string(1, '').int64(2, 13));
 * const bytes = w.finish();
 * ```
 */

/** Protobuf wire types used here (varint = 0, 64-bit = 1, length-delimited = 2, 32-bit = 5). */
export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

const INITIAL_SCRATCH = 256;
const MAX_SCRATCH = 64 * 1024;
/** Byte chunks shorter than this are copied into the scratch buffer rather than referenced. */
const REFERENCE_THRESHOLD = 64;
const INT64_MIN = -(2n ** 63n);
const UINT64_LIMIT = 2n ** 64n;
const TEXT_ENCODER = new TextEncoder();

/** Appends protobuf fields to a growing buffer; every field method returns `this` for chaining. */
export class ProtobufWriter {
  private readonly chunks: Uint8Array[] = [];
  private flushedBytes = 0;
  private scratch = new Uint8Array(INITIAL_SCRATCH);
  private view = new DataView(this.scratch.buffer);
  private pos = 0;
  private capacity = INITIAL_SCRATCH;

  /** Number of bytes written so far. */
  get byteLength(): number {
    return this.flushedBytes + this.pos;
  }

  /**
   * Writes a varint field (protobuf int32, int64, uint64, bool or enum).
   * Negative values are written as 64-bit two's complement (10 bytes), as protobuf does for int64.
   * @throws RangeError when `value` is not a safe integer or does not fit in 64 bits.
   */
  int64(fieldNumber: number, value: number | bigint): this {
    this.tag(fieldNumber, WireType.varint);
    this.varint(value);
    return this;
  }

  /** Writes a `float` field as fixed32 (IEEE 754 single precision, little-endian). */
  float(fieldNumber: number, value: number): this {
    this.tag(fieldNumber, WireType.fixed32);
    this.reserve(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  /** Writes a `string` field (UTF-8). Empty strings are written too: the caller decides what to omit. */
  string(fieldNumber: number, value: string): this {
    return this.bytes(fieldNumber, TEXT_ENCODER.encode(value));
  }

  /**
   * Writes a `bytes` field. Large arrays are referenced, not copied, until {@link finish}: do not
   * mutate `value` before then.
   */
  bytes(fieldNumber: number, value: Uint8Array): this {
    this.tag(fieldNumber, WireType.lengthDelimited);
    this.varint(value.byteLength);
    this.append(value);
    return this;
  }

  /** Writes an embedded message field whose content `build` writes into a fresh child writer. */
  message(fieldNumber: number, build: (writer: ProtobufWriter) => void): this {
    const child = new ProtobufWriter();
    build(child);
    child.flushScratch();
    this.tag(fieldNumber, WireType.lengthDelimited);
    this.varint(child.flushedBytes);
    for (const chunk of child.chunks) this.append(chunk);
    return this;
  }

  /** Writes a packed repeated varint field (e.g. `repeated int64 dims`). Nothing is written when empty. */
  packedInt64(fieldNumber: number, values: ArrayLike<number | bigint>): this {
    if (values.length === 0) return this;
    const body = new ProtobufWriter();
    for (let i = 0; i < values.length; i++) body.varint(values[i] as number | bigint);
    body.flushScratch();
    this.tag(fieldNumber, WireType.lengthDelimited);
    this.varint(body.flushedBytes);
    for (const chunk of body.chunks) this.append(chunk);
    return this;
  }

  /** Writes a packed repeated `float` field. Nothing is written when empty. */
  packedFloat(fieldNumber: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    this.tag(fieldNumber, WireType.lengthDelimited);
    this.varint(values.length * 4);
    this.reserve(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat32(this.pos, values[i] as number, true);
      this.pos += 4;
    }
    return this;
  }

  /** Returns everything written as one new, standalone `Uint8Array` (byteOffset 0). */
  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.flushedBytes);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }

  private tag(fieldNumber: number, wireType: number): void {
    if (!Number.isInteger(fieldNumber) || fieldNumber < 1 || fieldNumber > 0x1fffffff) {
      throw new RangeError(`protobuf field number must be an integer in [1, 2^29 - 1], but got ${fieldNumber}`);
    }
    this.varint(fieldNumber * 8 + wireType);
  }

  private varint(value: number | bigint): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`protobuf varint must be a safe integer, but got ${value}`);
      }
      if (value >= 0) {
        this.reserve(8);
        let v = value;
        while (v > 0x7f) {
          this.scratch[this.pos++] = (v % 128) | 0x80;
          v = Math.floor(v / 128);
        }
        this.scratch[this.pos++] = v;
        return;
      }
    }
    const big = BigInt(value);
    if (big < INT64_MIN || big >= UINT64_LIMIT) {
      throw new RangeError(`protobuf varint must fit in 64 bits, but got ${big}`);
    }
    let v = BigInt.asUintN(64, big);
    this.reserve(10);
    while (v > 0x7fn) {
      this.scratch[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.scratch[this.pos++] = Number(v);
  }

  private append(bytes: Uint8Array): void {
    if (bytes.byteLength < REFERENCE_THRESHOLD) {
      this.reserve(bytes.byteLength);
      this.scratch.set(bytes, this.pos);
      this.pos += bytes.byteLength;
      return;
    }
    this.flushScratch();
    this.chunks.push(bytes);
    this.flushedBytes += bytes.byteLength;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.scratch.length) return;
    this.flushScratch();
    this.capacity = Math.min(this.capacity * 2, MAX_SCRATCH);
    this.scratch = new Uint8Array(Math.max(this.capacity, n));
    this.view = new DataView(this.scratch.buffer);
  }

  private flushScratch(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.scratch.subarray(0, this.pos));
    this.flushedBytes += this.pos;
    this.scratch = this.scratch.subarray(this.pos);
    this.view = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.byteLength);
    this.pos = 0;
  }
}
