import { Field, FixedSizeList, Int64, RecordBatch, Schema, Struct, Table, Uint8, makeData } from 'apache-arrow';

/** Pixels per MNIST image (28 x 28). */
export const MNIST_PIXELS = 784;

/** Arrow schema of an MNIST split file: `row: int64`, `pixels: fixed_size_list<uint8>[784]`, `label: uint8`. */
export const mnistSchema = new Schema([
  new Field('row', new Int64(), false),
  new Field('pixels', new FixedSizeList(MNIST_PIXELS, new Field('item', new Uint8(), false)), false),
  new Field('label', new Uint8(), false),
]);

/** The rows [start, end) of an MNIST split as an Arrow table (zero-copy views of the IDX bytes). */
export function mnistTable(images: Uint8Array, labels: Uint8Array, start: number, end: number): Table {
  const n = end - start;
  const rows = makeData({ type: new Int64(), length: n, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i)) });
  const pixelType = mnistSchema.fields[1]!.type as FixedSizeList<Uint8>;
  const pixels = makeData({
    type: pixelType,
    length: n,
    nullCount: 0,
    child: makeData({ type: new Uint8(), length: n * MNIST_PIXELS, data: images.subarray(start * MNIST_PIXELS, end * MNIST_PIXELS) }),
  });
  const label = makeData({ type: new Uint8(), length: n, data: labels.subarray(start, end) });
  const struct = makeData({ type: new Struct(mnistSchema.fields), length: n, nullCount: 0, children: [rows, pixels, label] });
  return new Table([new RecordBatch(mnistSchema, struct)]);
}
