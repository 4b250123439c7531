// Oracle for dllm/tokenizer: encodes a corpus with the Hugging Face
// tokenizers library (Rust, npm tokenizers@0.23.2) on a tokenizer.json and
// writes one JSON line {"text":…,"ids":[…]} per document. Also measures the
// library's encode speed on an English text. Driven by tokenizer-oracle.sh.
//
// usage: node tokenizer-oracle.mjs --modules DIR --tokenizer FILE --out FILE
//        [--also NAME=TOKENIZER_JSON=OUT,...] [--bench-text FILE]
//        [--golden FILE] [--pretok-golden FILE] [--micro FILE --added-golden FILE]
//        [--min-bytes N] [--goroot DIR]
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createRequire } from "node:module";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const require = createRequire(path.join(args.modules, "noop.js"));
const { Tokenizer } = require("tokenizers");
const tok = Tokenizer.fromFile(args.tokenizer);
const minBytes = Number(args["min-bytes"] || 1 << 20);

// Deterministic PRNG (mulberry32) for the synthetic strings.
let seed = 20261126;
function rnd() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];

const docs = []; // {kind, text}
const add = (kind, text) => { if (text.length > 0) docs.push({ kind, text }); };

// 1. Debian fortunes: English and Chinese (and whatever else is installed).
const fdir = "/usr/share/games/fortunes";
if (fs.existsSync(fdir)) {
  for (const name of fs.readdirSync(fdir).sort()) {
    const p = path.join(fdir, name);
    if (name.includes(".") || !fs.statSync(p).isFile()) continue;
    const buf = fs.readFileSync(p);
    const text = new TextDecoder("utf-8", { fatal: false }).decode(buf);
    const kind = ["chinese", "tang300", "song100"].includes(name) ? "zh" : "en";
    for (const entry of text.split(/\n%\n/)) add(kind, entry);
  }
}

// 2. Go source code from the toolchain.
const goroot = args.goroot;
if (goroot) {
  for (const dir of ["strings", "bufio", "unicode/utf8", "encoding/json", "net/http"]) {
    const d = path.join(goroot, "src", dir);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort()) if (f.endsWith(".go")) add("code", fs.readFileSync(path.join(d, f), "utf8"));
  }
}

// 3. Synthetic strings with the characters pre-tokenizers disagree on.
const atoms = [
  "the", "The", " quick", "brown", "fox", "I'm", "you'RE", "it's", "WE'LL", "they've", "'d", "'S", "'ſ",
  " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u00a0", "\u3000", "\u2028", "\u0085", "\u000b", "\f",
  "0", "12", "345", "2026-11-26", "3.14159", "١٢٣", "½", "Ⅻ", "①",
  "中文", "日本語のテキスト", "한국어", "漢字かな交じり文", "，", "。", "「", "」",
  "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇩🇪", "❤️", "🏳️‍🌈",
  "é", "e\u0301", "ñ", "Straße", "Ωμέγα", "Привет", "مرحبا", "שלום", "हिन्दी", "ไทย",
  "(", ")", "{", "}", "[", "]", "!=", "==", "->", "=>", "::", "...", "—", "–", "“", "”", "«", "»", "#", "$", "%", "&&", "||", "/*", "*/", "//",
  "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "<|endoftext", "<|im_start|", "<",
  "\u200b", "\u200d", "\ufeff", "\u0000", "\u0001", "\u001b[31m", "\u007f",
];
for (let i = 0; i < 4000; i++) {
  let s = "";
  const n = 1 + Math.floor(rnd() * 24);
  for (let j = 0; j < n; j++) s += pick(atoms);
  add("synthetic", s);
}
const snippets = [
  "func main() {\n\tfmt.Println(\"hello, world\")\n}\n",
  "def f(x):\n    return x ** 2  # square\n\n\nprint(f(3))\n",
  "for (int i = 0; i < n; ++i) {\r\n    sum += a[i] * b[i];\r\n}\r\n",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
  "{\"ids\": [1, 2, 3], \"ok\": true, \"name\": \"π ≈ 3.14\"}",
  "    \n\t\t  \n        indented\n",
  "https://example.com/path?q=a+b&x=%20#frag",
  "user@example.org wrote: >>> quoted <<<",
];
for (const s of snippets) for (let k = 1; k <= 3; k++) add("code", s.repeat(k));

