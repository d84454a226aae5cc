#!/usr/bin/env node
// Trains `peer-tiny`, the built-in model of the reference worker: a word-level trigram model with
// backoff to bigrams and unigrams, written as one compact binary file (packages/node/models/peer-tiny.bin).
//
//   node packages/node/scripts/train-peer-tiny.mjs [--corpus <file>] [--out <file>]
//       Trains from the committed corpus (default: models/corpus/peer-docs.txt) and writes the weights
//       (default: models/peer-tiny.bin). Deterministic: the same corpus gives the same bytes, always.
//   node packages/node/scripts/train-peer-tiny.mjs build-corpus <out.txt> <file.md>...
//       Rebuilds a corpus from Markdown files (code blocks and tables dropped, one paragraph a line).
//
// The tokenizer here is the one in src/model/tokenizer.ts (same pattern; a test checks they agree):
// a token is a run of letters/digits/underscore, or one other non-space character, each with the
// whitespace before it (normalised to one space in the vocabulary).
//
// File format, version 1 (all integers little-endian):
//   header (32 bytes): "PTNY", u16 version = 1, u16 order = 3, u32 vocabulary size V,
//     u32 bigram contexts B, u32 trigram contexts T, u32 training tokens, 8 zero bytes
//   vocabulary: V × (u8 byte length, UTF-8 bytes); id 0 is the empty end-of-paragraph token
//   unigrams: V × u32 count
//   bigrams: B × (u16 previous id, u16 n, n × (u16 next id, u32 count))
//   trigrams: T × (u16 id two back, u16 previous id, u16 n, n × (u16 next id, u32 count))
//   Contexts are sorted by id (then second id); successors by count descending, then id ascending.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const TOKEN_PATTERN = /\s*(?:[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_])|\s+/gu;

/** Splits text into tokens whose concatenation is the text. */
export function tokenize(text) {
  return text.match(TOKEN_PATTERN) ?? [];
}

/** The vocabulary form of a token: leading whitespace becomes one space. */
export function normalizeToken(piece) {
  return piece.replace(/^\s+/u, " ");
}

const encoder = new TextEncoder();

