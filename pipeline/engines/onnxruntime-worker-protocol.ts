/** Messages between {@link workerSessionFactory} and its worker thread. */
import type { EngineTensor, SessionRequest, ValueMetadata } from './onnxruntime.ts';

/** Parent -> worker. */
export type WorkerRequest =
  | { id: number; op: 'create'; request: SessionRequest }
  | { id: number; op: 'run'; feeds: Record<string, EngineTensor>; fetches?: readonly string[] }
  | { id: number; op: 'release' };

/** Worker -> parent. */
export type WorkerReply =
  | { id: number; ok: true; inputMetadata?: readonly ValueMetadata[]; outputMetadata?: readonly ValueMetadata[]; outputs?: Record<string, EngineTensor> }
  | { id: number; ok: false; error: { name: string; message: string } };
