import { Tokenizer } from '@huggingface/tokenizers';
import { DataError } from '../errors.ts';
import { readFileBytes } from '../io/table-files.ts';
import { CharEncoder, buildCharVocabulary, parseCharVocabulary } from './char-vocabulary.ts';
import type { TokenizerFile } from './write-token-dataset.ts';

/** A tokenizer turning text into ids, with the file that defines it (copied into the dataset). */
export interface TextTokenizer {
  file: TokenizerFile;
  /** Ids of `text`, no special tokens added. */
  encode(text: string): Int32Array;
}

/** The vocabulary size of a tokenizer.json: 1 + the largest id of its model vocabulary and added tokens. */
function hfVocabSize(json: { model?: { vocab?: unknown }; added_tokens?: { id: number }[] }, file: string): number {
  const vocab = json.model?.vocab;
  const ids: number[] = [];
  if (Array.isArray(vocab)) ids.push(vocab.length - 1); // Unigram: [[piece, score], ...]
  else if (vocab && typeof vocab === 'object') ids.push(...Object.values(vocab as Record<string, number>));
  for (const t of json.added_tokens ?? []) ids.push(t.id);
  if (ids.length === 0) throw new DataError(`${file}: no model.vocab in this tokenizer.json (is it a Hugging Face tokenizers file?)`);
  return ids.reduce((a, b) => Math.max(a, b), 0) + 1;
}

/**
 * Loads a Hugging Face `tokenizer.json` through the pure-JS `@huggingface/tokenizers` (the ids equal
 * those of the Python `tokenizers` library: test/unit/pipeline/dataset/text-tokenizer.test.ts checks a
 * committed fixture). Encoding adds no special tokens.
 */
export async function loadHfTokenizer(path: string): Promise<TextTokenizer> {
  const bytes = await readFileBytes(path);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new DataError(`${path}: not a JSON tokenizer file (${(err as Error).message})`);
  }
  const vocabSize = hfVocabSize(json as Parameters<typeof hfVocabSize>[0], path);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json as object, {});
  } catch (err) {
    throw new DataError(`${path}: @huggingface/tokenizers cannot load this tokenizer.json (${(err as Error).message})`);
  }
  return {
    file: { kind: 'hf', fileName: 'tokenizer.json', bytes, vocabSize },
    encode: (text) => Int32Array.from(tokenizer.encode(text, { add_special_tokens: false }).ids),
  };
}

/** The char-vocab JSON bytes as this project writes them (2-space indent, trailing newline). */
export function charVocabularyBytes(vocabulary: ReturnType<typeof buildCharVocabulary>['vocabulary']): Uint8Array {
  return Buffer.from(JSON.stringify(vocabulary, null, 2) + '\n', 'utf8');
}

/** A char tokenizer from an existing char-vocab JSON file (its bytes are copied as they are). */
export async function loadCharTokenizer(path: string): Promise<TextTokenizer & { encoder: CharEncoder }> {
  const bytes = await readFileBytes(path);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new DataError(`${path}: not a JSON char vocabulary (${(err as Error).message})`);
  }
  const encoder = new CharEncoder(parseCharVocabulary(json, path));
  return { encoder, file: { kind: 'char', fileName: 'vocab.json', bytes, vocabSize: encoder.vocabSize, normalization: 'NFC' }, encode: (t) => encoder.encode(t) };
}

/** A char tokenizer built from texts (the train split): vocabulary, its file bytes, and counts per id. */
export function buildCharTokenizer(texts: Iterable<string>): TextTokenizer & { encoder: CharEncoder; counts: number[] } {
  const { vocabulary, counts } = buildCharVocabulary(texts);
  const encoder = new CharEncoder(vocabulary);
  return { encoder, counts, file: { kind: 'char', fileName: 'vocab.json', bytes: charVocabularyBytes(vocabulary), vocabSize: encoder.vocabSize, normalization: 'NFC' }, encode: (t) => encoder.encode(t) };
}
