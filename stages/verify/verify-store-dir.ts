import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkAgainstSchema } from '../../pipeline/config/validate-schema.ts';
import { fingerprintColumns, readDatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { RowFingerprint } from '../../pipeline/dataset/row-fingerprint.ts';
import { SplitReader } from '../../pipeline/dataset/split-reader.ts';
import { checkDatasetFiles } from '../../pipeline/dataset/verify-dataset.ts';
import { sha256Bytes, sha256File } from '../../pipeline/io/sha256.ts';
import { appendTopKGraph } from '../../pipeline/teacher/top-k-graph.ts';
import { checkStoreShards, openedStore, storeManifestProblems } from '../../pipeline/store/open-store.ts';
import type { OpenedStore } from '../../pipeline/store/open-store.ts';
import { storeProvenanceProblems } from '../../pipeline/store/check-store-provenance.ts';
import type { ShardTargets } from '../../pipeline/store/soft-target-store.ts';
import { STORE_MANIFEST } from '../../pipeline/store/store-manifest.ts';
import type { StoreManifest } from '../../pipeline/store/store-manifest.ts';
import { TEACHER_CARD } from '../../pipeline/teacher/teacher-card.ts';
import { displayPath } from '../../pipeline/io/display-path.ts';
import { canonicalJson, jsonDiffs, newReport, readJson } from './verify-report.ts';
import type { VerifyProblem, VerifyReport } from './verify-report.ts';

/** The resolved config file a store or run keeps beside its manifest. */
const RESOLVED_CONFIG = 'config.resolved.json';

/** NaN/Inf values in decoded soft targets (tail_lse may be -Infinity, the empty tail of k = C). */
function nonFiniteIn(t: ShardTargets): number {
  let n = 0;
  for (const arr of [t.logits, t.topkLogit]) for (const v of arr ?? []) if (!Number.isFinite(v)) n++;
  for (const v of t.tailLogSumExp ?? []) if (Number.isNaN(v) || v === Infinity) n++;
  return n;
}

/** Internal consistency of a valid manifest: counts, shard paths, encoding vs card. */
function consistencyProblems(m: StoreManifest): string[] {
  const problems: string[] = [];
  if (m.teacher.sha256 !== m.teacher.card.sha256) problems.push(`teacher.sha256 is ${m.teacher.sha256}, but teacher.card.sha256 is ${m.teacher.card.sha256}`);
  if (m.encoding.classes !== m.teacher.card.classes.count) problems.push(`encoding.classes is ${m.encoding.classes}, but the teacher card has ${m.teacher.card.classes.count} classes`);
  if (m.encoding.mode === 'topk' && (m.encoding.k === undefined || m.encoding.temperature === undefined)) problems.push('encoding is topk but lacks k or temperature');
  if (m.encoding.mode === 'sampled' && m.encoding.slots !== Math.min(m.encoding.samples ?? 0, m.encoding.classes)) problems.push(`encoding.slots is ${m.encoding.slots}, expected min(samples, classes) = ${Math.min(m.encoding.samples ?? 0, m.encoding.classes)}`);
  if (m.format !== m.config.format || m.shardRows !== m.config.shardRows) problems.push(`format/shardRows ${m.format}/${m.shardRows} differ from config ${m.config.format}/${m.config.shardRows}`);
  for (const [split, s] of Object.entries(m.splits)) {
    const sum = s.shards.reduce((a, r) => a + r.nonFinite, 0);
    if (sum !== s.nonFinite) problems.push(`splits.${split}.nonFinite is ${s.nonFinite}, but its shards' nonFinite sum to ${sum}`);
    for (const [i, r] of s.shards.entries()) {
      const expected = `${split}/part-${String(i).padStart(5, '0')}.${m.format}`;
      if (r.path !== expected) problems.push(`splits.${split}.shards[${i}].path is ${JSON.stringify(r.path)}, expected ${JSON.stringify(expected)}`);
      const outside = r.nonFiniteRows.filter((row) => row < r.rowStart || row >= r.rowEnd);
      if (outside.length > 0 || r.nonFiniteRows.length > r.nonFinite) problems.push(`splits.${split}.shards[${i}].nonFiniteRows ${JSON.stringify(r.nonFiniteRows.slice(0, 5))} do not fit its ${r.nonFinite} values in rows ${r.rowStart}..${r.rowEnd - 1}`);
      if (r.nonFinite > 0 && m.nonFinitePolicy === 'error') problems.push(`splits.${split}.shards[${i}] records ${r.nonFinite} NaN/Inf values under the "error" policy`);
    }
  }
  return problems;
}

/** Shard files decoded (columns, row values, NaN/Inf), part records, files the manifest does not list. */
async function shardContentProblems(store: OpenedStore, shown: (p: string) => string, skip: ReadonlySet<string>): Promise<{ problems: VerifyProblem[]; notes: string[] }> {
  const problems: VerifyProblem[] = [];
  const notes: string[] = [];
  for (const split of store.splits()) {
    for (const shard of store.shards(split)) {
      const part = await readJson(`${shard.path}.json`, shown(`${shard.path}.json`));
      if ('value' in part) {
        const rec = (part.value as { shard?: Record<string, unknown> }).shard;
        const man = store.manifest.splits[split]!.shards[shard.index]!;
        const diffs = jsonDiffs({ sha256: rec?.sha256, bytes: rec?.bytes, rowStart: rec?.rowStart, rowEnd: rec?.rowEnd }, { sha256: man.sha256, bytes: man.bytes, rowStart: man.rowStart, rowEnd: man.rowEnd });
        if (diffs.length > 0) problems.push({ file: shown(`${shard.path}.json`), problem: `the part record differs from the manifest (part vs manifest): ${diffs.join('; ')}` });
      }
      if (skip.has(shard.path)) continue;
      try {
        const n = nonFiniteIn(await store.readShard(split, shard.index));
        if (n > 0) problems.push({ file: shown(shard.path), problem: `holds ${n} NaN/Inf values; a stored shard never does (the "zero" policy stores 0)` });
      } catch (err) {
        problems.push({ file: shown(shard.path), problem: (err as Error).message.replace(`${shard.path}: `, '') });
      }
    }
    const listed = new Set(store.shards(split).map((s) => s.path));
    let names: string[] = [];
    try {
      names = await readdir(join(store.dir, split));
    } catch {
      // the split folder is missing: every shard was reported missing above
    }
    for (const name of names.sort()) {
      const path = join(store.dir, split, name);
      if (name.includes('.tmp-')) notes.push(`${shown(path)} is a temporary file left by an interrupted write (removed by the next teacher-logits run)`);
      else if (/\.(parquet|arrow)$/.test(name) && !listed.has(path)) problems.push({ file: shown(path), problem: `is a shard file the manifest does not list (split "${split}" has ${listed.size} shards)` });
    }
  }
  return { problems, notes };
}

/** The teacher at the recorded path, when present: card.json and the ONNX file against the manifest. */
async function teacherProblems(m: StoreManifest, workspace: string, report: VerifyReport, manifestPath: string): Promise<void> {
  const dir = resolve(workspace, m.teacher.path);
  const cardPath = join(dir, TEACHER_CARD);
  let cardText: string;
  try {
    cardText = await readFile(cardPath, 'utf8');
  } catch {
    report.notes.push(`the teacher ${m.teacher.path} is not on disk: its sha256 was not checked`);
    return;
  }
  const cardSha = sha256Bytes(cardText);
  if (cardSha !== m.teacher.cardSha256) report.problems.push({ file: displayPath(cardPath, workspace), problem: `has sha256 ${cardSha}, the store was captured with card sha256 ${m.teacher.cardSha256}` });
  const model = join(dir, m.teacher.card.model);
  const reduced = m.teacher.graphReduction;
  let bytes: Uint8Array | null = null; // read whole only to rebuild a graph-reduced model; else streamed
  let sha: string;
  try {
    if (reduced) {
      bytes = await readFile(model);
      sha = sha256Bytes(bytes);
    } else sha = await sha256File(model);
  } catch (err) {
    report.problems.push({ file: displayPath(model, workspace), problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    return;
  }
  if (sha !== m.teacher.sha256) {
    report.problems.push({ file: displayPath(model, workspace), problem: `has sha256 ${sha}, the store was captured from a teacher with sha256 ${m.teacher.sha256}` });
    return;
  }
  report.checked.push(`teacher ${m.teacher.path}: card and ONNX sha256`);
  if (!reduced || !bytes) return;
  // The model ORT ran is a pure function of the original file and the encoding: rebuild it and compare.
  try {
    const { card } = m.teacher;
    const rebuilt = appendTopKGraph(bytes, displayPath(model, workspace), { output: card.output.name, kind: card.output.kind, classes: card.classes.count, k: m.encoding.k ?? 0, temperature: m.encoding.temperature ?? 0 });
    if (rebuilt.sha256 !== reduced.sha256) {
      report.problems.push({ file: manifestPath, problem: `teacher.graphReduction.sha256 is ${reduced.sha256}, but the teacher with the top-k reduction (k ${m.encoding.k}, T_c ${m.encoding.temperature}) appended has sha256 ${rebuilt.sha256}` });
    } else report.checked.push(`teacher ${m.teacher.path}: the graph-reduced model rebuilt from it has the recorded sha256`);
  } catch (err) {
    report.problems.push({ file: manifestPath, problem: `teacher.graphReduction cannot be rebuilt from ${displayPath(model, workspace)}: ${(err as Error).message}` });
  }
}

/** The dataset at the recorded path, when present: split fingerprints and each shard's rows, recomputed. */
async function datasetProblems(store: OpenedStore, workspace: string, report: VerifyReport): Promise<void> {
  const m = store.manifest;
  const dir = resolve(workspace, m.dataset.path);
  let dataset: DatasetManifest;
  try {
    dataset = await readDatasetManifest(dir);
  } catch (err) {
    if ((err as Error).message.includes('does not exist')) report.notes.push(`the dataset ${m.dataset.path} is not on disk: the dataset fingerprints were not checked`);
    else report.problems.push({ file: join(m.dataset.path, 'manifest.json'), problem: (err as Error).message });
    return;
  }
  const where = displayPath(join(store.dir, STORE_MANIFEST), workspace);
  const splits = Object.keys(m.splits).filter((s) => {
    const now = dataset.splits[s];
    const then = m.dataset.splits[s];
    if (!now) report.problems.push({ file: where, problem: `split "${s}" is not in the dataset ${m.dataset.path} any more (it has: ${Object.keys(dataset.splits).join(', ')})` });
    else if (then && (now.fingerprint !== then.fingerprint || now.rows !== then.rows)) {
      report.problems.push({ file: where, problem: `split "${s}" was captured from dataset rows with fingerprint ${then.fingerprint} (${then.rows} rows), but ${m.dataset.path} now has ${now.fingerprint} (${now.rows} rows): the dataset changed after capture` });
    }
    return now !== undefined;
  });
  const bad = await checkDatasetFiles(dir, dataset, splits);
  for (const p of bad) report.problems.push({ file: join(m.dataset.path, p.file), problem: p.problem });
  if (bad.length > 0) return;
  const columns = fingerprintColumns(dataset);
  for (const s of splits) {
    const reader = new SplitReader(dir, dataset, s);
    for (const shard of store.shards(s)) {
      if (shard.rowEnd > dataset.splits[s]!.rows) continue; // reported above as a changed dataset
      const fp = new RowFingerprint(columns);
      fp.update(await reader.readRows(shard.rowStart, shard.rowEnd), `${m.dataset.path} ${s}`);
      const digest = fp.digest();
      if (digest !== shard.datasetFingerprint) {
        report.problems.push({ file: displayPath(shard.path, workspace), problem: `was computed from dataset rows ${shard.rowStart}..${shard.rowEnd - 1} with fingerprint ${shard.datasetFingerprint}, but those rows of ${m.dataset.path} now have ${digest}` });
      }
    }
  }
  report.checked.push(`dataset ${m.dataset.path}: split fingerprints and every shard's rows, recomputed`);
}

/**
 * Verifies a soft-target store directory and collects every problem: the manifest (JSON, schema,
 * status, row coverage of every split without gap or overlap, counts, shard paths, encoding vs the
 * card), each shard's bytes and sha256, its decoded content (columns, `row` values, no NaN/Inf), its
 * part record, shard files the manifest does not list, config.resolved.json (schema, and its
 * teacherLogits section vs the manifest's), and, when they are on disk at the recorded paths
 * (relative to `workspace`), the teacher (card and ONNX sha256) and the dataset (split fingerprints,
 * each shard's dataset rows re-fingerprinted).
 *
 * @example
 * const report = await verifyStoreDir('artifacts/experiments/mnist-kd/store');
 * for (const p of report.problems) console.log(`${p.file}: ${p.problem}`);
 */
export async function verifyStoreDir(dir: string, workspace: string = process.cwd()): Promise<VerifyReport> {
  const shownDir = displayPath(dir, workspace);
  const report = newReport('store', shownDir);
  const shown = (p: string): string => displayPath(p, workspace);
  const manifestFile = join(shownDir, STORE_MANIFEST);
  const read = await readJson(join(dir, STORE_MANIFEST), manifestFile);
  if ('problem' in read) {
    if (read.problem.problem === 'is missing') read.problem.problem = 'is missing: the store is not complete (an interrupted teacher-logits run resumes)';
    report.problems.push(read.problem);
    return report;
  }
  const manifestProblems = storeManifestProblems(read.value);
  report.problems.push(...manifestProblems.map((problem) => ({ file: manifestFile, problem })));
  if (checkAgainstSchema('store-manifest', structuredClone(read.value)).length > 0) return report;
  const m = read.value as StoreManifest;
  report.problems.push(...consistencyProblems(m).map((problem) => ({ file: manifestFile, problem })));
  const store = openedStore(dir, m);
  const files = await checkStoreShards(store);
  report.problems.push(...files.map((p) => ({ file: shown(p.file), problem: p.problem })));
  const content = await shardContentProblems(store, shown, new Set(files.map((p) => p.file)));
  report.problems.push(...content.problems);
  report.notes.push(...content.notes);
  report.problems.push(...(await storeProvenanceProblems(store, { shardFields: false })).map((problem) => ({ file: manifestFile, problem: `differs from what was written at capture: ${problem}` })));
  const shards = Object.values(m.splits).reduce((s, x) => s + x.shards.length, 0);
  report.checked.push('manifest schema, row coverage, counts', `${shards} shards: bytes, sha256, columns, row values, NaN/Inf, part records (and the manifest's capture fields against them)`);

  const cfg = await readJson(join(dir, RESOLVED_CONFIG), join(shownDir, RESOLVED_CONFIG));
  if ('problem' in cfg) report.problems.push(cfg.problem);
  else {
    const config = (cfg.value as { config?: { teacherLogits?: unknown } }).config;
    const schema = checkAgainstSchema('experiment', structuredClone(config));
    if (schema.length > 0) report.problems.push({ file: join(shownDir, RESOLVED_CONFIG), problem: `is not a valid resolved config: ${schema.map((p) => p.message).join('; ')}` });
    else if (canonicalJson(config?.teacherLogits) !== canonicalJson(m.config)) {
      report.problems.push({ file: join(shownDir, RESOLVED_CONFIG), problem: `its teacherLogits section differs from the manifest's config (resolved vs manifest): ${jsonDiffs(config?.teacherLogits, m.config).join('; ')}` });
    }
  }
  await teacherProblems(m, workspace, report, manifestFile);
  await datasetProblems(store, workspace, report);
  return report;
}
