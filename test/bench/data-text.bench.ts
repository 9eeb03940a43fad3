/**
 * Throughput of the text -> token dataset path against the bare tokenizer call, on ~10 MB of
 * deterministic generated English-like text (hand-made word list, seeded; no corpus text): per
 * tokenizer (the lm-brown BPE tokenizer.json through @huggingface/tokenizers, and the built-in char
 * vocabulary), (a) the bare `encode` over every document, (b) the stage's work in memory:
 * windowDocuments (encode + windows of 128, stride 128) and tokenTable (the padded Arrow columns),
 * without Parquet encoding or disk. REPEATS (odd) alternating rounds; median (min-max).
 *
 * Run: node --import tsx test/bench/data-text.bench.ts [--mb 10] [--repeats 3]
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadHfTokenizer, buildCharTokenizer } from '../../pipeline/dataset/text-tokenizer.ts';
import type { TextTokenizer } from '../../pipeline/dataset/text-tokenizer.ts';
import { tokenTable } from '../../pipeline/dataset/token-table.ts';
import type { TokenRow } from '../../pipeline/dataset/token-table.ts';
import { windowDocuments } from '../../pipeline/dataset/window-documents.ts';
import type { TextDocument } from '../../pipeline/dataset/split-documents.ts';
import { projectRoot } from '../../pipeline/provenance.ts';
import { mulberry32 } from '../../pipeline/seeded-random.ts';
import { checkOddRepeat, formatSpread, spread } from './spread.ts';

const WORDS = ('the a of and to in is was for on that with as by at from his her it he she they we you this which ' +
  'cat dog mat sat ran far away small large river garden morning evening letter window table market teacher ' +
  'student number question answer simple careful quickly slowly never always because although however ' +
  'said found made took gave looked walked thought wondered remembered 1961 42 3.5').split(' ');

function argValue(flag: string, fallback: number): number {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Documents of ~5,000 characters of seeded word sequences, with sentences and punctuation. */
function generate(mb: number): TextDocument[] {
  const r = mulberry32(20261201);
  const docs: TextDocument[] = [];
  let total = 0;
  while (total < mb * 1e6) {
    const parts: string[] = [];
    let len = 0;
    while (len < 5000) {
      const n = 5 + Math.floor(r() * 15);
      const s = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]!).join(' ');
      const sentence = s[0]!.toUpperCase() + s.slice(1) + (r() < 0.2 ? ' ,' : '') + ' .';
      parts.push(sentence);
      len += sentence.length + 1;
    }
    const text = parts.join(' ');
    docs.push({ id: `g${docs.length}`, text, where: 'generated', slices: {} });
    total += Buffer.byteLength(text);
  }
  return docs;
}

function timeIt(f: () => number): { s: number; count: number } {
  const t0 = performance.now();
  const count = f();
  return { s: (performance.now() - t0) / 1000, count };
}

async function main(): Promise<void> {
  const mb = argValue('--mb', 10);
  const repeats = checkOddRepeat(argValue('--repeats', 3));
  const docs = generate(mb);
  const bytes = docs.reduce((s, d) => s + Buffer.byteLength(d.text), 0);
  const index = new Map(docs.map((d, i) => [d.id, i]));
  const tokenizers: [string, TextTokenizer][] = [
    ['bpe (lm-brown tokenizer.json)', await loadHfTokenizer(join(projectRoot, 'artifacts/teachers/lm-brown/tokenizer.json'))],
    ['char (built-in)', buildCharTokenizer(docs.slice(0, 50).map((d) => d.text))],
  ];
  console.log(`# data-text bench: ${docs.length} documents, ${(bytes / 1e6).toFixed(1)} MB, ${repeats} repeats, loadavg at start ${loadavg()[0]!.toFixed(1)}`);
  for (const [name, tok] of tokenizers) {
    const bare: number[] = [];
    const stage: number[] = [];
    let rows = 0;
    for (let k = 0; k < repeats; k++) {
      bare.push(timeIt(() => docs.reduce((s, d) => s + tok.encode(d.text).length, 0)).s);
      stage.push(
        timeIt(() => {
          const out: TokenRow[] = windowDocuments(docs, tok, { context: 128, stride: 128, minTokens: 2 }, index);
          for (let i = 0; i < out.length; i += 10000) tokenTable(out.slice(i, i + 10000), i, 128);
          rows = out.length;
          return rows;
        }).s,
      );
    }
    const mbps = (ss: number[]) => spread(ss.map((s) => bytes / 1e6 / s));
    const ratio = spread(bare.map((b, i) => b / stage[i]!));
    console.log(
      `${name}: bare encode ${formatSpread(mbps(bare), 2)} MB/s; encode+window+table ${formatSpread(mbps(stage), 2)} MB/s, ` +
        `${formatSpread(spread(stage.map((s) => rows / s)))} rows/s (${rows} rows); stage/bare ${formatSpread(ratio, 2)}`,
    );
  }
  console.log(`loadavg at end ${loadavg()[0]!.toFixed(1)}`);
}

await main();
