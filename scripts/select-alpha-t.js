#!/usr/bin/env node
// Chooses train.alpha and train.temperature of a distilled variant on the validation split: trains the
// config once per (alpha, T) of a small grid at one seed (`distill train-student --set ...`, one run at a
// time), reads each run's validation metrics at the epoch it kept (run-manifest.json `selection` and
// metrics.jsonl), and writes a table of them with the setting of the lowest validation error. The test
// split is never read here: the runs score it once after training, and this script leaves those numbers
// out of the table on purpose. A complete run whose resolved config (`distill config`, description aside)
// is the one it would train now is reused, so an interrupted grid resumes. `--baseline <config>` (the hard-label variant, alpha = 1) is trained at the same seed and
// recorded next to the grid for comparison; it is never the chosen setting.
//
//   node scripts/select-alpha-t.js -c artifacts/experiments/ar-diacritics/experiment.json \
//     --baseline artifacts/experiments/ar-diacritics/hard-label.json \
//     --runs artifacts/experiments/ar-diacritics/runs/grid-window-mlp \
//     --alphas 0.3,0.6,0.9 --temperatures 1,2,4 --seed 1 \
//     --out artifacts/experiments/ar-diacritics/selection/window-mlp.json
//
// The error is 1 - accuracy over the validation split's labelled positions (for diacritisation: DER over
// letters, case endings and "no mark" included); ties go to the setting listed first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(msg) {
  process.stderr.write(`select-alpha-t: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const out = { seed: 1, set: [] };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const val = argv[i + 1];
    if (val === undefined) fail(`${key} needs a value`);
    i++;
    if (key === '-c' || key === '--config') out.config = val;
    else if (key === '--runs') out.runs = val;
    else if (key === '--baseline') out.baseline = val;
    else if (key === '--out') out.out = val;
    else if (key === '--seed') out.seed = Number(val);
    else if (key === '--alphas') out.alphas = val.split(',').map(Number);
    else if (key === '--temperatures') out.temperatures = val.split(',').map(Number);
    else if (key === '--set') out.set.push(val);
    else fail(`unknown option ${key} (allowed: -c, --baseline, --runs, --out, --seed, --alphas, --temperatures, --set)`);
  }
  for (const k of ['config', 'runs', 'out', 'alphas', 'temperatures']) if (out[k] === undefined) fail(`--${k} is required`);
  if (!out.alphas.every((a) => a >= 0 && a < 1)) fail(`--alphas must lie in [0, 1) (alpha weighs the hard-label term; 1 is the hard-label baseline), got ${out.alphas.join(',')}`);
  if (!out.temperatures.every((t) => t > 0)) fail(`--temperatures must be positive, got ${out.temperatures.join(',')}`);
  if (!Number.isInteger(out.seed) || out.seed < 0) fail(`--seed must be a non-negative integer, got ${out.seed}`);
  return out;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The validation metrics of the epoch a complete run kept, or null when the run is missing or another setting (temperature null: any, for alpha = 1). */
function keptValidation(run, alpha, temperature, seed) {
  const manifestPath = join(root, run, 'run-manifest.json');
  if (!existsSync(manifestPath)) return null;
  const m = readJson(manifestPath);
  if (m.status !== 'complete' || m.training.alpha !== alpha || (temperature !== null && m.training.temperature !== temperature) || m.seeds.master !== seed) return null;
  if (!m.selection || m.selection.on === m.test?.split) fail(`${run}: the run chose its epoch without a validation split (selection.on = ${m.selection?.on}); name dataset.validation in the config`);
  const lines = readFileSync(join(root, run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const kept = lines.filter((l) => l.epoch === m.selection.epoch).pop();
  if (!kept || kept.eval.split !== m.selection.on) fail(`${run}: metrics.jsonl has no ${m.selection.on} metrics for the kept epoch ${m.selection.epoch}`);
  const seconds = Math.round((Date.parse(m.finishedAt) - Date.parse(m.createdAt)) / 100) / 10;
  return { split: kept.eval.split, epoch: m.selection.epoch, rule: `${m.selection.rule} ${m.selection.metric}`, error: 1 - kept.eval.accuracy, labelled: kept.eval.sequence?.labelled ?? kept.eval.rows, agreement: kept.eval.agreement, trainSeconds: seconds, finishedAt: m.finishedAt, backend: m.backend.backend };
}

/** The resolved config `distill config` gives for these arguments, without its description (text only). */
function resolved(args) {
  const r = spawnSync(process.execPath, ['bin/distill.js', 'config', ...args, '--log-format', 'json'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) fail(`distill config ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  const { description: _d, ...config } = JSON.parse(r.stdout).config;
  return JSON.stringify(config);
}

