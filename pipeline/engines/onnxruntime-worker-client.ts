/**
 * A {@link SessionFactory} that runs the ONNX Runtime session in a worker thread. onnxruntime-node's
 * `session.run` blocks the thread that calls it, so with this factory the calling thread stays free
 * to encode and write the previous batch while ORT computes the next: real pipelining.
 */
import { Worker } from 'node:worker_threads';
import { DataError } from '../errors.ts';
import { ProviderUnavailableError } from './onnxruntime.ts';
import type { EngineSession, EngineTensor, SessionFactory } from './onnxruntime.ts';
import type { WorkerReply, WorkerRequest } from './onnxruntime-worker-protocol.ts';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

type Pending = { resolve: (reply: WorkerReply & { ok: true }) => void; reject: (err: Error) => void };

function rebuildError(error: { name: string; message: string }): Error {
  if (error.name === 'ProviderUnavailableError') return new ProviderUnavailableError(error.message);
  if (error.name === 'DataError') return new DataError(error.message);
  const e = new Error(error.message);
  e.name = error.name;
  return e;
}

function buffersOf(tensors: Record<string, EngineTensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    if (t.data.buffer instanceof ArrayBuffer) seen.add(t.data.buffer);
  }
  return [...seen];
}

/**
 * Creates the session inside a new worker thread. Feeds passed to `run` are transferred to the worker
 * (their buffers become unusable in the caller: allocate a fresh buffer per batch); outputs come back
 * transferred. `release()` ends the worker.
 */
export const workerSessionFactory: SessionFactory = async (request) => {
  const worker = new Worker(new URL('./onnxruntime-worker-entry.js', import.meta.url));
  worker.unref();
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let dead: Error | undefined;
  const failAll = (err: Error): void => {
    dead ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (reply: WorkerReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (reply.ok) p.resolve(reply);
    else p.reject(rebuildError(reply.error));
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`the ONNX Runtime worker thread exited (code ${code})`)));
  // The worker is ref'd while a call is out (so the process waits for its reply) and unref'd when none
  // is, so an idle session never keeps the process alive. Once terminating it stays ref'd: terminate()
  // refs it until 'exit', and an unref from a late reply would let the event loop end first (the CLI
  // then exits 13, "unsettled top-level await", instead of reporting its error).
  let terminating = false;
  const call = (msg: WithoutId<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<WorkerReply & { ok: true }> =>
    new Promise((resolve, reject) => {
      if (dead) return reject(dead);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...msg, id } as WorkerRequest, transfer);
    }).finally(() => {
      if (pending.size === 0 && !terminating) worker.unref();
    }) as Promise<WorkerReply & { ok: true }>;
  const inFlight = new Set<Promise<unknown>>();
  const terminate = async (): Promise<void> => {
    terminating = true;
    await worker.terminate();
  };
  let created: WorkerReply & { ok: true };
  try {
    // Model bytes are copied (not transferred): the caller may still use them.
    created = await call({ op: 'create', request });
  } catch (err) {
    await terminate();
    throw err;
  }
  const session: EngineSession = {
    inputMetadata: created.inputMetadata ?? [],
    outputMetadata: created.outputMetadata ?? [],
    run: async (feeds, fetches) => {
      const reply = call({ op: 'run', feeds, ...(fetches ? { fetches } : {}) }, buffersOf(feeds));
      inFlight.add(reply);
      try {
        return (await reply).outputs ?? {};
      } finally {
        inFlight.delete(reply);
      }
    },
    // A caller that failed mid-capture releases with runs still queued: let them settle first, so the
    // session is never disposed under a queued run and every run's promise resolves or rejects.
    release: async () => {
      await Promise.allSettled([...inFlight]);
      if (!dead) await call({ op: 'release' }).catch(() => undefined);
      dead ??= new Error('the session was released');
      await terminate();
    },
  };
  return session;
};
