// Checks that @huggingface/tokenizers (JS) gives the same ids as Python `tokenizers` for tokenizer.json:
// the committed hand-made fixture, plus optional extra cases files ({"cases": [{"text", "ids"}]}).
//   node artifacts/teachers/lm-brown/check_tokenizer.mjs [extra-cases.json ...]
// Needs `@huggingface/tokenizers` resolvable from this file (a project dependency or `npm i --no-save`).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';

const dir = process.env.LM_BROWN_DIR ?? dirname(fileURLToPath(import.meta.url));
const bytes = readFileSync(join(dir, 'tokenizer.json'));
const sha = createHash('sha256').update(bytes).digest('hex');
const fixture = JSON.parse(readFileSync(join(dir, 'tokenizer-fixture.json'), 'utf8'));
const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8'));
let failures = 0;
const fail = (msg) => { failures += 1; console.error(`FAIL ${msg}`); };
if (fixture.tokenizerSha256 !== sha) fail(`fixture tokenizerSha256 ${fixture.tokenizerSha256} != ${sha}`);
if (card.tokenizer.sha256 !== sha) fail(`card tokenizer.sha256 ${card.tokenizer.sha256} != ${sha}`);
const tokenizer = new Tokenizer(JSON.parse(bytes.toString('utf8')), {});
const files = [join(dir, 'tokenizer-fixture.json'), ...process.argv.slice(2)];
let cases = 0;
let tokens = 0;
for (const file of files) {
  for (const [i, c] of JSON.parse(readFileSync(file, 'utf8')).cases.entries()) {
    const ids = tokenizer.encode(c.text, { add_special_tokens: false }).ids.map(Number);
    cases += 1;
    tokens += ids.length;
    const at = ids.findIndex((id, k) => id !== c.ids[k]);
    if (ids.length !== c.ids.length || at >= 0) {
      fail(`${file} case ${i}: ${ids.length} JS ids vs ${c.ids.length} Python ids, first difference at ${at}`);
    } else if (ids.length > 0 && tokenizer.decode(ids, { clean_up_tokenization_spaces: false }) !== c.text) {
      fail(`${file} case ${i}: decode(ids) does not give the text back`);
    }
  }
}
console.log(`tokenizer ${sha}: ${cases} cases, ${tokens} tokens, ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
