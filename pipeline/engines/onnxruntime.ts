/**
 * The one module that touches ONNX Runtime (`onnxruntime-node`). Stages never import it: they get an
 * {@link EngineSession} from {@link openSession}. onnxruntime-node is loaded lazily (dynamic import)
 * the first time a session is created, so `distill --help` never loads it.
 *
 * Devices: `auto` tries the CUDA execution provider and falls back to CPU with a one-line notice;
 * `cuda[:id]` without the provider is an error saying how to install it; `cpu` is CPU. The session
 * factory is the injectable boundary: tests pass a fake to simulate "CUDA present/absent" (there is
 * no GPU on the development machines).
 *
 * Threads: onnxruntime-node's `session.run` returns a promise but runs the model synchronously on the
 * calling thread (after a setImmediate). {@link workerSessionFactory} therefore runs the session in a
 * worker thread, so the caller's thread can encode and write batch n-1 while ORT computes batch n.
 */
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError, ConfigError, DistillError } from '../errors.ts';
import { packageVersion } from '../provenance.ts';
import type { Reporter } from '../reporter.ts';
import type { InferenceSession, Tensor } from 'onnxruntime-node';

/** Typed arrays a tensor can hold (float16 as raw uint16 bits). */
export type EngineTensorData = Float32Array | Float64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array | BigInt64Array;

/** A tensor crossing the engine boundary: element type name as ORT spells it, data, dims. */
export interface EngineTensor {
  /** 'float32', 'uint8', 'int64', 'float16', ... */
  type: string;
  data: EngineTensorData;
  dims: readonly number[];
}

/** An input or output of a model, as ORT describes it (symbolic dims as strings). */
export interface ValueMetadata {
  name: string;
  isTensor: boolean;
  /** Element type, for tensors. */
  type?: string;
  /** Dims, for tensors: numbers, or strings for symbolic dims (e.g. "batch"). */
  shape?: readonly (number | string)[];
}

/** What a stage can do with a session. */
export interface EngineSession {
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  /** Runs the model; resolves with the requested outputs (all when `fetches` is omitted). */
  run(feeds: Record<string, EngineTensor>, fetches?: readonly string[]): Promise<Record<string, EngineTensor>>;
  /** Frees the session (and its worker). */
  release(): Promise<void>;
}

/** ORT graph optimisation level. */
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

/** One execution provider to ask for. */
export type ExecutionProviderRequest = { name: 'cpu' } | { name: 'cuda'; deviceId: number };

/** What a {@link SessionFactory} is asked to create. */
export interface SessionRequest {
  /** Path of an .onnx file, or its bytes. */
  model: string | Uint8Array;
  /** Name of the model for messages (the file path). */
  modelName: string;
  executionProvider: ExecutionProviderRequest;
  /** Intra-op threads, 0 = ORT's choice. */
  intraOpThreads: number;
  graphOptimization: GraphOptimization;
}

/**
 * Creates a session or throws. The injectable boundary: the real ones are
 * {@link inProcessSessionFactory} and {@link workerSessionFactory}; a test passes a fake. A factory
 * that cannot provide the requested execution provider throws {@link ProviderUnavailableError}.
 */
export type SessionFactory = (request: SessionRequest) => Promise<EngineSession>;

/** The requested execution provider is not installed or cannot start. */
export class ProviderUnavailableError extends DistillError {}

/** Options of {@link openSession}. */
export interface OpenSessionOptions {
  /** auto | cpu | cuda[:id]. Default auto. */
  device?: string;
  /** ORT intra-op threads; 0 lets ORT choose. Default 0. */
  intraOpThreads?: number;
  /** Default all. */
  graphOptimization?: GraphOptimization;
  /** Session factory; default {@link inProcessSessionFactory}. */
  factory?: SessionFactory;
}

/** A created session and what actually runs it. */
export interface OpenedSession {
  session: EngineSession;
  /** The execution provider that runs the model: 'cpu' or 'cuda:<id>'. */
  executionProvider: string;
  /** The device that was asked for. */
  requestedDevice: string;
  /** onnxruntime-node version. */
  onnxruntimeVersion: string;
}

/** How to get the CUDA provider, for messages. */
export const CUDA_INSTALL_HINT =
  'the CUDA execution provider is not part of the default onnxruntime-node install; on a CUDA 12 host with internet run ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` (or `make <target> CUDA=1`), or use --device cpu';

/** A parsed device string. */
export interface DeviceSpec {
  kind: 'auto' | 'cpu' | 'cuda';
  /** CUDA device id (0 unless `cuda:<id>`). */
  id: number;
}

/** Parses auto | cpu | cuda | cuda:<id>; anything else is a ConfigError listing what is allowed. */
export function parseDevice(device: string): DeviceSpec {
  const m = /^(auto|cpu|cuda)(?::(\d+))?$/.exec(device);
  if (!m || (m[2] !== undefined && m[1] !== 'cuda')) {
    throw new ConfigError(`device must be one of auto, cpu, cuda, cuda:<id>, but got ${JSON.stringify(device)}`);
  }
  return { kind: m[1] as DeviceSpec['kind'], id: m[2] === undefined ? 0 : Number(m[2]) };
}

