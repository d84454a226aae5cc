import { ModelError } from "./errors.js";

/** The successors of one context, most frequent first (ties: lower id first). */
export interface Candidates {
  readonly ids: Uint16Array;
  readonly counts: Uint32Array;
  /** Sum of `counts`. */
  readonly total: number;
}

/** The parsed `peer-tiny` weights: a trigram model with backoff to bigrams and unigrams. */
export interface PeerTinyWeights {
  /** Token strings by id; id 0 is the empty end-of-paragraph token. */
  readonly vocabulary: readonly string[];
  readonly idOf: ReadonlyMap<string, number>;
  readonly unigrams: Candidates;
  /** By previous id. */
  readonly bigrams: ReadonlyMap<number, Candidates>;
  /** By `idTwoBack * vocabulary.length + previousId`. */
  readonly trigrams: ReadonlyMap<number, Candidates>;
  readonly trainingTokens: number;
}

const HEADER_LENGTH = 32;
const MAGIC = [0x50, 0x54, 0x4e, 0x59]; // "PTNY"

function invalidWeights(message: string, offset: number): ModelError {
  return new ModelError("model_weights_invalid", `peer-tiny weights: ${message}`, { details: { offset } });
}

/**
 * Parses a `peer-tiny` weights file (format version 1, described in scripts/train-peer-tiny.mjs).
 * Every length is checked before it is read; any defect is a `model_weights_invalid` {@link ModelError},
 * never a partial model.
 */
export function parsePeerTinyWeights(bytes: Uint8Array): PeerTinyWeights {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const need = (length: number, what: string): void => {
    if (offset + length > bytes.length) throw invalidWeights(`truncated in ${what}`, offset);
  };
  const u16 = (): number => {
    const value = view.getUint16(offset, true);
    offset += 2;
    return value;
  };
  const u32 = (): number => {
    const value = view.getUint32(offset, true);
    offset += 4;
    return value;
  };
  need(HEADER_LENGTH, "header");
  if (!MAGIC.every((byte, index) => bytes[index] === byte)) throw invalidWeights("bad magic", 0);
  offset = 4;
  const version = u16();
  const order = u16();
  if (version !== 1) throw invalidWeights(`unsupported version ${version}`, 4);
  if (order !== 3) throw invalidWeights(`unsupported order ${order}`, 6);
  const size = u32();
  const bigramCount = u32();
  const trigramCount = u32();
  const trainingTokens = u32();
  for (let i = 24; i < HEADER_LENGTH; i++) {
    if (bytes[i] !== 0) throw invalidWeights("reserved header bytes are not zero", i);
  }
  if (size < 2 || size > 0xffff) throw invalidWeights(`vocabulary size ${size} out of range`, 8);
  offset = HEADER_LENGTH;

  const decoder = new TextDecoder("utf-8", { fatal: true });
  const vocabulary: string[] = [];
  const idOf = new Map<string, number>();
  for (let id = 0; id < size; id++) {
    need(1, "vocabulary");
    const length = bytes[offset++] ?? 0;
    need(length, "vocabulary");
    let word: string;
    try {
      word = decoder.decode(bytes.subarray(offset, offset + length));
    } catch (cause) {
      throw invalidWeights(`token ${id} is not UTF-8 (${String(cause)})`, offset);
    }
    if ((id === 0) !== (length === 0) || idOf.has(word)) {
      throw invalidWeights(`token ${id} is empty or repeated`, offset);
    }
    offset += length;
    vocabulary.push(word);
    idOf.set(word, id);
  }

  need(size * 4, "unigrams");
  const unigramCounts: number[] = [];
  for (let id = 0; id < size; id++) unigramCounts.push(u32());
  const order_ = unigramCounts
    .map((_, id) => id)
    .sort((a, b) => unigramCounts[b]! - unigramCounts[a]! || a - b);
  const unigrams = candidates(
    order_.filter((id) => unigramCounts[id]! > 0),
    order_.filter((id) => unigramCounts[id]! > 0).map((id) => unigramCounts[id]!),
  );

  const readSuccessors = (what: string): Candidates => {
    need(2, what);
    const n = u16();
    if (n === 0) throw invalidWeights(`empty ${what} context`, offset - 2);
    need(n * 6, what);
    const ids: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = u16();
      const count = u32();
      if (id >= size || count === 0) throw invalidWeights(`bad ${what} successor`, offset - 6);
      const previous = counts[i - 1];
      if (previous !== undefined && (count > previous || (count === previous && id <= ids[i - 1]!))) {
        throw invalidWeights(`${what} successors out of order`, offset - 6);
      }
      ids.push(id);
      counts.push(count);
    }
    return candidates(ids, counts);
  };
  const bigrams = new Map<number, Candidates>();
  for (let i = 0; i < bigramCount; i++) {
    need(2, "bigrams");
    const previous = u16();
    if (previous >= size || bigrams.has(previous)) throw invalidWeights("bad bigram context", offset - 2);
    bigrams.set(previous, readSuccessors("bigram"));
  }
  const trigrams = new Map<number, Candidates>();
  for (let i = 0; i < trigramCount; i++) {
    need(4, "trigrams");
    const twoBack = u16();
    const previous = u16();
    const key = twoBack * size + previous;
    if (twoBack >= size || previous >= size || trigrams.has(key)) {
      throw invalidWeights("bad trigram context", offset - 4);
    }
    trigrams.set(key, readSuccessors("trigram"));
  }
  if (offset !== bytes.length) throw invalidWeights(`${bytes.length - offset} trailing bytes`, offset);
  return { vocabulary, idOf, unigrams, bigrams, trigrams, trainingTokens };
}

function candidates(ids: readonly number[], counts: readonly number[]): Candidates {
  let total = 0;
  for (const count of counts) total += count;
  return { ids: Uint16Array.from(ids), counts: Uint32Array.from(counts), total };
}
