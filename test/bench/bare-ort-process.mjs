// The bare ONNX Runtime process of test/bench/teacher-process.bench.ts: Node's start, onnxruntime-node's
// import, one session (the stage's options: graph optimisation "all", the given intra-op threads), the
// preprocessed float32 inputs read from one raw file, and session.run over them batch after batch,
// nothing kept. Prints one JSON line: the loop's rows/s and the process's CPU seconds.
// Usage: node bare-ort-process.mjs <model.onnx> <inputs.f32> <rows> <batch> <input name> <dims per row, comma-separated> [intra-op threads, 0 = ORT default]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import * as ort from 'onnxruntime-node';

const [model, file, rowsArg, batchArg, name, rowDimsArg, threadsArg = '0'] = process.argv.slice(2);
const threads = Number(threadsArg);
const rows = Number(rowsArg);
const batch = Number(batchArg);
const rowDims = rowDimsArg.split(',').map(Number);
const width = rowDims.reduce((p, d) => p * d, 1);
const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', ...(threads > 0 ? { intraOpNumThreads: threads } : {}) });
const bytes = readFileSync(file);
const x = new Float32Array(bytes.buffer, bytes.byteOffset, rows * width);
const t0 = performance.now();
for (let s = 0; s < rows; s += batch) {
  const n = Math.min(batch, rows - s);
  await session.run({ [name]: new ort.Tensor('float32', x.subarray(s * width, (s + n) * width), [n, ...rowDims]) });
}
const loopSeconds = (performance.now() - t0) / 1000;
await session.release();
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ loopRowsPerSecond: rows / loopSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
