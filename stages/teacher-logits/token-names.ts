import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Names of token ids for `distill inspect`, and a line saying where they came from. */
export interface TokenNames {
  names: string[] | null;
  note: string;
}

interface Tokenizer {
  kind: string;
  file: string;
}

/** id -> token of a Hugging Face tokenizer.json's model vocabulary (BPE/WordPiece map, Unigram list). */
function hfNames(json: { model?: { vocab?: Record<string, number> | [string, number][] } }): string[] | null {
  const vocab = json.model?.vocab;
  if (!vocab) return null;
  const names: string[] = [];
  if (Array.isArray(vocab)) vocab.forEach(([tok], id) => (names[id] = tok));
  else for (const [tok, id] of Object.entries(vocab)) names[id] = tok;
  return names;
}

/**
 * The token names of the dataset a store was captured from (`datasetPath` as the manifest records
 * it, resolved against `base`): the `symbols` of a char vocabulary, or the vocabulary of a Hugging
 * Face tokenizer.json (ids to tokens only; no text is decoded). Ids only when the dataset or its
 * tokenizer file cannot be read, saying why.
 */
export async function tokenNames(datasetPath: string, base: string): Promise<TokenNames> {
  const dir = resolve(base, datasetPath);
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { tokenizer?: Tokenizer };
    const tok = manifest.tokenizer;
    if (!tok) return { names: null, note: `token ids only: the dataset ${datasetPath} records no tokenizer` };
    const json = JSON.parse(await readFile(join(dir, tok.file), 'utf8')) as { symbols?: string[]; model?: { vocab?: Record<string, number> | [string, number][] } };
    const names = tok.kind === 'char' ? (json.symbols ?? null) : hfNames(json);
    return names ? { names, note: `tokens named by the dataset's ${tok.kind} tokenizer (${tok.file})` } : { names: null, note: `token ids only: ${tok.file} holds no vocabulary` };
  } catch (err) {
    return { names: null, note: `token ids only: cannot read the dataset's tokenizer under ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
}