/** Whether `run` holds a run trained from exactly this resolved config. */
function sameConfig(run, want) {
  const path = join(root, run, 'config.resolved.json');
  if (!existsSync(path)) return false;
  const { description: _d, ...config } = readJson(path).config;
  return JSON.stringify(config) === want;
}

/** Trains `config` at (alpha, T) into `run` unless a complete run of that resolved config is there; its kept validation metrics. */
function trainOrReuse(config, run, alpha, temperature, overrides) {
  const sets = [`seed=${opts.seed}`, ...overrides, `train.run=${run}`, ...opts.set].flatMap((s) => ['--set', s]);
  let v = sameConfig(run, resolved(['-c', config, ...sets])) ? keptValidation(run, alpha, temperature, opts.seed) : null;
  if (v === null) {
    const load = loadavg()[0].toFixed(1);
    process.stdout.write(`select-alpha-t: ${config} alpha ${alpha}, T ${temperature ?? '-'} -> ${run} (load ${load})\n`);
    const args = ['bin/distill.js', 'train-student', '-c', config, ...sets, '--force', '--log-format', 'json'];
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) fail(`distill ${args.slice(1).join(' ')} exited ${r.status}`);
    v = keptValidation(run, alpha, temperature, opts.seed);
    if (v === null) fail(`${run}: no complete run of alpha ${alpha}, T ${temperature ?? '-'} after training (does ${config} set them?)`);
  }
  process.stdout.write(`select-alpha-t: alpha ${alpha}, T ${temperature ?? '-'}: validation error ${(100 * v.error).toFixed(2)}% (epoch ${v.epoch})\n`);
  return v;
}

const opts = parseArgs(process.argv.slice(2));
const rows = [];
for (const alpha of opts.alphas) {
  for (const temperature of opts.temperatures) {
    const run = join(opts.runs, `alpha${alpha}-T${temperature}`);
    rows.push({ alpha, temperature, run, ...trainOrReuse(opts.config, run, alpha, temperature, [`train.alpha=${alpha}`, `train.temperature=${temperature}`]) });
  }
}
let baseline = null;
if (opts.baseline) {
  const run = join(opts.runs, 'baseline');
  baseline = { config: opts.baseline, alpha: 1, run, ...trainOrReuse(opts.baseline, run, 1, null, []) };
}
const best = rows.reduce((a, b) => (b.error < a.error ? b : a));
// The tfjs backend changes the numerics a little; a grid that mixed backends says so (re-run those runs after deleting them).
const backends = [...new Set([...rows, ...(baseline ? [baseline] : [])].map((r) => r.backend))];
if (backends.length > 1) process.stderr.write(`select-alpha-t: warning: the runs used different tfjs backends (${backends.join(', ')}); see "backend" per setting\n`);
const table = {
  kind: 'distill.alpha-t-selection',
  createdAt: new Date().toISOString(),
  command: `node scripts/select-alpha-t.js ${process.argv.slice(2).join(' ')}`,
  config: opts.config,
  seed: opts.seed,
  criterion: 'lowest validation error (1 - accuracy over labelled positions) at the epoch each run kept; test never read',
  loadAverageAtEnd: Number(loadavg()[0].toFixed(1)),
  backends,
  chosen: { alpha: best.alpha, temperature: best.temperature, validationError: best.error },
  settings: rows,
  baseline,
};
mkdirSync(dirname(join(root, opts.out)), { recursive: true });
const tmp = join(root, `${opts.out}.tmp`);
writeFileSync(tmp, `${JSON.stringify(table, null, 2)}\n`);
renameSync(tmp, join(root, opts.out));
process.stdout.write(`select-alpha-t: chosen alpha ${best.alpha}, T ${best.temperature} (validation error ${(100 * best.error).toFixed(2)}%) -> ${opts.out}\n`);
