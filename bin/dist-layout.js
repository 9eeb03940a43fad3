// What the compiled build (scripts/build-dist.js) holds and how bin/distill.js tells it is fresh.

/** The source folders compiled into dist/ (their .ts files; the worker entries (.js) are copied). */
export const SOURCE_DIRS = ['cli', 'pipeline', 'stages'];

/** Written last by the build: dist/ is fresh while this file is newer than every source file. */
export const STAMP = 'dist/.build-stamp';

/** Worker-thread entries: plain JavaScript files that the build copies beside their compiled workers. */
export const WORKER_ENTRIES = ['pipeline/engines/onnxruntime-worker-entry.js', 'stages/train-student/batch-worker-entry.js'];

/** The start-up bundle of dist/cli/ + yargs that bin/distill.js prefers (made by the build when esbuild is there). */
export const CLI_BUNDLE = 'dist/cli/main.bundle.js';
