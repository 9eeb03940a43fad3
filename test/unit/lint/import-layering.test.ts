/**
 * The floors are enforced by lint (eslint.config.js): pipeline/ never imports stages/ or cli/, a stage
 * imports pipeline/ and its own folder only, and an orchestrating stage (reproduce, reference) may
 * import another stage's public entry (run-*.ts) only. Each case lints a small source text with the
 * project's real ESLint config, as if it were a file at the given path, and checks which layering
 * errors come back; the deliberate violations must fail.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { projectRoot } from '../../../pipeline/provenance.ts';

const LAYERING_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);
// Only the layering rules run, on the syntax alone: a probe file is not on disk, so the type-aware
// parser setup (which looks files up in tsconfig) is switched off for these texts.
const eslint = new ESLint({
  cwd: projectRoot,
  ruleFilter: ({ ruleId }) => LAYERING_RULES.has(ruleId),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

/** The layering errors ESLint reports for `code` placed at `path` (relative to the project root). */
async function layeringErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(projectRoot, path) });
  assert.ok(result, `no lint result for ${path}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${path} did not parse`);
  return result.messages.filter((m) => m.ruleId !== null && LAYERING_RULES.has(m.ruleId)).map((m) => `${m.ruleId}: ${m.message}`);
}

const use = (name: string): string => `\nexport const probe = typeof ${name};\n`;

test('BAD CALL pipeline/ importing a stage fails lint', async () => {
  const errors = await layeringErrors('pipeline/io/layering-probe.ts', `import { runEvaluate } from '../../stages/evaluate/run-evaluate.ts';${use('runEvaluate')}`);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /^no-restricted-imports: .*pipeline\/ is the ground floor: it never imports a stage/);
});

test('BAD CALL pipeline/ importing the CLI fails lint, at the top of pipeline/ too', async () => {
  const errors = await layeringErrors('pipeline/layering-probe.ts', `import { globalOptions } from '../cli/global-args.ts';${use('globalOptions')}`);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /^no-restricted-imports: .*cli\/ is the top floor/);
});

test('BAD CALL a lazy import() of a stage from pipeline/ fails lint', async () => {
  const errors = await layeringErrors('pipeline/store/layering-probe.ts', `export async function probe(): Promise<unknown> {\n  return import('../../stages/export/run-export.ts');\n}\n`);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /^no-restricted-syntax: pipeline\/ is the ground floor/);
});

test('BAD CALL a stage importing another stage fails lint (export <-> evaluate)', async () => {
  const errors = await layeringErrors('stages/export/layering-probe.ts', `import { runEvaluate } from '../evaluate/run-evaluate.ts';${use('runEvaluate')}`);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /^no-restricted-imports: .*a stage imports pipeline\/ and its own folder only/);
});

test('BAD CALL a stage importing the CLI fails lint', async () => {
  const errors = await layeringErrors('stages/train-student/layering-probe.ts', `import { globalOptions } from '../../cli/global-args.ts';${use('globalOptions')}`);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /cli\/ is the top floor/);
});

test("BAD CALL an orchestrating stage importing a stage's internals (not its run-*.ts entry) fails lint", async () => {
  const errors = await layeringErrors('stages/reproduce/layering-probe.ts', `import { createOptimizer } from '../train-student/optimizer-state.ts';${use('createOptimizer')}`);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /^no-restricted-imports: .*public entry \(its run-\*\.ts\) only/);
});

test('imports that point down or stay inside the folder pass', async () => {
  assert.deepEqual(await layeringErrors('stages/reproduce/layering-probe.ts', `import { runTrainStudent } from '../train-student/run-train-student.ts';${use('runTrainStudent')}`), []);
  assert.deepEqual(
    await layeringErrors('stages/evaluate/layering-probe.ts', `import { DataError } from '../../pipeline/errors.ts';\nimport { checkScores } from './class-scores.ts';\nexport const probe = [DataError, checkScores];\n`),
    [],
  );
  assert.deepEqual(await layeringErrors('pipeline/student/layering-probe.ts', `import { DataError } from '../errors.ts';${use('DataError')}`), []);
  assert.deepEqual(await layeringErrors('cli/commands/layering-probe.ts', `export async function probe(): Promise<unknown> {\n  return import('../../stages/evaluate/run-evaluate.ts');\n}\n`), []);
});
