import { unsafe } from "@noble/ciphers/aes.js";
import { equalBytes } from "./bytes.js";

/**
 * AES-GCM with the key schedule and the GHASH table computed once per key.
 *
 * Why this exists: HPKE seals many short messages under one key (one per streamed token). WebCrypto
 * pays a thread-pool round trip per call (~30-60 µs on Node), and @noble/ciphers' `gcm()` rebuilds
 * the AES key schedule and its GHASH tables on every call (~30 µs for 20 bytes). Here both are built
 * once per key, so a 20-byte chunk costs a few microseconds. The AES rounds are @noble/ciphers' own
 * (`unsafe.expandKeyLE` / `unsafe.ctr32`); GHASH is the classic 4-bit table method (Shoup; as in
 * OpenSSL's `gcm_gmult_4bit`). The output is byte-identical to WebCrypto and to noble's `gcm`, which
 * the tests check on random inputs.
 *
 * Like @noble/ciphers' AES, this is table-based and not hardened against cache-timing attacks by a
 * co-located attacker; see the README's threat model.
 */

/** OpenSSL's rem_4bit: the reduction of the four bits shifted out, as the top 16 bits of the high word. */
const REM_4BIT = [
  0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0, 0xe100, 0xfd20, 0xd940, 0xc560, 0x9180,
  0x8da0, 0xa9c0, 0xb5e0,
].map((r) => (r << 16) >>> 0);

const ZERO_BLOCK = new Uint8Array(16);

function readWord(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Aligned copy when needed: noble's CTR helper reads and writes through Uint32Array views. */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
}

export class AesGcmSync {
  readonly #xk: Uint32Array;
  /** 16 multiples of H, four big-endian 32-bit words each. */
  readonly #table = new Uint32Array(64);
  // GHASH state.
  #y0 = 0;
  #y1 = 0;
  #y2 = 0;
  #y3 = 0;
  readonly #scratch = new Uint32Array(4);

  constructor(key: Uint8Array) {
    this.#xk = unsafe.expandKeyLE(key);
    const h = new Uint8Array(16);
    unsafe.encryptBlock(this.#xk, h);
    const t = this.#table;
    let v0 = readWord(h, 0);
    let v1 = readWord(h, 4);
    let v2 = readWord(h, 8);
    let v3 = readWord(h, 12);
    const put = (i: number) => {
      t[4 * i] = v0;
      t[4 * i + 1] = v1;
      t[4 * i + 2] = v2;
      t[4 * i + 3] = v3;
    };
    put(8);
    for (const i of [4, 2, 1]) {
      const carry = v3 & 1;
      v3 = ((v3 >>> 1) | (v2 << 31)) >>> 0;
      v2 = ((v2 >>> 1) | (v1 << 31)) >>> 0;
      v1 = ((v1 >>> 1) | (v0 << 31)) >>> 0;
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
      v0 >>>= 0;
      put(i);
    }
    for (const i of [2, 4, 8]) {
      for (let j = 1; j < i; j++) {
        for (let w = 0; w < 4; w++) t[4 * (i + j) + w] = (t[4 * i + w]! ^ t[4 * j + w]!) >>> 0;
      }
    }
  }

  /** Y = (Y xor X) · H for one block given as four big-endian words. */
  #block(x0: number, x1: number, x2: number, x3: number): void {
    const t = this.#table;
    const w = this.#scratch;
    w[0] = this.#y0 ^ x0;
    w[1] = this.#y1 ^ x1;
    w[2] = this.#y2 ^ x2;
    w[3] = this.#y3 ^ x3;
    // Byte 15 (the low byte of the last word) comes first, low nibble before high nibble.
    let o = 4 * (w[3]! & 0xf);
    let z0 = t[o]!;
    let z1 = t[o + 1]!;
    let z2 = t[o + 2]!;
    let z3 = t[o + 3]!;
    let rem = 0;
    for (let k = 1; k < 32; k++) {
      const word = w[3 - (k >>> 3)]!;
      const nibble = (word >>> (4 * (k & 7))) & 0xf;
      rem = z3 & 0xf;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ REM_4BIT[rem]!;
      o = 4 * nibble;
      z0 ^= t[o]!;
      z1 ^= t[o + 1]!;
      z2 ^= t[o + 2]!;
      z3 ^= t[o + 3]!;
    }
    this.#y0 = z0 >>> 0;
    this.#y1 = z1 >>> 0;
    this.#y2 = z2 >>> 0;
    this.#y3 = z3 >>> 0;
  }

  /** Absorbs `data` zero-padded to whole blocks. */
  #absorb(data: Uint8Array): void {
    const full = data.length - (data.length % 16);
    for (let i = 0; i < full; i += 16) {
      this.#block(readWord(data, i), readWord(data, i + 4), readWord(data, i + 8), readWord(data, i + 12));
    }
    if (full < data.length) {
      const last = new Uint8Array(16);
      last.set(data.subarray(full));
      this.#block(readWord(last, 0), readWord(last, 4), readWord(last, 8), readWord(last, 12));
    }
  }

  #tag(aad: Uint8Array, ciphertext: Uint8Array, mask: Uint8Array): Uint8Array {
    this.#y0 = this.#y1 = this.#y2 = this.#y3 = 0;
    this.#absorb(aad);
    this.#absorb(ciphertext);
    const aadBits = aad.length * 8;
    const ctBits = ciphertext.length * 8;
    this.#block(
      Math.floor(aadBits / 0x1_0000_0000) >>> 0,
      aadBits >>> 0,
      Math.floor(ctBits / 0x1_0000_0000) >>> 0,
      ctBits >>> 0,
    );
    const tag = new Uint8Array(16);
    const y = [this.#y0, this.#y1, this.#y2, this.#y3];
    for (let i = 0; i < 16; i++) tag[i] = ((y[i >>> 2]! >>> ((3 - (i & 3)) * 8)) & 0xff) ^ mask[i]!;
    return tag;
  }

  /** J0 = nonce || 0x00000001; returns E(J0) and leaves `counter` at inc32(J0) for the payload. */
  #start(nonce: Uint8Array): { counter: Uint8Array; mask: Uint8Array } {
    const counter = new Uint8Array(16);
    counter.set(nonce);
    counter[15] = 1;
    const mask = unsafe.ctr32(this.#xk, false, counter, ZERO_BLOCK);
    return { counter, mask };
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const { counter, mask } = this.#start(nonce);
    const out = new Uint8Array(plaintext.length + 16);
    const body = out.subarray(0, plaintext.length);
    if (plaintext.length > 0) unsafe.ctr32(this.#xk, false, counter, aligned(plaintext), body);
    out.set(this.#tag(aad, body, mask), plaintext.length);
    return out;
  }

  /** Plaintext, or undefined when the tag does not verify (checked before anything is decrypted). */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
    if (ciphertext.length < 16) return undefined;
    const { counter, mask } = this.#start(nonce);
    const body = ciphertext.subarray(0, ciphertext.length - 16);
    const tag = this.#tag(aad, body, mask);
    if (!equalBytes(tag, ciphertext.subarray(ciphertext.length - 16))) return undefined;
    if (body.length === 0) return new Uint8Array(0);
    return unsafe.ctr32(this.#xk, false, counter, aligned(body));
  }
}
