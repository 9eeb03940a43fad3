/**
 * Throughput of the text -> token dataset path against the bare tokenizer call, on ~10 MB of
 * deterministic generated English-like text (hand-made word list, seeded; no corpus text): per
 * tokenizer (the lm-brown BPE tokenizer.json through @huggingface/tokenizers, and the built-in char
 * vocabulary), (a) the bare `encode` over every document, (b) the stage's work in memory:
 * windowDocuments (encode + windows of 128, stride 128) and tokenTable (the padded Arrow columns),
 * without Parquet encoding or disk. REPEATS (odd) rounds, the two in alternating order; median (min-max).
 * Each timed section ends with a full garbage collection, so it pays for the garbage it made and none
 * of it lands in the next section's time (without this, the bare pass after a stage pass collected the
 * stage's rows and tables). Wall time and CPU time (user + system of this process, GC threads included;
 * the figure that means something on a loaded shared machine) are both reported.
 *
 * Run: node --import tsx test/bench/data-text.bench.ts [--mb 10] [--repeats 3] [--only bpe|char]
 */
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** Wall and CPU seconds of f() followed by a full GC. */
function timeIt(f: () => void): { s: number; cpu: number } {
  fullGc();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  fullGc();
  const c = process.cpuUsage(c0);
  return { s: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

async function main(): Promise<void> {
  const mb = argValue('--mb', 10);
  const repeats = checkOddRepeat(argValue('--repeats', 3));
  const docs = generate(mb);
  const bytes = docs.reduce((s, d) => s + Buffer.byteLength(d.text), 0);
  const index = new Map(docs.map((d, i) => [d.id, i]));
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  if (only !== undefined && only !== 'bpe' && only !== 'char') throw new RangeError(`--only must be bpe or char, but got ${only}`);
  const tokenizers: [string, TextTokenizer][] = [
    ...(only !== 'char' ? [['bpe (lm-brown tokenizer.json)', await loadHfTokenizer(join(projectRoot, 'artifacts/teachers/lm-brown/tokenizer.json'))] as [string, TextTokenizer]] : []),
    ...(only !== 'bpe' ? [['char (built-in)', buildCharTokenizer(docs.slice(0, 50).map((d) => d.text))] as [string, TextTokenizer]] : []),
  ];
  console.log(`# data-text bench: ${docs.length} documents, ${(bytes / 1e6).toFixed(1)} MB, ${repeats} repeats, loadavg at start ${loadavg()[0]!.toFixed(1)}`);
  for (const [name, tok] of tokenizers) {
    const bare: { s: number; cpu: number }[] = [];
    const stage: { s: number; cpu: number }[] = [];
    let rows = 0;
    const runBare = (): void => {
      bare.push(timeIt(() => docs.reduce((s, d) => s + tok.encode(d.text).length, 0)));
    };
    const runStage = (): void => {
      stage.push(
        timeIt(() => {
          const out: TokenRow[] = windowDocuments(docs, tok, { context: 128, stride: 128, minTokens: 2 }, index);
          for (let i = 0; i < out.length; i += 10000) tokenTable(out.slice(i, i + 10000), i, 128);
          rows = out.length;
        }),
      );
    };
    for (let k = 0; k < repeats; k++) {
      if (k % 2 === 0) {
        runBare();
        runStage();
      } else {
        runStage();
        runBare();
      }
    }
    const mbps = (ss: { s: number }[]) => spread(ss.map((t) => bytes / 1e6 / t.s));
    const ratio = (key: 's' | 'cpu') => spread(bare.map((b, i) => b[key] / stage[i]![key]));
    console.log(
      `${name}: bare encode ${formatSpread(mbps(bare), 2)} MB/s; encode+window+table ${formatSpread(mbps(stage), 2)} MB/s, ` +
        `${formatSpread(spread(stage.map((t) => rows / t.s)))} rows/s (${rows} rows); stage/bare wall ${formatSpread(ratio('s'), 2)}, CPU ${formatSpread(ratio('cpu'), 2)} ` +
        `(CPU s bare ${formatSpread(spread(bare.map((t) => t.cpu)), 2)}, stage ${formatSpread(spread(stage.map((t) => t.cpu)), 2)})`,
    );
  }
  console.log(`loadavg at end ${loadavg()[0]!.toFixed(1)}`);
}

await main();
