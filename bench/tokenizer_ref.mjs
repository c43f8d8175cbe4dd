#!/usr/bin/env node
// tokenizer_ref.mjs: the reference side of the tokenizer benchmark. Builds the
// benchmark text (the valid UTF-8 lines of tests/fixtures/tokenizer/corpus.jsonl
// joined by newlines, repeated to the requested size), writes it for
// bench_tokenizer.c, and times HF `tokenizers` (Rust, via @anush008/tokenizers)
// encoding it: as one string, line by line, and line by line with
// encodeBatch (which runs on all cores). Prints one JSON object.
// Not for: correctness tests (see tests/tokenizer/).
//
//   node bench/tokenizer_ref.mjs --model TOKENIZER.json --mb 5 --write-text /tmp/text.txt
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { availableParallelism } from "node:os";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "tests", "npm", "package.json"));
const { Tokenizer } = require("@anush008/tokenizers");

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const model = arg("--model");
const mb = Number(arg("--mb", "5"));
const out = arg("--write-text");
if (!model || !out) {
  console.error("usage: node bench/tokenizer_ref.mjs --model TOKENIZER.json [--mb 5] --write-text FILE");
  process.exit(2);
}

const lines = readFileSync(join(root, "tests/fixtures/tokenizer/corpus.jsonl"), "utf8").split("\n")
  .filter((l) => l.trim()).map((l) => JSON.parse(l)).filter((c) => c.text !== undefined && c.text.length > 0)
  .map((c) => c.text.replace(/\n/g, " "));
const unit = lines.join("\n") + "\n";
const reps = Math.max(1, Math.ceil((mb * 1e6) / Buffer.byteLength(unit)));
const text = unit.repeat(reps);
writeFileSync(out, text);
const docs = text.split("\n").filter((l) => l.length > 0);

// FNV-1a over the ids, to check both sides produce the same ids
const fnv = (ids) => {
  let h = 0x811c9dc5;
  for (const id of ids) {
    h ^= id & 0xffff;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= id >>> 16;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
};

const tok = Tokenizer.fromFile(model);
const opts = { addSpecialTokens: false };
const best = async (f, n) => {
  let t = Infinity, r;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    r = await f();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return [t, r];
};
await tok.encode(unit, null, opts); // warm up
const [tWhole, whole] = await best(() => tok.encode(text, null, opts), 2);
const wholeIds = whole.getIds();
const [tLines, nLines] = await best(async () => {
  let n = 0;
  for (const d of docs) n += (await tok.encode(d, null, opts)).getLength();
  return n;
}, 1);
const [tBatch, nBatch] = await best(async () => {
  let n = 0;
  for (let i = 0; i < docs.length; i += 1024)
    for (const e of await tok.encodeBatch(docs.slice(i, i + 1024), opts)) n += e.getLength();
  return n;
}, 1);
console.log(JSON.stringify({
  bytes: Buffer.byteLength(text), docs: docs.length, tokens: wholeIds.length, ids_fnv: fnv(wholeIds),
  whole_s: tWhole, lines_tokens: nLines, lines_s: tLines, batch_tokens: nBatch, batch_s: tBatch,
  cores: availableParallelism(),
}));
