/**
 * Backend selection with a fake loader: the fallback order tfjs-node-gpu > tfjs-node > wasm > cpu,
 * packages that are not installed are never imported, and failures become the attempts' reasons.
 * The last test runs the real loader on whatever this host has (wasm only, tfjs-node after
 * `make tfjs-node`, tfjs-node-gpu on a CUDA host) and checks the choice against that.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NODE_GPU_PACKAGE, NODE_PACKAGE, WASM_PACKAGE, nodeBackendLoader, selectBackend, tf } from '../../../../pipeline/engines/tfjs.ts';
import type { BackendLoader, BackendName } from '../../../../pipeline/engines/tfjs.ts';

interface FakeSpec {
  installed: string[];
  importFails?: string[];
  setFails?: BackendName[];
  simd?: boolean;
  /** The tensorflow backend comes up without a libtensorflow binding (no TF_Version). */
  noBinding?: boolean;
}

function fakeLoader(spec: FakeSpec): { loader: BackendLoader; calls: string[] } {
  const calls: string[] = [];
  let current: BackendName | null = null;
  const loader: BackendLoader = {
    isInstalled: (pkg) => spec.installed.includes(pkg),
    importPackage: async (pkg) => {
      calls.push(`import ${pkg}`);
      if (spec.importFails?.includes(pkg)) throw new Error(`libtensorflow.so.2: cannot open shared object file`);
    },
    prepareWasm: async () => {
      calls.push('prepareWasm');
      return { simd: spec.simd ?? true, threads: false };
    },
    setBackend: async (name) => {
      calls.push(`set ${name}`);
      if (spec.setFails?.includes(name)) {
        globalThis.console.warn(`Initialization of backend ${name} failed`);
        globalThis.console.warn(`no CUDA-capable device is detected`);
        return false;
      }
      current = name;
      return true;
    },
    inspectTensorflow: () => (current === 'tensorflow' && !spec.noBinding ? { version: '2.99.0', onednn: true, workarounds: [] } : null),
  };
  return { loader, calls };
}

test('auto with nothing native installed takes wasm (SIMD) and never imports the absent packages', async () => {
  const { loader, calls } = fakeLoader({ installed: [WASM_PACKAGE] });
  const choice = await selectBackend('auto', loader);
  assert.equal(choice.backend, 'wasm');
  assert.equal(choice.simd, true);
  assert.deepEqual(calls, ['prepareWasm', 'set wasm']);
  assert.deepEqual(choice.attempts.map((a) => [a.candidate, a.ok, a.reason]), [
    [NODE_GPU_PACKAGE, false, 'not installed'],
    [NODE_PACKAGE, false, 'not installed'],
    [WASM_PACKAGE, true, 'SIMD binary'],
  ]);
  assert.equal(choice.notice, `tfjs backend: wasm (SIMD, 1 thread), requested auto (${NODE_GPU_PACKAGE} not installed; ${NODE_PACKAGE} not installed)`);
});

test('auto prefers tfjs-node-gpu when it loads, and then tries nothing else', async () => {
  const { loader, calls } = fakeLoader({ installed: [NODE_GPU_PACKAGE, NODE_PACKAGE, WASM_PACKAGE] });
  const choice = await selectBackend('auto', loader);
  assert.equal(choice.backend, 'tensorflow');
  assert.equal(choice.package, NODE_GPU_PACKAGE);
  assert.equal(choice.device, 'gpu');
  assert.deepEqual(calls, [`import ${NODE_GPU_PACKAGE}`, 'set tensorflow']);
});

test('the TensorFlow version comes from the loaded binding: without one the package is not taken', async () => {
  const good = await selectBackend('auto', fakeLoader({ installed: [NODE_PACKAGE, WASM_PACKAGE] }).loader);
  assert.deepEqual([good.backend, good.tensorflowVersion, good.onednn, good.workarounds], ['tensorflow', '2.99.0', true, []]);
  assert.equal(good.notice, `tfjs backend: tensorflow via ${NODE_PACKAGE} (TensorFlow 2.99.0, oneDNN on), requested auto (${NODE_GPU_PACKAGE} not installed)`);
  const hollow = await selectBackend('auto', fakeLoader({ installed: [NODE_PACKAGE, WASM_PACKAGE], noBinding: true }).loader);
  assert.deepEqual([hollow.backend, hollow.tensorflowVersion, hollow.onednn], ['wasm', null, null]);
  assert.equal(hollow.attempts[1]!.reason, 'initialisation failed: the backend reports no libtensorflow version (TF_Version)');
});

