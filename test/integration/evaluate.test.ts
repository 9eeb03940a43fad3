/**
 * The evaluate stage and the ONNX export end to end through the real CLI, on a small MNIST subset
 * (1000 train + 300 test rows): a nearest-class-mean ONNX teacher (test/fixtures/class-mean-teacher.ts),
 * teacher-logits, a distilled and a hard-label student (train-student), then `distill evaluate` and
 * `distill export`. Independent checks: the teacher's accuracy is recomputed in float64 from the
 * IDX files; the students' accuracies must equal what train-student measured on the same split; the
 * exported card loads as a teacher card; the HTML report renders in headless Chromium (not blank,
 * the key numbers in the DOM).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import { mnistPackageDir } from '../../stages/data/run-mnist.ts';
import type { EvaluateReport } from '../../stages/evaluate/evaluate-report.ts';
import type { RunManifest } from '../../pipeline/student/run-manifest.ts';
import { writeClassMeanTeacher } from '../fixtures/class-mean-teacher.ts';
import { decodePng } from '../helpers/decode-png.ts';
import { CHROMIUM, dumpDom, screenshot } from '../helpers/headless-chromium.ts';
import { jsonLines, runCli } from '../helpers/run-cli.ts';
import { teacherWorkspace } from '../helpers/teacher-workspace.ts';

const TRAIN = 1000;
const TEST = 300;

async function idx(file: string, header: number, n: number, width: number): Promise<Uint8Array> {
  const buf = await readFile(join(mnistPackageDir(), file));
  return new Uint8Array(buf.subarray(header, header + n * width));
}

const trainPixels = await idx('train-images-idx3-ubyte', 16, TRAIN, 784);
const trainLabels = await idx('train-labels-idx1-ubyte', 8, TRAIN, 1);
const testPixels = await idx('t10k-images-idx3-ubyte', 16, TEST, 784);
const testLabels = await idx('t10k-labels-idx1-ubyte', 8, TEST, 1);

/** Nearest-class-mean accuracy on the test rows, float64, straight from the IDX bytes. */
function classMeanAccuracy(): number {
  const means = Array.from({ length: 10 }, () => new Float64Array(784));
  const counts = new Float64Array(10);
  for (let r = 0; r < TRAIN; r++) {
    counts[trainLabels[r]!]!++;
    for (let j = 0; j < 784; j++) means[trainLabels[r]!]![j]! += trainPixels[r * 784 + j]! / 255;
  }
  means.forEach((m, c) => m.forEach((v, j) => (m[j] = v / counts[c]!)));
  let right = 0;
  for (let r = 0; r < TEST; r++) {
    let best = -1;
    let bestD = Infinity;
    for (let c = 0; c < 10; c++) {
      let d = 0;
      for (let j = 0; j < 784; j++) d += (testPixels[r * 784 + j]! / 255 - means[c]![j]!) ** 2;
      if (d < bestD) [bestD, best] = [d, c];
    }
    if (best === testLabels[r]) right++;
  }
  return right / TEST;
}

const ws = await teacherWorkspace(TRAIN, TEST, 400);
await writeClassMeanTeacher({ dir: join(ws.dir, 'teachers/cm'), pixels: trainPixels, labels: trainLabels });
await writeFile(
  join(ws.dir, 'exp.json'),
  JSON.stringify({
    name: 'eval-e2e',
    seed: 3,
    dataset: { path: ws.dataset },
    teacher: { path: 'teachers/cm' },
    teacherLogits: { store: 'stores/e2e', shardRows: 256, batchSize: 128, device: 'cpu', format: 'arrow' },
    student: { arch: 'mlp', hidden: [32] },
    train: { run: 'runs/kd', epochs: 3, batchSize: 32, learningRate: 0.01, temperature: 2, alpha: 0.2 },
    evaluate: { baselineRun: 'runs/hard', corruptionRows: 200, severities: [1, 3, 5], latencyRuns: 30, throughputBatches: 3 },
  }),
);
await writeFile(join(ws.dir, 'hard.json'), JSON.stringify({ extends: 'exp.json', train: { run: 'runs/hard', alpha: 1 } }));

