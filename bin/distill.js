#!/usr/bin/env node
// Entry point of the `distill` CLI. Runs the compiled JavaScript in dist/ (`npm run build`, made by
// `make install`) when it is at least as new as every source file, else registers tsx and runs the
// TypeScript sources as they are (a checkout being edited). DISTILL_FROM_SOURCE=1 forces the sources;
// DISTILL_REQUIRE_COMPILED=1 makes a stale or missing dist/ an error instead (make test uses it once).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_BUNDLE, SOURCE_DIRS, STAMP } from './dist-layout.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The first .ts/.js file under `dir` modified after `built` (a relative path), or null. */
function newerSource(dir, built) {
  // A hand-written walk: readdirSync({ recursive: true }) costs ~4x more here (bin/distill.js runs
  // this at every start; docs/benchmarks.md, "start-up").
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      const found = newerSource(path, built);
      if (found !== null) return found;
    } else if (/\.(ts|js)$/.test(entry.name) && statSync(join(root, path)).mtimeMs > built) {
      return path;
    }
  }
  return null;
}

/** Why dist/ cannot be used (missing, or older than a named source file); null when it is fresh. */
function staleReason() {
  let built;
  try {
    built = statSync(join(root, STAMP)).mtimeMs;
  } catch {
    return `${STAMP} is missing`;
  }
  for (const dir of SOURCE_DIRS) {
    const newer = newerSource(dir, built);
    if (newer !== null) return `${newer} is newer than the build`;
  }
  return null;
}

const stale = process.env.DISTILL_FROM_SOURCE === '1' ? 'DISTILL_FROM_SOURCE=1' : staleReason();
if (stale === null) {
  // The one-file start-up bundle when the build made it, else the compiled modules as they are.
  await import(existsSync(join(root, CLI_BUNDLE)) ? `../${CLI_BUNDLE}` : '../dist/cli/main.js');
} else if (process.env.DISTILL_REQUIRE_COMPILED === '1') {
  process.stderr.write(`error: DISTILL_REQUIRE_COMPILED=1 but dist/ cannot be used (${stale}); run \`npm run build\`\n`);
  process.exitCode = 1;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