test('auto falls from a broken tfjs-node-gpu to tfjs-node, recording why', async () => {
  const { loader, calls } = fakeLoader({ installed: [NODE_GPU_PACKAGE, NODE_PACKAGE, WASM_PACKAGE], importFails: [NODE_GPU_PACKAGE] });
  const choice = await selectBackend('auto', loader);
  assert.equal(choice.package, NODE_PACKAGE);
  assert.equal(choice.device, 'cpu');
  assert.deepEqual(calls, [`import ${NODE_GPU_PACKAGE}`, `import ${NODE_PACKAGE}`, 'set tensorflow']);
  assert.equal(choice.attempts[0]!.reason, 'does not load: libtensorflow.so.2: cannot open shared object file');
});

test('auto falls to cpu when tensorflow and wasm fail to initialise; tfjs console output becomes the reason', async () => {
  const { loader, calls } = fakeLoader({ installed: [NODE_GPU_PACKAGE, WASM_PACKAGE], setFails: ['tensorflow', 'wasm'] });
  const choice = await selectBackend('auto', loader);
  assert.equal(choice.backend, 'cpu');
  assert.deepEqual(calls, [`import ${NODE_GPU_PACKAGE}`, 'set tensorflow', 'prepareWasm', 'set wasm', 'set cpu']);
  assert.equal(choice.attempts[0]!.reason, 'initialisation failed: no CUDA-capable device is detected');
  assert.deepEqual(choice.attempts.map((a) => a.ok), [false, false, false, true]);
});

test('BAD CALL --backend tensorflow without libtensorflow is an error naming both packages', async () => {
  const { loader } = fakeLoader({ installed: [WASM_PACKAGE] });
  await assert.rejects(selectBackend('tensorflow', loader), {
    name: 'DistillError',
    message: new RegExp(`--backend tensorflow needs ${NODE_GPU_PACKAGE} or ${NODE_PACKAGE}, and neither runs here: ${NODE_GPU_PACKAGE} not installed; ${NODE_PACKAGE} not installed`),
  });
});

test('explicit wasm and cpu requests try only that backend', async () => {
  const wasm = fakeLoader({ installed: [NODE_GPU_PACKAGE, WASM_PACKAGE], simd: false });
  const w = await selectBackend('wasm', wasm.loader);
  assert.deepEqual([w.backend, w.simd, wasm.calls], ['wasm', false, ['prepareWasm', 'set wasm']]);
  assert.equal(w.notice, 'tfjs backend: wasm (no SIMD, 1 thread), requested wasm (as requested)');
  const cpu = fakeLoader({ installed: [NODE_GPU_PACKAGE, WASM_PACKAGE] });
  const c = await selectBackend('cpu', cpu.loader);
  assert.deepEqual([c.backend, cpu.calls], ['cpu', ['set cpu']]);
  const broken = fakeLoader({ installed: [WASM_PACKAGE], setFails: ['wasm'] });
  await assert.rejects(selectBackend('wasm', broken.loader), { name: 'DistillError', message: /--backend wasm cannot run: initialisation failed/ });
});

test('the real loader: auto takes the first backend that runs here, and a tensorflow backend reports its TensorFlow', async () => {
  const installed = [NODE_GPU_PACKAGE, NODE_PACKAGE].filter((p) => nodeBackendLoader.isInstalled(p));
  const choice = await selectBackend('auto');
  assert.match(choice.notice, new RegExp(`^tfjs backend: ${choice.backend}`));
  if (installed.length === 0) {
    // Nothing native here: wasm, after both libtensorflow packages were found missing.
    assert.deepEqual([choice.backend, choice.threads, choice.version, choice.tensorflowVersion], ['wasm', false, '4.22.0', null]);
    assert.deepEqual(choice.attempts.slice(0, 2).map((a) => a.reason), ['not installed', 'not installed']);
    return;
  }
  // A libtensorflow package is installed (`make tfjs-node`, or tfjs-node-gpu on a CUDA host): it is
  // taken unless it fails to load, and then the reason is recorded.
  const taken = choice.attempts.find((a) => a.ok)!;
  if (choice.backend === 'tensorflow') {
    assert.ok(installed.includes(choice.package));
    assert.match(choice.tensorflowVersion ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(taken.reason, `loaded, TensorFlow ${choice.tensorflowVersion}`);
    assert.equal(choice.tensorflowVersion, (tf.backend() as unknown as { binding: { TF_Version: string } }).binding.TF_Version);
  } else {
    assert.ok(choice.attempts.filter((a) => installed.includes(a.candidate)).every((a) => !a.ok && a.reason !== 'not installed'));
  }
});
