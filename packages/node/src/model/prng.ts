/**
 * xoshiro128** (Blackman and Vigna, 2018), seeded through splitmix32 from the 64 bits of an integer
 * seed. All arithmetic is 32-bit integer arithmetic, so the stream is the same on every platform.
 *
 * @example
 * ```ts
 * const random = createPrng(42);
 * random.nextUint32(); // the same number for seed 42, always
 * ```
 */
export interface Prng {
  /** The next 32-bit unsigned integer. */
  nextUint32(): number;
  /** A float in [0, 1) with 53 random bits. */
  nextFloat(): number;
}

function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** A xoshiro128** generator for a safe-integer seed (negative seeds use their two's complement). */
export function createPrng(seed: number): Prng {
  const wide = BigInt.asUintN(64, BigInt(seed));
  let mix = Number(wide & 0xffffffffn) ^ Math.imul(Number(wide >> 32n), 0x27d4eb2f);
  const state: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [next, value] = splitmix32(mix);
    mix = next;
    state.push(value);
  }
  let [s0 = 0, s1 = 0, s2 = 0, s3 = 0] = state;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  return {
    nextUint32,
    nextFloat: () => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992,
  };
}
