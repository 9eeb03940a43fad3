/**
 * What the sequence evaluation needs of a token dataset's tokenizer: the vocabulary size, the padding
 * and unknown ids, the ids perturbations never draw (specials), and, for a character vocabulary, its
 * symbols and separators (whitespace, punctuation and symbol characters: what ends a word).
 */
import { join } from 'node:path';
import type { DatasetManifest } from '../../pipeline/dataset/dataset-manifest.ts';
import { DataError } from '../../pipeline/errors.ts';
import { readJsonFile } from '../../pipeline/io/read-json.ts';

/** A token dataset's vocabulary as evaluate uses it. */
export interface TokenVocabulary {
  kind: 'char' | 'hf' | 'none';
  /** Input ids lie in [0, size). */
  size: number;
  pad: number;
  /** The unknown-token id, or null when the tokenizer has none (byte-level BPE). */
  unk: number | null;
  /** Ids never drawn by a perturbation (pad, unk, specials, separators). */
  reserved: number[];
  /** Character vocabulary: symbol of each id; null otherwise. */
  symbols: string[] | null;
  /** Character vocabulary: ids of whitespace / punctuation / symbol characters (word boundaries). */
  separators: number[];
}

const SEPARATOR = /^[\s\p{P}\p{S}]+$/u;

interface CharVocabFile {
  kind?: string;
  pad?: string;
  unk?: string;
  symbols?: unknown;
}

interface HfTokenizerFile {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  model?: { unk_token?: string | null; vocab?: Record<string, number> };
}

/**
 * Reads the dataset's tokenizer file (manifest.tokenizer). Without one, the vocabulary is the ids
 * column's `vocabSize` with pad 0 and no unknown id.
 * @param padId - the padding id (the teacher card's tokenizer.padId); default 0.
 * @throws DataError naming the file when it cannot be read or a char vocabulary has no symbols.
 */
export async function readTokenVocabulary(datasetDir: string, dataset: DatasetManifest, idsColumn: string, padId = 0): Promise<TokenVocabulary> {
  const tok = dataset.tokenizer;
  const size = tok?.vocabSize ?? dataset.columns.find((c) => c.name === idsColumn)?.vocabSize;
  if (size === undefined) throw new DataError(`${datasetDir}: the manifest records no vocabulary size (tokenizer.vocabSize or ${idsColumn}.vocabSize)`);
  if (!tok) return { kind: 'none', size, pad: padId, unk: null, reserved: [padId], symbols: null, separators: [] };
  const path = join(datasetDir, tok.file);
  const read = await readJsonFile(path);
  if (!read.ok) throw new DataError(`${path}: cannot read the dataset's tokenizer (${read.problem})`);
  if (tok.kind === 'char') {
    const file = read.value as CharVocabFile;
    if (!Array.isArray(file.symbols) || !file.symbols.every((s) => typeof s === 'string')) throw new DataError(`${path}: a char vocabulary needs "symbols", an array of strings`);
    const symbols = file.symbols as string[];
    const pad = file.pad !== undefined && symbols.includes(file.pad) ? symbols.indexOf(file.pad) : padId;
    const unk = file.unk !== undefined && symbols.includes(file.unk) ? symbols.indexOf(file.unk) : null;
    const separators = symbols.flatMap((s, i) => (i !== pad && i !== unk && SEPARATOR.test(s) ? [i] : []));
    return { kind: 'char', size, pad, unk, reserved: [...new Set([pad, ...(unk !== null ? [unk] : []), ...separators])], symbols, separators };
  }
  const file = read.value as HfTokenizerFile;
  const specials = (file.added_tokens ?? []).filter((t) => t.special).map((t) => t.id);
  const unkToken = file.model?.unk_token;
  const unk = unkToken ? (file.model?.vocab?.[unkToken] ?? null) : null;
  return { kind: 'hf', size, pad: padId, unk, reserved: [...new Set([padId, ...specials, ...(unk !== null ? [unk] : [])])], symbols: null, separators: [] };
}
