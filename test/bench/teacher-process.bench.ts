/**
 * The teacher stage as a whole process against a bare ONNX Runtime process (issue 20: >= 0.95 of the
 * bare loop "as a whole process on the MNIST demo (same model, batch, threads, 70k rows)" and in steady
 * state):
 *
 *   node --import tsx test/bench/teacher-process.bench.ts [--repeat 5] [--batch 256] [--format parquet] [--mode dense] [--threads 0]
 *
 * Needs `make data` (artifacts/data/mnist, 70,000 rows in train + test), the demo teacher
 * artifacts/teachers/mnist-cnn and the compiled dist/ (`make build`): the stage runs as a user runs
 * it, `node bin/distill.js teacher-logits --force` over both splits. The bare process
 * (test/bench/bare-ort-process.mjs) starts Node, imports onnxruntime-node, creates one session with the
 * stage's options (`--threads`: ORT intra-op threads for both, 0 = ORT's default) and runs the same 70,000 inputs, preprocessed ahead of time into one raw float32
 * file, through session.run in batches: everything the stage adds (reading and checking the dataset,
 * the model hash, preprocessing, fingerprints, encoding, writing and fsyncing shards, the manifest) is
 * what the ratio measures. The two alternate, `--repeat` times (odd); each figure is the median with
 * min-max, the ratios are taken within a pair first. Wall: spawn to exit. CPU: user + sys of the child
 * (bash's `times`). Steady state: the stage's split loops (manifest `splits.*.timing`, rows over
 * seconds summed over the splits) against the bare loop alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import { columnValues } from '../../pipeline/io/column-values.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import { readTeacherCard } from '../../pipeline/teacher/teacher-card.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '5' }, batch: { type: 'string', default: '256' }, format: { type: 'string', default: 'parquet' }, mode: { type: 'string', default: 'dense' }, threads: { type: 'string', default: '0' } } });
const THREADS = Number(values.threads);
const REPEAT = checkOddRepeat(Number(values.repeat));
const BATCH = Number(values.batch);
const scratch = join(projectRoot, '.scratch/bench-teacher-process');
const datasetDir = 'artifacts/data/mnist';
const teacherDir = 'artifacts/teachers/mnist-cnn';

/** Wall seconds, child CPU seconds (bash `times`) and stdout of `command` run by bash. */
function timed(command: string): { wall: number; cpu: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `${command}\ntimes`], { cwd: projectRoot, encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${command} failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(lines.at(-1)!); // children's user and sys
  if (!m) throw new Error(`no times line in ${r.stdout}`);
  const cpu = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
  return { wall, cpu, stdout: lines.slice(0, -2).join('\n') };
}

async function main(): Promise<void> {
  if (!existsSync(join(projectRoot, 'dist/.build-stamp'))) throw new Error('dist/ is not built: run `make build` first');
  const { card } = await readTeacherCard(join(projectRoot, teacherDir));
  const manifest = await readDatasetManifest(join(projectRoot, datasetDir));
  const b = card.inputs[0]!;
  const rowDims = b.shape.slice(1) as number[];
  const scale = b.preprocess?.scale ?? 1;
  const offset = b.preprocess?.offset ?? 0;
  const splits = ['train', 'test'];
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const parts: Float32Array[] = [];
  for (const split of splits) {
    const n = manifest.splits[split]!.rows;
    const px = columnValues((await new SplitReader(join(projectRoot, datasetDir), manifest, split).readRows(0, n)).getChild(b.column)!, 784) as Uint8Array;
    parts.push(Float32Array.from(px, (v) => v * scale + offset));
  }
  const rows = parts.reduce((s, p) => s + p.length / 784, 0);
  const inputs = join(scratch, 'inputs.f32');
  await writeFile(inputs, Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
  const exp = join(scratch, 'experiment.json');
  const store = '.scratch/bench-teacher-process/store';
  await writeFile(exp, JSON.stringify({
    name: 'bench', dataset: { path: datasetDir }, teacher: { path: teacherDir },
    teacherLogits: { store, splits, format: values.format, encoding: { mode: values.mode, k: 5 }, batchSize: BATCH, device: 'cpu' },
  }));
  const bare = `node test/bench/bare-ort-process.mjs ${join(teacherDir, card.model)} ${inputs} ${rows} ${BATCH} ${b.name} ${rowDims.join(',')} ${THREADS}`;
  const stage = `node bin/distill.js teacher-logits --config ${exp} --force --threads ${THREADS}`;
  console.log(`teacher stage vs bare ORT, whole processes: ${teacherDir}, ${rows} rows (${splits.join(' + ')}), batch ${BATCH}, ${values.format} ${values.mode}, ORT intra-op threads ${THREADS === 0 ? 'ORT default' : THREADS}, ${cpus().length} cores, node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} before`);
  const r = { bareWall: [] as number[], stageWall: [] as number[], bareCpu: [] as number[], stageCpu: [] as number[], wallRatio: [] as number[], cpuRatio: [] as number[], bareLoop: [] as number[], stageLoop: [] as number[], loopRatio: [] as number[] };
  timed(bare); // warm-up: the page cache and ORT's first load
  for (let rep = 0; rep < REPEAT; rep++) {
    const x = timed(bare);
    const s = timed(stage);
    const loop = (JSON.parse(x.stdout.split('\n').at(-1)!) as { loopRowsPerSecond: number }).loopRowsPerSecond;
    const m = JSON.parse(await readFile(join(projectRoot, store, 'manifest.json'), 'utf8')) as { splits: Record<string, { rows: number; timing: { seconds: number } }> };
    const stageLoop = Object.values(m.splits).reduce((a, v) => a + v.rows, 0) / Object.values(m.splits).reduce((a, v) => a + v.timing.seconds, 0);
    r.bareWall.push(x.wall); r.stageWall.push(s.wall); r.bareCpu.push(x.cpu); r.stageCpu.push(s.cpu);
    r.wallRatio.push(x.wall / s.wall); r.cpuRatio.push(x.cpu / s.cpu);
    r.bareLoop.push(loop); r.stageLoop.push(stageLoop); r.loopRatio.push(stageLoop / loop);
    process.stderr.write(`repeat ${rep + 1}/${REPEAT}: bare ${x.wall.toFixed(2)} s, stage ${s.wall.toFixed(2)} s\n`);
  }
  const f = (v: number[], d: number): string => formatSpread(spread(v), d);
  console.log(`\n| | bare ORT process | distill teacher-logits | bare / stage |`);
  console.log('|---|---|---|---|');
  console.log(`| wall s (whole process) | ${f(r.bareWall, 2)} | ${f(r.stageWall, 2)} | ${f(r.wallRatio, 3)} |`);
  console.log(`| CPU s (user + sys) | ${f(r.bareCpu, 2)} | ${f(r.stageCpu, 2)} | ${f(r.cpuRatio, 3)} |`);
  console.log(`| steady state rows/s (loop) | ${f(r.bareLoop, 0)} | ${f(r.stageLoop, 0)} | ${f(r.loopRatio, 3)} (stage / bare) |`);
  console.log(`(median (min-max) of ${REPEAT}; load average ${loadavg()[0]!.toFixed(1)} after)`);
  await rm(scratch, { recursive: true, force: true });
}

await main();