function compareStrings(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Trains the model from corpus text (one paragraph a line) and returns the weights file's bytes. */
export function train(corpus) {
  const paragraphs = corpus
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const sequences = [];
  const counts = new Map();
  for (const paragraph of paragraphs) {
    const tokens = tokenize(paragraph)
      .map(normalizeToken)
      .filter((token) => token.trim().length > 0 && encoder.encode(token).length <= 255);
    if (tokens.length === 0) continue;
    if (tokens[0]?.startsWith(" ")) tokens[0] = tokens[0].slice(1);
    sequences.push(tokens);
    for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  const words = [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a) || compareStrings(a, b));
  const vocabulary = ["", ...words];
  if (vocabulary.length > 0xffff) throw new Error("vocabulary too large for u16 ids");
  const id = new Map(vocabulary.map((word, index) => [word, index]));

  const unigrams = new Uint32Array(vocabulary.length);
  const bigrams = new Map(); // prev -> Map(next -> count)
  const trigrams = new Map(); // prev2 * V + prev -> Map(next -> count)
  const bump = (table, key, next) => {
    let row = table.get(key);
    if (!row) {
      row = new Map();
      table.set(key, row);
    }
    row.set(next, (row.get(next) ?? 0) + 1);
  };
  let trainingTokens = 0;
  for (const tokens of sequences) {
    const ids = [0, 0, ...tokens.map((token) => id.get(token)), 0];
    for (let i = 2; i < ids.length; i++) {
      const next = ids[i];
      unigrams[next] += 1;
      bump(bigrams, ids[i - 1], next);
      bump(trigrams, ids[i - 2] * vocabulary.length + ids[i - 1], next);
      trainingTokens += 1;
    }
  }

  const parts = [];
  const header = new DataView(new ArrayBuffer(32));
  header.setUint8(0, 0x50); // P
  header.setUint8(1, 0x54); // T
  header.setUint8(2, 0x4e); // N
  header.setUint8(3, 0x59); // Y
  header.setUint16(4, 1, true);
  header.setUint16(6, 3, true);
  header.setUint32(8, vocabulary.length, true);
  header.setUint32(12, bigrams.size, true);
  header.setUint32(16, trigrams.size, true);
  header.setUint32(20, trainingTokens, true);
  parts.push(new Uint8Array(header.buffer));
  for (const word of vocabulary) {
    const bytes = encoder.encode(word);
    parts.push(Uint8Array.of(bytes.length), bytes);
  }
  parts.push(new Uint8Array(unigrams.buffer));
  const successors = (row) => {
    const entries = [...row.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    if (entries.length > 0xffff) throw new Error("too many successors for u16");
    const view = new DataView(new ArrayBuffer(2 + entries.length * 6));
    view.setUint16(0, entries.length, true);
    entries.forEach(([next, count], index) => {
      view.setUint16(2 + index * 6, next, true);
      view.setUint32(4 + index * 6, count, true);
    });
    return new Uint8Array(view.buffer);
  };
  for (const key of [...bigrams.keys()].sort((a, b) => a - b)) {
    const context = new DataView(new ArrayBuffer(2));
    context.setUint16(0, key, true);
    parts.push(new Uint8Array(context.buffer), successors(bigrams.get(key)));
  }
  for (const key of [...trigrams.keys()].sort((a, b) => a - b)) {
    const context = new DataView(new ArrayBuffer(4));
    context.setUint16(0, Math.floor(key / vocabulary.length), true);
    context.setUint16(2, key % vocabulary.length, true);
    parts.push(new Uint8Array(context.buffer), successors(trigrams.get(key)));
  }
  const size = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Markdown to corpus text: prose paragraphs, one a line; code blocks, tables and HTML dropped. */
export function markdownToCorpus(markdown) {
  const paragraphs = [];
  let current = [];
  let inCode = false;
  const flush = () => {
    if (current.length > 0) paragraphs.push(current.join(" "));
    current = [];
  };
  for (const raw of markdown.replace(/\r\n?/g, "\n").split("\n")) {
    const line = raw.trim();
    if (line.startsWith("```") || line.startsWith("~~~")) {
      inCode = !inCode;
      flush();
      continue;
    }
    if (inCode) continue;
    if (line === "" || line.startsWith("|") || line.startsWith("<") || /^[-=*_]{3,}$/.test(line)) {
      flush();
      continue;
    }
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    const item = /^(?:[-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (heading || item) flush();
    const text = (heading?.[1] ?? item?.[1] ?? line)
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/[`*]/g, "")
      .replace(/^>\s?/, "")
      .trim();
    if (text) current.push(text);
    if (heading) flush();
  }
  flush();
  return paragraphs.map((paragraph) => paragraph.replace(/\s+/g, " ").trim()).filter(Boolean);
}

function main(argv) {
  const here = dirname(fileURLToPath(import.meta.url));
  const modelsDir = join(here, "..", "models");
  if (argv[0] === "build-corpus") {
    const [out, ...files] = argv.slice(1);
    if (!out || files.length === 0) throw new Error("usage: build-corpus <out.txt> <file.md>...");
    const lines = files.flatMap((file) => markdownToCorpus(readFileSync(file, "utf8")));
    writeFileSync(out, `${lines.join("\n")}\n`);
    console.log(`corpus: ${lines.length} paragraphs from ${files.length} files -> ${out}`);
    return;
  }
  let corpusPath = join(modelsDir, "corpus", "peer-docs.txt");
  let outPath = join(modelsDir, "peer-tiny.bin");
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${argv[i]}`);
    if (argv[i] === "--corpus") corpusPath = resolve(value);
    else if (argv[i] === "--out") outPath = resolve(value);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const bytes = train(readFileSync(corpusPath, "utf8"));
  writeFileSync(outPath, bytes);
  console.log(`peer-tiny: ${bytes.length} bytes -> ${outPath}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