// Reach the size target by repeating the prose documents in new groupings.
let total = docs.reduce((a, d) => a + Buffer.byteLength(d.text), 0);
const prose = docs.filter((d) => d.kind === "en" || d.kind === "zh");
for (let i = 0; total < minBytes && prose.length > 0; i++) {
  const text = prose[i % prose.length].text + "\n" + pick(prose).text;
  add("mixed", text);
  total += Buffer.byteLength(text);
}

// Encode everything.
const lines = [];
let tokens = 0;
for (const d of docs) {
  const enc = await tok.encode(d.text);
  const ids = enc.getIds();
  tokens += ids.length;
  lines.push(JSON.stringify({ kind: d.kind, text: d.text, ids }));
}
fs.writeFileSync(args.out, lines.join("\n") + "\n");
console.log(`oracle: ${docs.length} documents, ${total} bytes, ${tokens} tokens -> ${args.out}`);

// The same corpus through other tokenizers: --also NAME=TOKENIZER_JSON=OUT,...
// (e.g. the micro LLaDA2 tokenizer for the Ling pattern, Llama-3 for
// "left right" merges, ignore_merges and \p{N}{1,3}).
for (const spec of (args.also || "").split(",").filter(Boolean)) {
  const [name, file, out] = spec.split("=");
  const t = Tokenizer.fromFile(file);
  const ls = [];
  let n = 0;
  for (const d of docs) {
    const ids = (await t.encode(d.text, null, { addSpecialTokens: false })).getIds();
    n += ids.length;
    ls.push(JSON.stringify({ kind: d.kind, text: d.text, ids }));
  }
  fs.writeFileSync(out, ls.join("\n") + "\n");
  console.log(`oracle ${name}: ${docs.length} documents, ${n} tokens -> ${out}`);
}

// A small golden subset to commit: a few hundred varied documents.
if (args.golden) {
  const byKind = {};
  lines.forEach((l, i) => {
    const d = docs[i];
    if (Buffer.byteLength(d.text) > 600 || d.kind === "mixed") return;
    (byKind[d.kind] ||= []).push(l);
  });
  const want = { en: 150, zh: 80, code: 40, synthetic: 250 };
  const out = [];
  for (const [k, n] of Object.entries(want)) {
    const a = byKind[k] || [];
    const step = Math.max(1, Math.floor(a.length / n));
    for (let i = 0; i < a.length && out.length < 1e6 && i / step < n; i += step) out.push(a[i]);
  }
  fs.writeFileSync(args.golden, zlib.gzipSync(out.join("\n") + "\n", { level: 9 }));
  console.log(`golden: ${out.length} documents -> ${args.golden}`);
}

// Pre-tokenizer goldens for every split pattern the Go code recognises: the
// library's own pre-tokenizer (Split + ByteLevel, or ByteLevel with its
// built-in GPT-2 regex) on synthetic strings.
if (args["pretok-golden"]) {
  const patterns = {
    ling: String.raw`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`,
    cl100k: String.raw`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`,
    llama3: String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
    qwen2: String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  };
  const base = JSON.parse(fs.readFileSync(args.tokenizer, "utf8"));
  const pts = {};
  for (const [name, re] of Object.entries(patterns)) {
    pts[name] = { type: "Sequence", pretokenizers: [
      { type: "Split", pattern: { Regex: re }, behavior: "Isolated", invert: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false }] };
  }
  pts.gpt2 = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true };
  const splitters = {};
  for (const [name, pt] of Object.entries(pts)) {
    splitters[name] = Tokenizer.fromString(JSON.stringify({ ...base, normalizer: null, pre_tokenizer: pt })).getPreTokenizer();
  }
  const texts = docs.filter((d) => d.kind === "synthetic").slice(0, 600).map((d) => d.text);
  texts.push(...snippets);
  const cases = texts.map((text) => {
    const pieces = {};
    for (const [name, sp] of Object.entries(splitters)) pieces[name] = sp.preTokenizeString(text).map((p) => p[0]);
    return { text, pieces };
  });
  const out = { source: "npm tokenizers@0.23.2 preTokenizeString", pre_tokenizers: pts, cases };
  fs.writeFileSync(args["pretok-golden"], zlib.gzipSync(JSON.stringify(out), { level: 9 }));
  console.log(`pre-tokenizer golden: ${cases.length} strings x ${Object.keys(pts).length} patterns -> ${args["pretok-golden"]}`);
}

