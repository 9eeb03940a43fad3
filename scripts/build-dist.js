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
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_BUNDLE, STAMP, WORKER_ENTRIES } from '../bin/dist-layout.js';

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
await bundleCli();
writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`);

/**
 * The start-up bundle (docs/decisions.md, "one bundle for the command line"): dist/cli/main.js with
 * the modules of dist/cli/ and yargs in one file, so `distill --help` loads one module instead of
 * ~150. Everything else stays an import of the compiled file it names: the stages, which the
 * commands import lazily, and every static import of dist/pipeline/ (the error classes must be one
 * module shared with the stages, or `instanceof` in handle-errors.ts would fail). Skipped with one
 * line when esbuild is not installed; bin/distill.js then runs dist/cli/main.js.
 */
async function bundleCli() {
  let esbuild;
  try {
    esbuild = await import(createRequire(import.meta.url).resolve('esbuild'));
  } catch {
    process.stdout.write('distill: esbuild not installed; bin/distill.js runs dist/cli/main.js unbundled\n');
    return;
  }
  const cliDir = join(root, 'dist', 'cli');
  const outfile = join(root, CLI_BUNDLE);
  const keepOutside = {
    name: 'keep-outside-cli',
    setup(build) {
      build.onResolve({ filter: /^\./ }, (args) => {
        const target = resolve(args.resolveDir, args.path);
        const inCli = target.startsWith(cliDir + sep) && args.kind !== 'dynamic-import';
        if (inCli || target.includes(`${sep}node_modules${sep}`)) return undefined;
        const path = relative(dirname(outfile), target);
        return { path: path.startsWith('.') ? path : `./${path}`, external: true };
      });
    },
  };
  // yargs lays out its help with string-width, which runs a Unicode segmenter and builds an emoji
  // regex for every character: ~40% of `--help`'s CPU (node --cpu-prof). Printable ASCII without
  // escapes is exactly one column a character in string-width too, so such strings skip it; any
  // other string still goes to the real string-width.
  const asciiWidth = {
    name: 'ascii-fast-string-width',
    setup(build) {
      build.onResolve({ filter: /^string-width$/ }, async (args) => {
        if (args.pluginData === 'real') return undefined;
        const real = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'real' });
        return { path: real.path, namespace: 'ascii-fast-string-width' };
      });
      build.onLoad({ filter: /.*/, namespace: 'ascii-fast-string-width' }, (args) => ({
        contents: [
          `import realWidth from ${JSON.stringify(args.path)};`,
          'const ASCII = /^[\\x20-\\x7e]*$/;',
          'export default function stringWidth(text, options) {',
          "  return typeof text === 'string' && ASCII.test(text) ? text.length : realWidth(text, options);",
          '}',
        ].join('\n'),
        resolveDir: dirname(args.path),
      }));
    },
  };
  await esbuild.build({
    entryPoints: [join(cliDir, 'main.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    plugins: [keepOutside, asciiWidth],
    // string-width and its kin create an Intl.Segmenter when they load: ~13 ms each (ICU data),
    // three of them, ~40 ms of a ~150 ms `--help` that never segments (the ASCII path above). Each
    // becomes a LazySegmenter that creates the real one at its first use.
    define: { 'Intl.Segmenter': 'LazySegmenter' },
    inject: [join(root, 'scripts', 'lazy-segmenter.js')],
  });
}