/** The installed onnxruntime-node version (read from its package.json, without loading it). */
export function onnxruntimeVersion(): string {
  return packageVersion('onnxruntime-node') ?? 'unknown';
}

/**
 * Creates a session on the requested device. `auto` tries CUDA (device 0) and, when the provider is
 * unavailable, falls back to CPU with a one-line notice through the reporter; `cuda[:id]` without the
 * provider throws a ProviderUnavailableError with the install hint. A missing or non-ONNX model is a
 * DataError naming the file.
 *
 * @example
 * const { session, executionProvider } = await openSession('teacher/model.onnx', { device: 'auto' }, reporter);
 */
export async function openSession(model: string | Uint8Array, options: OpenSessionOptions, reporter: Reporter, modelName = typeof model === 'string' ? model : '<model bytes>'): Promise<OpenedSession> {
  const requestedDevice = options.device ?? 'auto';
  const device = parseDevice(requestedDevice);
  const factory = options.factory ?? inProcessSessionFactory;
  const base = { model, modelName, intraOpThreads: options.intraOpThreads ?? 0, graphOptimization: options.graphOptimization ?? 'all' };
  const result = (session: EngineSession, executionProvider: string): OpenedSession => ({ session, executionProvider, requestedDevice, onnxruntimeVersion: onnxruntimeVersion() });
  if (device.kind === 'cpu') return result(await factory({ ...base, executionProvider: { name: 'cpu' } }), 'cpu');
  try {
    const session = await factory({ ...base, executionProvider: { name: 'cuda', deviceId: device.id } });
    return result(session, `cuda:${device.id}`);
  } catch (err) {
    if (!(err instanceof ProviderUnavailableError)) throw err;
    if (device.kind === 'cuda') {
      throw new ProviderUnavailableError(`device ${requestedDevice}: ${err.message}; ${CUDA_INSTALL_HINT}`, { cause: err });
    }
    reporter.info(`device auto: no CUDA execution provider (${err.message}); running on CPU`, { requestedDevice, executionProvider: 'cpu' });
    return result(await factory({ ...base, executionProvider: { name: 'cpu' } }), 'cpu');
  }
}

// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- the module's type, for the lazy import
type Ort = typeof import('onnxruntime-node');
let ortModule: Promise<Ort> | undefined;

/** Loads onnxruntime-node once, on first use. */
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

/** Whether onnxruntime-node's CUDA provider library is installed next to its binding. */
async function cudaProviderInstalled(): Promise<string | null> {
  const require = createRequire(import.meta.url);
  const root = dirname(dirname(require.resolve('onnxruntime-node')));
  const dir = join(root, 'bin', 'napi-v6', process.platform, process.arch);
  const lib = join(dir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so');
  return access(lib).then(
    () => null,
    () => `${lib} is missing`,
  );
}

async function checkModelFile(request: SessionRequest): Promise<void> {
  if (typeof request.model !== 'string') return;
  try {
    await access(request.model);
  } catch {
    throw new DataError(`${request.modelName}: the ONNX model file does not exist`);
  }
}

/** Wraps a native ORT session as an {@link EngineSession}. */
function wrap(ort: Ort, session: InferenceSession): EngineSession {
  return {
    inputMetadata: session.inputMetadata as readonly ValueMetadata[],
    outputMetadata: session.outputMetadata as readonly ValueMetadata[],
    run: async (feeds, fetches) => {
      const ortFeeds: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        ortFeeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      }
      const out = fetches ? await session.run(ortFeeds, [...fetches]) : await session.run(ortFeeds);
      const result: Record<string, EngineTensor> = {};
      for (const [name, t] of Object.entries(out)) result[name] = { type: t.type, data: t.data as EngineTensorData, dims: [...t.dims] };
      return result;
    },
    release: () => session.release(),
  };
}

/**
 * The real session factory, in this thread: loads onnxruntime-node, checks that the CUDA provider
 * library is installed before asking for it (ORT would otherwise log a native error line), and maps
 * load failures to DataErrors naming the model file.
 */
export const inProcessSessionFactory: SessionFactory = async (request) => {
  await checkModelFile(request);
  if (request.executionProvider.name === 'cuda') {
    const missing = await cudaProviderInstalled();
    if (missing !== null) throw new ProviderUnavailableError(`the CUDA provider is not installed: ${missing}`);
  }
  const ort = await loadOrt();
  const ep = request.executionProvider.name === 'cuda' ? [{ name: 'cuda', deviceId: request.executionProvider.deviceId }, 'cpu'] : ['cpu'];
  const options: InferenceSession.SessionOptions = {
    executionProviders: ep as InferenceSession.SessionOptions['executionProviders'],
    graphOptimizationLevel: request.graphOptimization,
    ...(request.intraOpThreads > 0 ? { intraOpNumThreads: request.intraOpThreads } : {}),
  };
  try {
    const session = typeof request.model === 'string' ? await ort.InferenceSession.create(request.model, options) : await ort.InferenceSession.create(request.model, options);
    return wrap(ort, session);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (request.executionProvider.name === 'cuda' && /cuda|provider|shared library/i.test(message)) {
      throw new ProviderUnavailableError(`the CUDA execution provider failed to start (${message})`, { cause: err });
    }
    throw new DataError(`${request.modelName}: ONNX Runtime cannot load it as an ONNX model (${message})`, { cause: err });
  }
};