const reportReady: Promise<{ report: EvaluateReport; html: string }> = (async () => {
  for (const args of [['teacher-logits', '-c', 'exp.json'], ['train-student', '-c', 'exp.json'], ['train-student', '-c', 'hard.json']]) {
    const res = await runCli(args, { cwd: ws.dir });
    assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
  }
  const res = await runCli(['evaluate', '-c', 'exp.json'], { cwd: ws.dir });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(jsonLines(res.stdout).some((l) => /^report ready: runs\/kd\/report\/report.html/.test(String(l.msg))), res.stdout);
  const report = JSON.parse(await readFile(join(ws.dir, 'runs/kd/report/metrics.json'), 'utf8')) as EvaluateReport;
  return { report, html: join(ws.dir, 'runs/kd/report/report.html') };
})();

test('distill evaluate measures teacher, student and baseline on the test split, matching independent figures', async () => {
  const { report: r } = await reportReady;
  const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1 / TEST + 1e-12, `${what}: ${a} vs ${b}`);
  close(r.headline.teacherAccuracy, classMeanAccuracy(), 'teacher accuracy vs float64 nearest class mean');
  assert.ok(r.headline.teacherAccuracy > 0.6, `a real teacher: ${r.headline.teacherAccuracy}`);
  const kd = JSON.parse(await readFile(join(ws.dir, 'runs/kd/run-manifest.json'), 'utf8')) as RunManifest;
  const hard = JSON.parse(await readFile(join(ws.dir, 'runs/hard/run-manifest.json'), 'utf8')) as RunManifest;
  close(r.headline.studentAccuracy, kd.final.eval.accuracy, 'student accuracy vs train-student');
  close(r.headline.baselineAccuracy!, hard.final.eval.accuracy, 'baseline accuracy vs train-student');
  close(r.headline.agreement, kd.final.eval.agreement!, 'agreement vs train-student');
  assert.equal(r.inputs.dataset.rows, TEST);
  assert.equal(r.agreement.klTemperature, 1);
  assert.ok(Math.abs(r.agreement.meanKl - (kd.final.eval.kl ?? NaN)) < 1e-3, `KL ${r.agreement.meanKl} vs ${kd.final.eval.kl}`);
  // Consistency between sections.
  const e = r.errors;
  assert.equal(e.studentErrors, e.copied + e.bothWrong + e.own);
  assert.equal(e.studentErrors, Math.round(TEST * (1 - r.headline.studentAccuracy)));
  assert.equal(r.perClass.reduce((s, c) => s + c.count, 0), TEST);
  assert.equal(r.models.student.calibration.bins.reduce((s, b) => s + b.count, 0), TEST);
  assert.equal(r.models.student.calibration.binCount, 15);
  assert.deepEqual(r.slices, []);
  // Corruptions: 5 kinds x 3 severities on 200 rows; severity 5 hurts both models.
  assert.ok(r.robustness.skipped === null);
  if (r.robustness.skipped === null) {
    assert.equal(r.robustness.measurements.length, 15);
    assert.equal(r.robustness.rows, 200);
    const shift5 = r.robustness.measurements.find((m) => m.kind === 'shift' && m.severity === 5)!;
    assert.ok(shift5.teacherAccuracy < r.robustness.summary.clean.teacherAccuracy - 0.2, `shift 5 teacher ${shift5.teacherAccuracy}`);
    assert.ok(shift5.studentAccuracy < r.robustness.summary.clean.studentAccuracy - 0.2, `shift 5 student ${shift5.studentAccuracy}`);
    assert.equal(r.headline.degradationRatio, r.robustness.summary.dropRatio);
  }
  // Cascade: the default target is the teacher's accuracy minus 0.1 point, and the operating point reaches it.
  assert.ok(Math.abs(r.cascade.target - (r.headline.teacherAccuracy - 0.001)) < 1e-12);
  assert.equal(r.cascade.operatingPoint.unreachable, false);
  assert.ok(r.cascade.operatingPoint.accuracy >= r.cascade.target);
  const last = r.cascade.points[r.cascade.points.length - 1]!;
  assert.deepEqual([last.deferredShare, last.accuracy], [1, r.headline.teacherAccuracy]);
  // Speed and size, same ORT setup; the teacher's 7,850 parameters are counted from its ONNX bytes.
  assert.equal(r.speed.teacher.parameters, 784 * 10 + 10);
  assert.equal(r.speed.student.parameters, 784 * 32 + 32 + 32 * 10 + 10);
  assert.equal(r.speed.intraOpThreads, 1);
  assert.ok(r.speed.student.timing.latency.p50 > 0 && r.speed.teacher.timing.throughput > 0);
  assert.equal(r.speed.student.timing.latency.runs, 30);
  // Export checked within 1e-4 on every test row.
  assert.equal(r.export.parity.rows, TEST);
  assert.ok(r.export.parity.maxAbsDiff <= 1e-4, `parity ${r.export.parity.maxAbsDiff}`);
  const card = await readTeacherCard(join(ws.dir, 'runs/kd/export'));
  assert.deepEqual(card.card.inputs[0], { name: 'pixels', column: 'pixels', dtype: 'float32', shape: ['batch', 784], preprocess: { scale: 1 / 255, offset: 0 } });
  // The limits statement ends the report and names the tau.
  assert.ok(r.limits.length >= 6);
  assert.ok(r.limits.some((l) => /degrades .* as fast as the teacher/.test(l)), r.limits.join('\n'));
  const md = await readFile(join(ws.dir, 'runs/kd/report/report.md'), 'utf8');
  assert.match(md, /## The student's limits\n\n- On 300 "test" inputs the student is right/);
});

