import { DataError } from '../../../pipeline/errors.ts';
import { readJsonFileOrThrow } from '../../../pipeline/io/read-json.ts';
import { sha256Bytes } from '../../../pipeline/io/sha256.ts';
import type { BrownDocument } from './brown-corpus.ts';

/** The splits of the lm-brown experiment, in dedup order. */
export const BROWN_SPLITS = ['train', 'validation', 'test'] as const;
export type BrownSplitName = (typeof BROWN_SPLITS)[number];

/** A document removed from a later split because an earlier split holds the same text. */
export interface BrownDuplicate {
  id: string;
  split: BrownSplitName;
  duplicateOf: BrownSplitName;
}

/** Documents per split (ascending id) after the cross-split dedup. */
export interface BrownSplit {
  splits: Record<BrownSplitName, BrownDocument[]>;
  duplicates: BrownDuplicate[];
}

interface SplitFile {
  splits: Record<BrownSplitName, string[]>;
  documents?: { id: string; textSha256?: string }[];
}

/**
 * Reads split.json (data_spec.md, "Split": the document lists of Python's seeded shuffle, which the TS
 * stage does not re-implement), checks that it names every document exactly once and, where it records a
 * `textSha256` per document, that the extracted text has that hash (a different corpus or a text rule
 * that drifted stops here, naming the first document). Then removes exact cross-split duplicates.
 */
export async function readBrownSplit(path: string, docs: readonly BrownDocument[]): Promise<BrownSplit> {
  const { value } = await readJsonFileOrThrow(path, 'the lm-brown split file (artifacts/experiments/lm-brown/split.json)');
  const file = value as SplitFile;
  const byId = new Map(docs.map((d) => [d.id, d]));
  const assigned = new Map<string, BrownSplitName>();
  for (const s of BROWN_SPLITS) {
    const ids = file.splits?.[s];
    if (!Array.isArray(ids)) throw new DataError(`${path}: splits.${s} must be a list of document ids`);
    for (const id of ids) {
      if (!byId.has(id)) throw new DataError(`${path}: splits.${s} names document ${JSON.stringify(id)}, which is not in the corpus`);
      if (assigned.has(id)) throw new DataError(`${path}: document ${id} is in both ${assigned.get(id)} and ${s}`);
      assigned.set(id, s);
    }
  }
  const missing = docs.filter((d) => !assigned.has(d.id)).map((d) => d.id);
  if (missing.length > 0) throw new DataError(`${path}: ${missing.length} corpus documents are in no split (first: ${missing[0]})`);
  for (const rec of file.documents ?? []) {
    const doc = byId.get(rec.id);
    if (doc && rec.textSha256 !== undefined && sha256Bytes(doc.text) !== rec.textSha256) {
      throw new DataError(`${path}: the text of document ${rec.id} has sha256 ${sha256Bytes(doc.text)}, but the split file records ${rec.textSha256} (another corpus version, or the text rules changed)`);
    }
  }
  const bySplit = Object.fromEntries(BROWN_SPLITS.map((s) => [s, docs.filter((d) => assigned.get(d.id) === s)])) as Record<BrownSplitName, BrownDocument[]>;
  return dedupAcrossSplits(bySplit);
}

/**
 * Removes, from a later split (order train, validation, test), every document whose text (sha256 of its
 * UTF-8 bytes) equals that of a document in an earlier split; duplicates inside one split stay.
 */
export function dedupAcrossSplits(bySplit: Record<BrownSplitName, BrownDocument[]>): BrownSplit {
  const firstSplit = new Map<string, BrownSplitName>();
  const duplicates: BrownDuplicate[] = [];
  const splits = {} as Record<BrownSplitName, BrownDocument[]>;
  for (const s of BROWN_SPLITS) {
    splits[s] = [];
    for (const d of bySplit[s]) {
      const h = sha256Bytes(d.text);
      const earlier = firstSplit.get(h);
      if (earlier !== undefined && earlier !== s) {
        duplicates.push({ id: d.id, split: s, duplicateOf: earlier });
        continue;
      }
      if (earlier === undefined) firstSplit.set(h, s);
      splits[s].push(d);
    }
  }
  return { splits, duplicates };
}
