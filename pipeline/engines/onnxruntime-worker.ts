/**
 * Worker-thread side of {@link workerSessionFactory}: holds one ONNX Runtime session (created by
 * {@link inProcessSessionFactory}) and answers run requests from the parent thread. Input and output
 * buffers are transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { inProcessSessionFactory } from './onnxruntime.ts';
import type { EngineSession, EngineTensor } from './onnxruntime.ts';
import type { WorkerReply, WorkerRequest } from './onnxruntime-worker-protocol.ts';

const port = parentPort!;
let session: EngineSession | undefined;

function fail(id: number, err: unknown): WorkerReply {
  const e = err instanceof Error ? err : new Error(String(err));
  return { id, ok: false, error: { name: e.name, message: e.message } };
}

function buffersOf(tensors: Record<string, EngineTensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    if (t.data.buffer instanceof ArrayBuffer) seen.add(t.data.buffer);
  }
  return [...seen];
}

port.on('message', (msg: WorkerRequest) => {
  void (async () => {
    try {
      if (msg.op === 'create') {
        session = await inProcessSessionFactory(msg.request);
        port.postMessage({ id: msg.id, ok: true, inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata } satisfies WorkerReply);
      } else if (msg.op === 'run') {
        const outputs = await session!.run(msg.feeds, msg.fetches);
        port.postMessage({ id: msg.id, ok: true, outputs } satisfies WorkerReply, buffersOf(outputs));
      } else {
        await session?.release();
        session = undefined;
        port.postMessage({ id: msg.id, ok: true } satisfies WorkerReply);
      }
    } catch (err) {
      port.postMessage(fail(msg.id, err));
    }
  })();
});