test('report.html is self-contained and renders in headless Chromium: not blank, key numbers on the page', { skip: process.env.DISTILL_SKIP_BROWSER === '1' && 'DISTILL_SKIP_BROWSER=1' }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (make browser) or set CHROMIUM`);
  const { report: r, html } = await reportReady;
  const text = await readFile(html, 'utf8');
  assert.doesNotMatch(text, /<script|<link|src=|@import|url\(/i, 'no script or external asset');
  assert.equal((text.match(/<svg /g) ?? []).length, 3 + 5, 'reliability, per-class, cascade + 5 corruption charts');

  const blankFile = join(ws.dir, 'blank.html');
  await writeFile(blankFile, '<!doctype html><html><body></body></html>');
  const count = (png: Uint8Array): { nonWhite: number; teacher: number; student: number; total: number } => {
    const { width, height, channels, pixels } = decodePng(png);
    let nonWhite = 0;
    let teacher = 0;
    let student = 0;
    for (let i = 0; i < width * height; i++) {
      const [R, G, B] = [pixels[i * channels]!, pixels[i * channels + 1]!, pixels[i * channels + 2]!];
      if (R < 245 || G < 245 || B < 245) nonWhite++;
      if (Math.abs(R - 0x1f) < 12 && Math.abs(G - 0x6f) < 12 && Math.abs(B - 0xb4) < 12) teacher++;
      if (Math.abs(R - 0xd9) < 12 && Math.abs(G - 0x48) < 12 && Math.abs(B - 0x0f) < 12) student++;
    }
    return { nonWhite, teacher, student, total: width * height };
  };
  const blank = count(await screenshot(blankFile));
  assert.equal(blank.nonWhite, 0, 'the blank page renders white');
  const shot = count(await screenshot(html));
  assert.ok(shot.nonWhite > 0.03 * shot.total, `non-white pixels ${shot.nonWhite} of ${shot.total}`);
  assert.ok(shot.teacher > 500 && shot.student > 500, `chart colours drawn: teacher ${shot.teacher}, student ${shot.student}`);

  const dom = await dumpDom(html);
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  assert.match(dom, new RegExp(`id="teacher-accuracy"><div class="v teacher">${pct(r.headline.teacherAccuracy).replace('.', '\\.')}<`));
  assert.match(dom, new RegExp(`id="student-accuracy"><div class="v student">${pct(r.headline.studentAccuracy).replace('.', '\\.')}<`));
  assert.ok(dom.includes(pct(r.headline.baselineAccuracy!)), 'baseline accuracy');
  assert.ok(dom.includes(pct(r.headline.agreement)), 'agreement');
  assert.match(dom, /<h2 id="limits">The student's limits<\/h2>/);
  assert.ok(dom.includes(r.limits[r.limits.length - 1]!.slice(0, 40)), 'the last limit sentence');
});

test('distill export writes a checked ONNX student to --out; a missing run is a clear error', async () => {
  await reportReady;
  const res = await runCli(['export', '-c', 'exp.json', '--run', 'runs/hard', '--out', 'exported/hard'], { cwd: ws.dir });
  assert.equal(res.code, 0, res.stderr);
  const manifest = JSON.parse(await readFile(join(ws.dir, 'exported/hard/export-manifest.json'), 'utf8')) as { parity: { rows: number; maxAbsDiff: number }; onnx: { parameters: number } };
  assert.equal(manifest.parity.rows, TEST);
  assert.ok(manifest.parity.maxAbsDiff <= 1e-4);
  assert.equal(manifest.onnx.parameters, 784 * 32 + 32 + 330);
  const missing = await runCli(['export', '-c', 'exp.json', '--run', 'runs/nothing'], { cwd: ws.dir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /runs\/nothing: no trained student found \(looked for model\.json/);
});
