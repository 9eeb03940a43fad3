/** The CLI surface: help, exit codes, config errors. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';
import { tmpDir } from '../helpers/tmp-dir.ts';

test('--help lists every stage and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const cmd of ['data', 'config', 'teacher-logits', 'train-student', 'evaluate', 'export', 'inspect', 'verify', 'reproduce', 'finalize']) {
    assert.match(r.stdout, new RegExp(`distill ${cmd}\\b`), cmd);
  }
  assert.match(r.stdout, /Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error/);
});

test('--help runs from the compiled dist/ (required under make test) and from the sources', async (t) => {
  const compiled = await runCli(['--help'], { env: { DISTILL_REQUIRE_COMPILED: '1' } });
  if (compiled.code !== 0 && process.env.DISTILL_TEST_COMPILED !== '1' && /dist\/ cannot be used/.test(compiled.stderr)) {
    t.skip(`compiled path not checked: ${compiled.stderr.trim()} (make test builds it and requires it)`);
  } else {
    assert.equal(compiled.code, 0, compiled.stderr);
    assert.match(compiled.stdout, /distill teacher-logits\b/);
    // make test runs the CLI through the start-up bundle, so every CLI test below (the config error
    // thrown from a lazily imported pipeline module must still exit 2) checks it too.
    if (process.env.DISTILL_TEST_COMPILED === '1') assert.ok(existsSync(new URL('../../dist/cli/main.bundle.js', import.meta.url)), 'dist/cli/main.bundle.js is built by make build (bin/dist-layout.js CLI_BUNDLE)');
  }
  const source = await runCli(['--help'], { env: { DISTILL_FROM_SOURCE: '1' } });
  assert.equal(source.code, 0, source.stderr);
  assert.match(source.stdout, /distill teacher-logits\b/);
  if (compiled.code === 0) assert.equal(source.stdout, compiled.stdout, 'the build and the sources print the same help');
});

test('BAD CALL an unknown command exits 2 with a usage message', async () => {
  const r = await runCli(['trian-student']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Did you mean train-student\?/);
});

test('BAD CALL a config with a misspelled key exits 2 naming the key and the suggestion', async () => {
  const dir = await tmpDir();
  const file = join(dir, 'experiment.json');
  await writeFile(file, JSON.stringify({ name: 'x', dataset: { path: 'data' }, train: { run: 'r', learningRte: 0.1 } }));
  const r = await runCli(['config', '--config', file], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown key "train\.learningRte" \(did you mean "train\.learningRate"\?\)/);
  assert.equal(r.stdout, '');
});

test('distill config prints the resolved config with overrides and defaults', async () => {
  const dir = await tmpDir();
  const file = join(dir, 'experiment.json');
  await writeFile(file, JSON.stringify({ name: 'x', dataset: { path: 'data' }, train: { run: 'r' } }));
  const r = await runCli(['config', '-c', file, '--set', 'train.epochs=3'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { overrides: string[]; config: { seed: number; train: { epochs: number; alpha: number } } };
  assert.deepEqual(out.overrides, ['train.epochs=3']);
  assert.equal(out.config.train.epochs, 3);
  assert.equal(out.config.train.alpha, 0.1);
  assert.equal(out.config.seed, 1);
});

test('distill finalize on a store directory that does not exist: exit 1, one line', async () => {
  const r = await runCli(['finalize', 'some-store']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'error: some-store is not a store directory (it does not exist or is not a directory)\n');
});

test('an internal error is one line without --verbose and a stack with it', async () => {
  const a = await runCli(['data', 'index', '/nonexistent-distill-dir']);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /error: \/nonexistent-distill-dir: cannot list the dataset directory \(ENOENT\)/);
  assert.doesNotMatch(a.stderr, /\n\s+at /);
  const b = await runCli(['data', 'index', '/nonexistent-distill-dir', '--verbose']);
  assert.match(b.stderr, /\n\s+at /);
});
