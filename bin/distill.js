#!/usr/bin/env node
// Entry point of the `distill` CLI. Runs the compiled JavaScript in dist/ (`npm run build`, made by
// `make install`) when it is at least as new as every source file, else registers tsx and runs the
// TypeScript sources as they are (a checkout being edited). DISTILL_FROM_SOURCE=1 forces the sources;
// DISTILL_REQUIRE_COMPILED=1 makes a stale or missing dist/ an error instead (make test uses it once).
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCE_DIRS, STAMP } from './dist-layout.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Why dist/ cannot be used (missing, or older than a named source file); null when it is fresh. */
function staleReason() {
  let built;
  try {
    built = statSync(join(root, STAMP)).mtimeMs;
  } catch {
    return `${STAMP} is missing`;
  }
  for (const dir of SOURCE_DIRS) {
    for (const name of readdirSync(join(root, dir), { recursive: true })) {
      if (!/\.(ts|js)$/.test(name)) continue;
      if (statSync(join(root, dir, name)).mtimeMs > built) return `${dir}/${name} is newer than the build`;
    }
  }
  return null;
}

const stale = process.env.DISTILL_FROM_SOURCE === '1' ? 'DISTILL_FROM_SOURCE=1' : staleReason();
if (stale === null) {
  await import('../dist/cli/main.js');
} else if (process.env.DISTILL_REQUIRE_COMPILED === '1') {
  process.stderr.write(`error: DISTILL_REQUIRE_COMPILED=1 but dist/ cannot be used (${stale}); run \`npm run build\`\n`);
  process.exitCode = 1;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
