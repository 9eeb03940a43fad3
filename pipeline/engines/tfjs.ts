/**
 * The one module that touches TensorFlow.js (with tfjs-gradient-patch.ts, which selectBackend
 * applies). Stages import `tf` from here, never from
 * '@tensorflow/tfjs' directly, so that backend selection lives in one place.
 *
 * Backends, fastest first: `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA; an optional
 * dependency), `@tensorflow/tfjs-node` (libtensorflow on the CPU; outside the lockfile, set up by
 * `make tfjs-node`), `@tensorflow/tfjs-backend-wasm` (XNNPACK in WebAssembly, SIMD, one thread in
 * Node) and tfjs's pure-JS `cpu`. The libtensorflow packages are imported only when installed, and
 * their libtensorflow is checked once up (tensorflow-onednn.ts). See docs/training.md.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DistillError } from '../errors.ts';
import { packageVersion } from '../provenance.ts';
import { checkTensorflowKernels, onednnEnabled } from './tensorflow-onednn.ts';
import { applyTfjsGradientPatch } from './tfjs-gradient-patch.ts';

export { tf };

// tfjs prints a "looks like you are running TensorFlow.js in Node.js, install tfjs-node" banner
// through its warn() the first time the cpu backend stores data; PROD silences tfjs's own warnings
// (it changes nothing else: no kernel, no check). Backend selection reports through the Reporter.
tf.env().set('PROD', true);

/** What `--backend` / `train.backend` accept. */
export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** The backends this module can run on (tfjs's registered names). */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** One candidate tried during selection. */
export interface BackendAttempt {
  /** The candidate: an npm package, or `cpu`. */
  candidate: string;
  ok: boolean;
  /** Why it was taken or skipped, e.g. "not installed", "initialisation failed: ...". */
  reason: string;
}

/** The backend that runs, and how it was chosen (recorded in run manifests). */
export interface BackendChoice {
  /** What was asked for. */
  requested: BackendRequest;
  /** The tfjs backend that runs. */
  backend: BackendName;
  /** The package providing it (`@tensorflow/tfjs` for cpu). */
  package: string;
  /** Its version, when known. */
  version: string | null;
  /**
   * tensorflow backend: `TF_Version()` of the libtensorflow that is loaded, read from the binding
   * (a tfjs-node built against another TensorFlow reports that one); null on other backends.
   */
  tensorflowVersion: string | null;
  /** tensorflow backend: whether libtensorflow runs with oneDNN (TF_ENABLE_ONEDNN_OPTS at load); null otherwise. */
  onednn: boolean | null;
  /** Kernels found wrong on this backend and worked around (pipeline/engines/tensorflow-onednn.ts); usually empty. */
  workarounds: string[];
  /** tensorflow backend from tfjs-node-gpu: gpu; everything else: cpu. */
  device: 'gpu' | 'cpu';
  /** wasm: whether the SIMD binary runs; null for other backends. */
  simd: boolean | null;
  /** wasm: whether the threaded binary runs (never in Node, see docs/decisions.md); null otherwise. */
  threads: boolean | null;
  /** Every candidate tried, in order. */
  attempts: BackendAttempt[];
  /** One line for the user: what runs and why. */
  notice: string;
}

/**
 * The boundary between backend selection and the packages it loads, so that the fallback order can
 * be unit-tested with a fake (no GPU or libtensorflow is needed for the test).
 */
export interface BackendLoader {
  /** True when the package can be resolved (installed), without importing it. */
  isInstalled(pkg: string): boolean;
  /** Imports a package (registering its tfjs backend); rejects when it fails to load. */
  importPackage(pkg: string): Promise<void>;
  /** Prepares the wasm backend's binaries (paths); resolves SIMD and threads support. */
  prepareWasm(): Promise<{ simd: boolean; threads: boolean }>;
  /** Makes a registered tfjs backend current; resolves false (or rejects) when it cannot initialise. */
  setBackend(name: BackendName): Promise<boolean>;
  /** The current tensorflow backend as it runs (see TensorflowInfo); null without a libtensorflow binding. */
  inspectTensorflow(): TensorflowInfo | null;
}

/** The tensorflow backend once up: `TF_Version()` from the binding, oneDNN, the kernel checks' workarounds. */
export interface TensorflowInfo {
  version: string;
  onednn: boolean;
  workarounds: string[];
}

const require = createRequire(import.meta.url);

/** The package of the wasm backend. */
export const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
/** libtensorflow with CUDA. */
export const NODE_GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
/** libtensorflow on the CPU. */
export const NODE_PACKAGE = '@tensorflow/tfjs-node';

/** Runs `fn` with console.log/warn/error captured (tfjs prints backend failures itself). */
async function capturingConsole<T>(fn: () => Promise<T>): Promise<{ value: T | undefined; error: unknown; lines: string[] }> {
  const con = globalThis.console;
  const saved = { log: con.log, warn: con.warn, error: con.error };
  const lines: string[] = [];
  const keep = (...args: unknown[]): void => {
    lines.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  };
  con.log = keep;
  con.warn = keep;
  con.error = keep;
  try {
    return { value: await fn(), error: undefined, lines };
  } catch (error) {
    return { value: undefined, error, lines };
  } finally {
    con.log = saved.log;
    con.warn = saved.warn;
    con.error = saved.error;
  }
}

/** The real loader: Node module resolution, dynamic import, tfjs's own backend registry. */
export const nodeBackendLoader: BackendLoader = {
  isInstalled(pkg) {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  },
  async importPackage(pkg) {
    await import(pkg);
  },
  async prepareWasm() {
    const wasm = (await import(WASM_PACKAGE)) as { setWasmPaths(prefix: string): void };
    // In Node the binaries are read from the package's dist folder (the default looks next to the
    // calling script). The threaded binary needs a Worker from a blob: URL, which Node refuses, so
    // tfjs reports no thread support in Node and loads the SIMD (or plain) binary.
    wasm.setWasmPaths(dirname(require.resolve(WASM_PACKAGE)) + '/');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return { simd: simd === true, threads: threads === true };
  },
  setBackend(name) {
    return tf.setBackend(name);
  },
  inspectTensorflow() {
    const binding = (tf.backend() as { binding?: { TF_Version?: unknown } }).binding;
    if (typeof binding?.TF_Version !== 'string') return null;
    return { version: binding.TF_Version, onednn: onednnEnabled(), workarounds: checkTensorflowKernels() };
  },
};

function errorText(err: unknown, lines: string[]): string {
  const msg = err instanceof Error ? err.message : err === undefined ? '' : String(err);
  const first = (msg || lines.find((l) => l.trim() !== '' && !/^Initialization of backend/.test(l)) || 'unknown error').split('\n')[0]!;
  return first.length > 200 ? `${first.slice(0, 200)}...` : first;
}

/** Tries one libtensorflow package; returns the attempt. */
async function tryTensorflow(pkg: string, loader: BackendLoader): Promise<BackendAttempt & { info?: TensorflowInfo }> {
  if (!loader.isInstalled(pkg)) return { candidate: pkg, ok: false, reason: 'not installed' };
  const imported = await capturingConsole(() => loader.importPackage(pkg));
  if (imported.error !== undefined) return { candidate: pkg, ok: false, reason: `does not load: ${errorText(imported.error, imported.lines)}` };
  const set = await capturingConsole(() => loader.setBackend('tensorflow'));
  if (set.error !== undefined || set.value !== true) {
    return { candidate: pkg, ok: false, reason: `initialisation failed: ${errorText(set.error, set.lines)}` };
  }
  const info = loader.inspectTensorflow();
  if (info === null) return { candidate: pkg, ok: false, reason: 'initialisation failed: the backend reports no libtensorflow version (TF_Version)' };
  return { candidate: pkg, ok: true, reason: `loaded, TensorFlow ${info.version}`, info };
}

async function tryWasm(loader: BackendLoader): Promise<{ attempt: BackendAttempt; simd: boolean | null; threads: boolean | null }> {
  if (!loader.isInstalled(WASM_PACKAGE)) return { attempt: { candidate: WASM_PACKAGE, ok: false, reason: 'not installed' }, simd: null, threads: null };
  const prepared = await capturingConsole(() => loader.prepareWasm());
  if (prepared.error !== undefined || !prepared.value) {
    return { attempt: { candidate: WASM_PACKAGE, ok: false, reason: `does not load: ${errorText(prepared.error, prepared.lines)}` }, simd: null, threads: null };
  }
  const { simd, threads } = prepared.value;
  const set = await capturingConsole(() => loader.setBackend('wasm'));
  if (set.error !== undefined || set.value !== true) {
    return { attempt: { candidate: WASM_PACKAGE, ok: false, reason: `initialisation failed: ${errorText(set.error, set.lines)}` }, simd, threads };
  }
  return { attempt: { candidate: WASM_PACKAGE, ok: true, reason: simd ? 'SIMD binary' : 'plain binary (no SIMD in this runtime)' }, simd, threads };
}

function summarise(attempts: BackendAttempt[]): string {
  return attempts
    .filter((a) => !a.ok)
    .map((a) => `${a.candidate} ${a.reason}`)
    .join('; ');
}

/**
 * Selects and initialises the tfjs backend.
 *
 * - `auto`: `@tensorflow/tfjs-node-gpu` if installed and it loads, then `@tensorflow/tfjs-node`,
 *   then the wasm backend, then `cpu`;
 * - `tensorflow`: tfjs-node-gpu, then tfjs-node; an error when neither loads;
 * - `wasm`: the wasm backend or an error; `cpu`: the pure-JS backend.
 *
 * Packages that are not installed are never imported. tfjs's own console output during loading is
 * captured into the attempts' reasons.
 *
 * @param requested - the backend asked for (default `auto`).
 * @param loader - how packages are found and loaded (tests pass a fake).
 * @throws DistillError (exit 1) when an explicitly requested backend cannot run.
 * @example
 * const choice = await selectBackend('auto');
 * reporter.info(choice.notice); // "tfjs backend: wasm (SIMD) — @tensorflow/tfjs-node-gpu not installed; ..."
 */
export async function selectBackend(requested: BackendRequest = 'auto', loader: BackendLoader = nodeBackendLoader): Promise<BackendChoice> {
  applyTfjsGradientPatch();
  const attempts: BackendAttempt[] = [];
  const done = (backend: BackendName, pkg: string, extra: { simd?: boolean | null; threads?: boolean | null; info?: TensorflowInfo } = {}): BackendChoice => {
    const simd = extra.simd ?? null;
    const why = attempts.length > 1 ? ` (${summarise(attempts)})` : requested === 'auto' ? '' : ' (as requested)';
    const info = extra.info ?? null;
    const what =
      backend === 'wasm' ? `wasm (${simd ? 'SIMD' : 'no SIMD'}, 1 thread)` : info ? `tensorflow via ${pkg} (TensorFlow ${info.version}, oneDNN ${info.onednn ? 'on' : 'off'})` : 'cpu (pure JavaScript)';
    return {
      requested,
      backend,
      package: pkg,
      version: packageVersion(pkg),
      tensorflowVersion: info?.version ?? null,
      onednn: info?.onednn ?? null,
      workarounds: info?.workarounds ?? [],
      device: pkg === NODE_GPU_PACKAGE ? 'gpu' : 'cpu',
      simd,
      threads: extra.threads ?? null,
      attempts,
      notice: `tfjs backend: ${what}, requested ${requested}${why}`,
    };
  };

  if (requested === 'auto' || requested === 'tensorflow') {
    for (const pkg of [NODE_GPU_PACKAGE, NODE_PACKAGE]) {
      const attempt = await tryTensorflow(pkg, loader);
      const { info, ...recorded } = attempt;
      attempts.push(recorded);
      if (attempt.ok) return done('tensorflow', pkg, { info });
    }
    if (requested === 'tensorflow') {
      throw new DistillError(
        `--backend tensorflow needs ${NODE_GPU_PACKAGE} or ${NODE_PACKAGE}, and neither runs here: ${summarise(attempts)}. ` +
          'Their install script downloads libtensorflow (needs internet); use --backend wasm or auto otherwise',
      );
    }
  }
  if (requested === 'auto' || requested === 'wasm') {
    const { attempt, simd, threads } = await tryWasm(loader);
    attempts.push(attempt);
    if (attempt.ok) return done('wasm', WASM_PACKAGE, { simd, threads });
    if (requested === 'wasm') throw new DistillError(`--backend wasm cannot run: ${attempt.reason}`);
  }
  const set = await capturingConsole(() => loader.setBackend('cpu'));
  if (set.error !== undefined || set.value !== true) {
    throw new DistillError(`the tfjs cpu backend failed to initialise: ${errorText(set.error, set.lines)}`);
  }
  attempts.push({ candidate: 'cpu', ok: true, reason: 'pure JavaScript' });
  return done('cpu', '@tensorflow/tfjs');
}
