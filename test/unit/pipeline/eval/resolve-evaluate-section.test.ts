/** The evaluate section: the code's defaults equal the schema's, and bad values are refused naming the field. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadExperiment } from '../../../../pipeline/config/load-experiment.ts';
import { EVALUATE_DEFAULTS, resolveEvaluateSection } from '../../../../pipeline/eval/resolve-evaluate-section.ts';
import { tmpDir } from '../../../helpers/tmp-dir.ts';

async function load(evaluate: unknown, overrides: string[] = []): Promise<Awaited<ReturnType<typeof loadExperiment>>> {
  const dir = await tmpDir();
  await writeFile(join(dir, 'e.json'), JSON.stringify({ name: 'e', dataset: { path: 'd' }, ...(evaluate === undefined ? {} : { evaluate }) }));
  return loadExperiment('e.json', overrides, dir);
}

void test('an empty evaluate section gets exactly the defaults the stage uses without one', async () => {
  const exp = await load({});
  assert.deepEqual({ ...exp.config.evaluate }, { ...EVALUATE_DEFAULTS });
  assert.deepEqual(resolveEvaluateSection(undefined), { ...EVALUATE_DEFAULTS });
  const custom = await load({ baselineRun: 'runs/hard', severities: [1, 5], cascadeTarget: 0.99 }, ['evaluate.limitRows=100']);
  assert.deepEqual(
    { ...resolveEvaluateSection(custom.config.evaluate) },
    { ...EVALUATE_DEFAULTS, baselineRun: 'runs/hard', severities: [1, 5], cascadeTarget: 0.99, limitRows: 100 },
  );
});

void test('BAD CALL unknown corruption, severity out of range, unknown key', async () => {
  await assert.rejects(load({ corruptions: ['fog'] }), { name: 'ConfigError', message: /evaluate\.corruptions/ });
  await assert.rejects(load({ severities: [6] }), { name: 'ConfigError', message: /evaluate\.severities/ });
  await assert.rejects(load({ cascadeTarget: 1.5 }), { name: 'ConfigError', message: /evaluate\.cascadeTarget/ });
  await assert.rejects(load({ baseline: 'x' }), { name: 'ConfigError', message: /unknown key "evaluate\.baseline"; allowed here: report, export, baselineRun, corruptions/ });
});
