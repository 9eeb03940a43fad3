/**
 * The token robustness suite's perturbations: seeded edits of `input_ids` that keep the attention mask,
 * the length and the labels consistent. Each output position records its `source`, the position in
 * the clean row it came from (-1 for an inserted token), and whether its id was changed in place.
 *
 * Label rule (documented in docs/evaluation.md): a token classification label follows its letter
 * (label[source]); an inserted token gets -100; a deleted token takes its label with it; a token
 * substituted in place keeps its label (the gold mark of the intended letter). Rows stay L long:
 * insertions push the tail past L, where it is cut; deletions and truncation leave padding (id pad,
 * mask 0, label -100). For a causal LM, score position t only where `source[t + 1] >= 0` and predict
 * the clean id there ({@link PerturbedRows.cleanIds}): a model is asked for the real next token.
 *
 * `mark-tokens` (partially diacritised input) inserts, after a letter whose gold class carries marks,
 * the ids those marks become in the input (`marks[label]`), so it reads the clean labels; the letter
 * keeps its label and the inserted ids get -100 like any inserted token.
 *
 * Draws come from (seed, kind, row) alone, so a row's perturbation does not depend on the batch.
 */
import { DataError } from '../../pipeline/errors.ts';
import { deriveSeed, mulberry32 } from '../../pipeline/seeded-random.ts';
import { IGNORE_INDEX } from './sequence-scores.ts';

/** A token dataset split's arrays, row-major [rows * L]. */
export interface TokenRows {
  rows: number;
  /** Context length L. */
  L: number;
  inputIds: Int32Array;
  attentionMask: Uint8Array;
  /** Token classification labels (-100 = no target); absent for causal LM. */
  labels?: Int32Array;
}

/** Perturbed rows and where each position came from. */
export interface PerturbedRows extends TokenRows {
  /** Position in the clean row, -1 for an inserted token or padding. */
  source: Int32Array;
  /** The clean id at `source` (-1 where source is -1): the next-token target for causal LM. */
  cleanIds: Int32Array;
  /** 1 where the id differs from the clean id at `source` (substituted in place). */
  changed: Uint8Array;
  /** Real tokens per row after the edit. */
  length: Int32Array;
}

/**
 * A perturbation; `rate` is per real token (per word for `split-word`, per letter whose gold class has
 * marks for `mark-tokens`), in [0, 1].
 */
export type TokenPerturbation =
  | { kind: 'substitute'; rate: number }
  | { kind: 'delete'; rate: number }
  | { kind: 'insert'; rate: number }
  | { kind: 'unseen'; rate: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'confusable'; rate: number; groups: readonly (readonly number[])[] }
  | { kind: 'normalise'; rate: number; map: ReadonlyMap<number, number> }
  | { kind: 'drop-space'; rate: number; space: number }
  | { kind: 'split-word'; rate: number; space: number }
  /** `marks[c]`: the input ids of class c's marks in input order ([] for a class without marks). */
  | { kind: 'mark-tokens'; rate: number; marks: readonly (readonly number[])[] };

export type TokenPerturbationKind = TokenPerturbation['kind'];

/** The vocabulary the perturbations draw from. */
export interface PerturbVocabulary {
  /** V; random tokens are drawn from [0, size) minus `reserved`. */
  size: number;
  /** Ids never drawn (pad, unk, specials). */
  reserved: readonly number[];
  /** The unknown-token id (`unseen` replaces tokens with it). */
  unk: number;
  /** The padding id. */
  pad: number;
}

interface Tok {
  id: number;
  src: number;
  changed: boolean;
  /** The clean label at `src` (-100 for an inserted token or without labels). */
  label: number;
}

type Edit = (toks: Tok[], rand: () => number, draw: () => number) => Tok[];

function checkRate(p: TokenPerturbation): void {
  const v = p.kind === 'truncate' ? p.keep : p.rate;
  if (!(v >= 0 && v <= 1)) throw new DataError(`token perturbation ${p.kind}: ${p.kind === 'truncate' ? 'keep' : 'rate'} must be in [0, 1], but got ${v}`);
}