// Added-token flags (lstrip, rstrip, single_word, normalized, non-special)
// on the micro LLaDA2 tokenizer with modified added_tokens.
if (args["added-golden"]) {
  const micro = JSON.parse(fs.readFileSync(args.micro, "utf8"));
  const flags = {
    "<|mask|>": { lstrip: true, rstrip: true },
    "<role>": { single_word: true },
    "</role>": { lstrip: true },
    "<|role_end|>": { rstrip: true, special: false },
  };
  for (const t of micro.added_tokens) Object.assign(t, flags[t.content] || {});
  micro.added_tokens.push({ id: 1024, content: "hello world", single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
  micro.added_tokens.push({ id: 1025, content: "<rol", single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
  micro.normalizer = { type: "NFC" };
  const tk = Tokenizer.fromString(JSON.stringify(micro));
  const texts = [
    "a <|mask|> b", "a<|mask|>b", "  <|mask|>  ", "x\t<|mask|>\n\ny", "<|mask|> <|mask|>  <|mask|>",
    "<role>HUMAN</role>", "x<role>y", "x <role> y", "_<role>", "<role>_", "é<role>", "1<role>", "<role>.", "(<role>)",
    "a </role>", "a\u3000</role>b", "<role> </role>", "a<|role_end|>  b", "<|role_end|>\n\nx", "say hello world now",
    "hello worldhello world", "<|mask|></role><role><|role_end|>", " hello world ", "cafe\u0301 hello world",
    "x<role>y <rol", "a<rol b", "<role>HUMAN<role> <rol>",
  ];
  const cases = [];
  for (const text of texts) {
    const ids = (await tk.encode(text)).getIds();
    cases.push({ text, ids, decoded: await tk.decode(ids, false), decoded_skip_special: await tk.decode(ids, true) });
  }
  fs.writeFileSync(args["added-golden"], JSON.stringify({ source: "npm tokenizers@0.23.2", tokenizer: micro, cases }));
  console.log(`added-token golden: ${cases.length} strings -> ${args["added-golden"]}`);
}

// Encode speed of the library on the benchmark text (single encode calls).
if (args["bench-text"]) {
  let text = fs.readFileSync(args["bench-text"]);
  if (args["bench-text"].endsWith(".gz")) text = zlib.gunzipSync(text);
  text = text.toString("utf8");
  const bytes = Buffer.byteLength(text);
  const paras = text.split("\n\n");
  const runs = {
    "whole text, one encode call": async () => { await tok.encode(text); },
    "one encode call per paragraph": async () => { for (const p of paras) await tok.encode(p); },
  };
  for (const [name, run] of Object.entries(runs)) {
    await run(); // warm up (fills the word cache, as the Go benchmark does)
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let n = 0;
    while (process.hrtime.bigint() - t0 < 3_000_000_000n || n < 3) { await run(); n++; }
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    console.log(`hf-tokenizers encode (${name}): ${n} x ${bytes} bytes in ${sec.toFixed(3)} s = ` +
      `${(n * bytes / sec / 1e6).toFixed(2)} MB/s wall, ${(n * bytes / cpu / 1e6).toFixed(2)} MB/s per CPU-second`);
  }
}
