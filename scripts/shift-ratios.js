#!/usr/bin/env node
// Records the shift corruption of an experiment's reference runs (issue 18): for each variant and seed,
// `distill evaluate` with `evaluate.corruptions=["shift"]` on the run that `distill reference` trained
// (`runs/<variant>-seed<S>`; a report that already holds the shift suite is reused), then each report's
// drop ratio (the student's mean accuracy drop over shifts of 1-5 px divided by the teacher's, on the
// first 2,000 test rows; docs/evaluation.md) into `<dir>/shift-ratios.json`, per seed and as mean and
// sample std. Variants of the file that a call does not name keep their entries, like `distill
// reference --variants`.
//
//   node scripts/shift-ratios.js artifacts/experiments/mnist-kd --variants views8-long,hard-label-long [--seeds 1,2,3]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(msg) {
  process.stderr.write(`shift-ratios: ${msg}\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const dir = argv[0];
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : argv[i + 1];
};
if (!dir || dir.startsWith('-')) fail('usage: node scripts/shift-ratios.js <experiment dir> --variants a,b [--seeds 1,2,3]');
const variants = (opt('--variants', '') ?? '').split(',').filter(Boolean);
const seeds = (opt('--seeds', '1,2,3') ?? '').split(',').map(Number);
if (variants.length === 0) fail('--variants names at least one variant (its config is <dir>/<variant>.json)');
if (seeds.some((s) => !Number.isInteger(s))) fail(`--seeds must be integers, got ${opt('--seeds')}`);

/** The shift summary of a run's report, or null when the report lacks it. */
function shiftOf(reportFile) {
  if (!existsSync(reportFile)) return null;
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const kind = report.robustness?.summary?.kinds?.find((k) => k.kind === 'shift');
  return kind ? { report, kind } : null;
}

const out = join(dir, 'shift-ratios.json');
const recorded = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { kind: 'distill.shift-ratios', variants: {} };
for (const variant of variants) {
  const config = join(dir, `${variant}.json`);
  if (!existsSync(config)) fail(`${config} does not exist`);
  const rows = [];
  for (const seed of seeds) {
    const run = join(dir, 'runs', `${variant}-seed${seed}`);
    if (!existsSync(join(run, 'run-manifest.json'))) fail(`${run} has no trained student (run \`distill reference ${dir} --variants ${variant}\` first)`);
    const reportFile = join(run, 'report', 'metrics.json');
    let found = shiftOf(reportFile);
    if (found === null) {
      const args = [join(root, 'bin/distill.js'), 'evaluate', '-c', config, '--set', `seed=${seed}`, '--set', `train.run=${run}`, '--set', 'evaluate.corruptions=["shift"]', '--set', 'evaluate.latencyRuns=20'];
      process.stdout.write(`shift-ratios: ${variant} seed ${seed}: distill ${args.slice(1).join(' ')}\n`);
      const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
      if (r.status !== 0) fail(`distill evaluate failed for ${variant} seed ${seed} (exit ${r.status})`);
      found = shiftOf(reportFile);
      if (found === null) fail(`${reportFile} has no shift robustness after evaluate`);
    }
    const { report, kind } = found;
    rows.push({ seed, run, reportCreatedAt: report.createdAt, rows: report.robustness.rows, severities: report.robustness.severities, teacherMeanDrop: kind.teacherMeanDrop, studentMeanDrop: kind.studentMeanDrop, dropRatio: kind.dropRatio });
  }
  const r = rows.map((x) => x.dropRatio);
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  const std = r.length > 1 ? Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1)) : 0;
  recorded.variants[variant] = { config, command: `node scripts/shift-ratios.js ${dir} --variants ${variant} --seeds ${seeds.join(',')}`, dropRatio: { mean, std, min: Math.min(...r), max: Math.max(...r) }, seeds: rows };
  process.stdout.write(`shift-ratios: ${variant}: drop ratio ${mean.toFixed(2)} ± ${std.toFixed(2)} (${r.map((x) => x.toFixed(2)).join(', ')})\n`);
}
recorded.createdAt = new Date().toISOString();
writeFileSync(`${out}.tmp`, `${JSON.stringify(recorded, null, 2)}\n`);
renameSync(`${out}.tmp`, out);
process.stdout.write(`shift-ratios: wrote ${out}\n`);
