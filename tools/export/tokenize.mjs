// @module tools/export/tokenize
// Tokenizes strings with the same library the runtime uses (@huggingface/tokenizers), so that the exporter's
// stored prefix-cache token ids are exactly what the TypeScript side would produce.
// Usage: node tools/export/tokenize.mjs <tokenizer.json>  (stdin: JSON array of strings; stdout: JSON array of id arrays)
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

const [, , tokenizerPath] = process.argv;
if (!tokenizerPath) {
  process.stderr.write('usage: node tokenize.mjs <tokenizer.json> < strings.json\n');
  process.exit(2);
}
const tokenizer = new Tokenizer(JSON.parse(readFileSync(tokenizerPath, 'utf8')), {});
const texts = JSON.parse(readFileSync(0, 'utf8'));
const ids = texts.map((t) => tokenizer.encode(t, { add_special_tokens: false }).ids);
process.stdout.write(JSON.stringify(ids));
