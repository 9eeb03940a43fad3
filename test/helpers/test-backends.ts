/**
 * The tfjs backends that the backend-dependent tests (student, loss, export) run on.
 *
 * DISTILL_TEST_BACKENDS is a comma list of `cpu`, `wasm`, `tensorflow`; a name ending in `?` runs
 * where it can be set up and is skipped, with the reason in the test report, where it cannot.
 * Default `cpu,wasm,tensorflow?`: the tensorflow backend runs once `make tfjs-node` has put
 * @tensorflow/tfjs-node in node_modules. CI sets `cpu,wasm,tensorflow`, so that a missing or broken
 * build fails there instead of being skipped. A backend that is installed but does not load is a
 * failure, never a skip.
 */
import { before, describe } from 'node:test';
import { NODE_GPU_PACKAGE, NODE_PACKAGE, nodeBackendLoader, selectBackend } from '../../pipeline/engines/tfjs.ts';
import type { BackendChoice, BackendName } from '../../pipeline/engines/tfjs.ts';

/** One backend to run the tests on; `skip` is the reason it cannot run here, or false. */
export interface TestBackend {
  name: BackendName;
  skip: string | false;
}

const NAMES: readonly BackendName[] = ['cpu', 'wasm', 'tensorflow'];

/** Why `name` cannot be set up on this machine, or false when it can (is installed). */
function unavailable(name: BackendName): string | false {
  if (name !== 'tensorflow') return false;
  if ([NODE_GPU_PACKAGE, NODE_PACKAGE].some((p) => nodeBackendLoader.isInstalled(p))) return false;
  return `${NODE_PACKAGE} is not installed here: \`make tfjs-node\` builds it`;
}

/**
 * The backends of DISTILL_TEST_BACKENDS (see the file comment).
 *
 * @throws Error when the variable names an unknown backend, or a required backend cannot be set up.
 */
export function testBackends(spec: string = process.env.DISTILL_TEST_BACKENDS ?? 'cpu,wasm,tensorflow?'): TestBackend[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const optional = s.endsWith('?');
      const name = (optional ? s.slice(0, -1) : s) as BackendName;
      if (!NAMES.includes(name)) throw new Error(`DISTILL_TEST_BACKENDS: unknown backend "${name}"; expected a comma list of ${NAMES.join(', ')} (a trailing ? makes one optional)`);
      const why = unavailable(name);
      if (why && !optional) throw new Error(`DISTILL_TEST_BACKENDS requires ${name}, but ${why}`);
      return { name, skip: why };
    });
}

/**
 * Registers `body`'s tests once per test backend, each time in a suite "on <backend>" that selects
 * the backend (through the project's own selection) before its first test. The suite of a backend
 * that cannot run here is skipped with the reason.
 *
 * @example
 * forEachTestBackend((backend) => {
 *   test('the loss matches the float64 reference', () => { ... });
 * });
 */
export function forEachTestBackend(body: (backend: BackendName, choice: () => BackendChoice) => void): void {
  for (const b of testBackends()) {
    describe(`on ${b.name}`, { skip: b.skip }, () => {
      let choice: BackendChoice | null = null;
      before(async () => {
        choice = await selectBackend(b.name);
      });
      body(b.name, () => {
        if (!choice) throw new Error(`backend ${b.name} was not selected`);
        return choice;
      });
    });
  }
}