function editFor(p: TokenPerturbation, vocab: PerturbVocabulary): Edit {
  const replace = (t: Tok, id: number): Tok => ({ ...t, id, changed: t.changed || id !== t.id });
  const inserted = (id: number): Tok => ({ id, src: -1, changed: true, label: IGNORE_INDEX });
  switch (p.kind) {
    case 'substitute':
      return (toks, rand, draw) => toks.map((t) => (rand() < p.rate ? replace(t, draw()) : t));
    case 'unseen':
      return (toks, rand) => toks.map((t) => (rand() < p.rate ? replace(t, vocab.unk) : t));
    case 'delete':
      return (toks, rand) => toks.filter(() => rand() >= p.rate);
    case 'insert':
      return (toks, rand, draw) => toks.flatMap((t) => (rand() < p.rate ? [inserted(draw()), t] : [t]));
    case 'truncate':
      return (toks) => toks.slice(0, Math.ceil(p.keep * toks.length));
    case 'confusable': {
      const groupOf = new Map<number, readonly number[]>();
      for (const g of p.groups) for (const id of g) groupOf.set(id, g);
      return (toks, rand) =>
        toks.map((t) => {
          const g = groupOf.get(t.id);
          if (!g || g.length < 2 || rand() >= p.rate) return t;
          const others = g.filter((id) => id !== t.id);
          return replace(t, others[Math.floor(rand() * others.length)]!);
        });
    }
    case 'normalise':
      return (toks, rand) => toks.map((t) => (p.map.has(t.id) && rand() < p.rate ? replace(t, p.map.get(t.id)!) : t));
    case 'drop-space':
      return (toks, rand) => toks.filter((t) => t.id !== p.space || rand() >= p.rate);
    case 'split-word':
      return (toks, rand) =>
        toks.flatMap((t, i) => {
          const inside = i > 0 && t.id !== p.space && toks[i - 1]!.id !== p.space;
          return inside && rand() < p.rate ? [inserted(p.space), t] : [t];
        });
    case 'mark-tokens':
      return (toks, rand) =>
        toks.flatMap((t) => {
          const marks = t.label >= 0 ? (p.marks[t.label] ?? []) : [];
          return marks.length > 0 && rand() < p.rate ? [t, ...marks.map(inserted)] : [t];
        });
  }
}

/**
 * Applies `p` to every row of `data`, seeded by (seed, kind, row).
 * @throws DataError on a rate outside [0, 1] or arrays that are not rows * L.
 */
export function perturbTokens(data: TokenRows, p: TokenPerturbation, vocab: PerturbVocabulary, seed: number): PerturbedRows {
  checkRate(p);
  const { rows, L } = data;
  const n = rows * L;
  if (data.inputIds.length !== n || data.attentionMask.length !== n || (data.labels && data.labels.length !== n)) {
    throw new DataError(`token perturbation: input_ids, attention_mask and labels must each hold rows * L = ${rows} * ${L} values`);
  }
  if (p.kind === 'mark-tokens' && !data.labels) throw new DataError('token perturbation mark-tokens: the rows have no labels (the marks it inserts are those of the gold classes)');
  const reserved = new Set(vocab.reserved);
  const pool = Array.from({ length: vocab.size }, (_, i) => i).filter((i) => !reserved.has(i));
  const edit = editFor(p, vocab);
  const out: PerturbedRows = {
    rows,
    L,
    inputIds: new Int32Array(n).fill(vocab.pad),
    attentionMask: new Uint8Array(n),
    ...(data.labels ? { labels: new Int32Array(n).fill(IGNORE_INDEX) } : {}),
    source: new Int32Array(n).fill(-1),
    cleanIds: new Int32Array(n).fill(-1),
    changed: new Uint8Array(n),
    length: new Int32Array(rows),
  };
  for (let r = 0; r < rows; r++) {
    const o = r * L;
    const rand = mulberry32(deriveSeed(seed, 'tokens', p.kind, r));
    const draw = (): number => pool[Math.floor(rand() * pool.length)]!;
    const clean: Tok[] = [];
    for (let t = 0; t < L; t++) if (data.attentionMask[o + t] === 1) clean.push({ id: data.inputIds[o + t]!, src: t, changed: false, label: data.labels ? data.labels[o + t]! : IGNORE_INDEX });
    const toks = edit(clean, rand, draw).slice(0, L);
    out.length[r] = toks.length;
    toks.forEach((tok, t) => {
      out.inputIds[o + t] = tok.id;
      out.attentionMask[o + t] = 1;
      out.source[o + t] = tok.src;
      out.changed[o + t] = tok.changed ? 1 : 0;
      if (tok.src >= 0) out.cleanIds[o + t] = data.inputIds[o + tok.src]!;
      if (out.labels && data.labels && tok.src >= 0) out.labels[o + t] = data.labels[o + tok.src]!;
    });
  }
  return out;
}

/**
 * Next-token labels of perturbed rows for a causal LM ([rows * (L - 1)], -100 = no target): position
 * t predicts the clean id of the token at t + 1, and only where that token came from the clean row
 * (not inserted); a token substituted in place is asked for as it was before the edit.
 */
export function causalLabelsAfterPerturbation(p: PerturbedRows): Int32Array {
  const P = p.L - 1;
  const out = new Int32Array(p.rows * P).fill(IGNORE_INDEX);
  for (let r = 0; r < p.rows; r++) {
    for (let t = 0; t < P; t++) {
      const next = r * p.L + t + 1;
      if (p.attentionMask[next] === 1 && p.source[next]! >= 0) out[r * P + t] = p.cleanIds[next]!;
    }
  }
  return out;
}
