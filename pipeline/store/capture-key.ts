import { sha256Bytes } from '../io/sha256.ts';
import type { TeacherCard } from '../teacher/teacher-card.ts';
import type { StoreEncoding } from './soft-target-store.ts';
import type { StoreManifest } from './store-manifest.ts';
import { captureEncoding } from './bytes-per-token.ts';

/**
 * Everything that decides the bytes of a split's shards. Two captures with equal keys write identical
 * shards (for a deterministic teacher), so a shard whose part record carries the current key and whose
 * sha256 matches may be reused on resume; a store with another key is refused unless --force. The
 * part records keep the key each shard was written under, so a consumer can check a store manifest
 * against them (pipeline/store/check-store-provenance.ts).
 * (The nonFinite policy is not part of it: a shard without NaN/Inf is the same under both, and a
 * reused shard with NaN/Inf rows is refused under `error`. Batch size, device and threads are not part
 * of it: shards do not depend on them where ORT is deterministic; the runtime is recorded in each part
 * record and the manifest. The graph optimisation level is: it changes the bytes.)
 */
export interface CaptureKey {
  teacherSha256: string;
  /** sha256 of card.json: bindings, preprocessing and output kind change the values. */
  cardSha256: string;
  /**
   * sha256 of the card as the manifest records it (`teacher.card`, canonical JSON: keys sorted), so an
   * edit of the recorded card is caught even where `cardSha256` was left alone. Absent in part records
   * written before it existed; {@link diffCaptureKeys} then does not compare it.
   */
  cardContentSha256?: string;
  dataset: string;
  split: string;
  splitRows: number;
  splitFingerprint: string;
  encoding: StoreEncoding;
  format: 'parquet' | 'arrow';
  shardRows: number;
  /**
   * ORT graph optimisation level: measured on the demo teacher, `all` writes different bytes from
   * `disabled`/`basic`/`extended` (fused kernels sum in another order), so shards of two levels must
   * not be mixed by a resume. Batch size and thread count did not change the bytes (docs/reliability.md).
   */
  graphOptimization: string;
  /**
   * sha256 of the model ONNX Runtime ran when the top-k reduction was appended to the teacher's graph
   * (`teacherLogits.reduceInGraph`, manifest `teacher.graphReduction.sha256`); absent when the host
   * reduced. ORT's float32 reduction and the host's float64 one differ in the last bits, so shards of
   * the two are never mixed by a resume: {@link diffCaptureKeys} compares it whenever either side has it.
   */
  reducedModelSha256?: string;
}

const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** {@link CaptureKey.cardContentSha256} of a card. */
export function cardContentSha256(card: TeacherCard): string {
  return sha256Bytes(canon(card));
}

/** The key of one split of an existing manifest (or of a worker's part manifest, which has the same fields). */
export function keyOfManifest(m: Pick<StoreManifest, 'teacher' | 'dataset' | 'encoding' | 'format' | 'shardRows' | 'runtime'>, split: string): CaptureKey | null {
  const s = m.dataset.splits[split];
  if (!s) return null;
  return {
    teacherSha256: m.teacher.sha256,
    cardSha256: m.teacher.cardSha256,
    cardContentSha256: cardContentSha256(m.teacher.card),
    dataset: m.dataset.name,
    split,
    splitRows: s.rows,
    splitFingerprint: s.fingerprint,
    encoding: captureEncoding(m.encoding),
    format: m.format,
    shardRows: m.shardRows,
    graphOptimization: m.runtime.graphOptimization,
    ...(m.teacher.graphReduction ? { reducedModelSha256: m.teacher.graphReduction.sha256 } : {}),
  };
}

/**
 * The fields that differ, as "field: stored X, now Y" lines (empty when the keys are equal). `labels`
 * name the two sides. Default ['stored', 'now']. `cardContentSha256` absent on the stored side (a part
 * record older than the field) is not compared; `reducedModelSha256` is compared when either side has
 * it (a graph-reduced shard is not a host-reduced one).
 */
export function diffCaptureKeys(stored: CaptureKey, now: CaptureKey, labels: readonly [string, string] = ['stored', 'now']): string[] {
  const diffs: string[] = [];
  const fields = new Set([...Object.keys(now), ...(stored.reducedModelSha256 !== undefined ? ['reducedModelSha256'] : [])]) as Set<keyof CaptureKey>;
  for (const field of fields) {
    if (field === 'cardContentSha256' && stored[field] === undefined) continue;
    if (canon(stored[field]) !== canon(now[field])) diffs.push(`${field}: ${labels[0]} ${canon(stored[field]) ?? 'none (host reduction)'}, ${labels[1]} ${canon(now[field]) ?? 'none (host reduction)'}`);
  }
  return diffs;
}
