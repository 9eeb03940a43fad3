#!/usr/bin/env node
// Compiles cli/, pipeline/ and stages/ into dist/ (tsc emit, no type check: `make typecheck` does
// that) so that bin/distill.js starts without compiling TypeScript. Run by `npm run build`, the
// `prepare` script (npm ci / npm install) and `make install`. The stamp is written last, so an
// interrupted build leaves dist/ stale and bin/distill.js falls back to the sources. With
// --if-possible (prepare), a tree without the sources or without typescript (npm ci --omit=dev, or
// the Dockerfile's install layer before the sources are copied) is skipped with one line.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP, WORKER_ENTRIES } from '../bin/dist-layout.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let tsc = null;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // handled below
}
const missing = tsc === null ? 'typescript is not installed' : existsSync(join(root, 'cli/main.ts')) ? null : 'cli/main.ts is not there';
if (missing !== null) {
  if (!process.argv.includes('--if-possible')) throw new Error(`cannot build dist/: ${missing}`);
  process.stdout.write(`distill: dist/ not built (${missing}); bin/distill.js runs the sources via tsx\n`);
  process.exit(0);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--noCheck'], { cwd: root, stdio: 'inherit' });
for (const entry of WORKER_ENTRIES) {
  mkdirSync(dirname(join(root, 'dist', entry)), { recursive: true });
  copyFileSync(join(root, entry), join(root, 'dist', entry));
}
writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`);
