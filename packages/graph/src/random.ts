// The counter-based generator behind the `random` op: Philox4x32-10 (Salmon et al.,
// "Parallel random numbers: as easy as 1, 2, 3", SC 2011; Random123). Counter-based
// means element i is a pure function of (key, counter, i): no state is carried from one
// element to the next, so a WGSL kernel computes any element in any thread and every
// device yields the same bits. Only 32-bit integer arithmetic is used, as in WGSL.
// Left out: other generators (Threefry, Philox2x32), and skipping rounds.
//
// Philox4x32-10, exactly as Random123 defines it:
//   multipliers  M0 = 0xD2511F53, M1 = 0xCD9E8D57
//   key bumps    W0 = 0x9E3779B9, W1 = 0xBB67AE85 (golden ratio, √3 − 1)
//   one round on counter (c0, c1, c2, c3) with key (k0, k1):
//     (hi0, lo0) = M0 · c0 and (hi1, lo1) = M1 · c2, as full 64-bit products
//     counter ← (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
//   ten rounds; between consecutive rounds the key is bumped: k0 += W0, k1 += W1 (mod 2³²).
//
// Theorbo's mapping (the contract a device implementation must keep): element i (row-major)
// of draw d, with the random state [key, counter], is built from
//   Philox key (key, d) and Philox counter (i, counter, 0, 0)
// whose four output words w0..w3 give
//   uniform float32: (w0 >>> 8) · 2⁻²⁴, in [0, 1), exact in float32;
//   uniform float64: ((w0 >>> 5) · 2²⁶ + (w1 >>> 6)) · 2⁻⁵³, in [0, 1);
//   normal (Box–Muller): √(−2 ln(1 − u1)) · cos(2π u2), with u1, u2 the uniforms of the
//   same dtype from w0 and w1 (float32) or from (w0, w1) and (w2, w3) (float64). 1 − u1 is
//   in (0, 1], so the logarithm is finite. The reference computes the transcendental part
//   in float64 and rounds once; a float32 device agrees to a few ulps, not bit for bit.

export const philoxMultipliers = [0xd2511f53, 0xcd9e8d57] as const;
export const philoxKeyBumps = [0x9e3779b9, 0xbb67ae85] as const;
export const philoxRounds = 10;

/** High 32 bits of the 64-bit product of two uint32 values, from 16-bit halves (no precision loss). */
export function mulHigh32(a: number, b: number): number {
  const aLow = a & 0xffff;
  const aHigh = a >>> 16;
  const bLow = b & 0xffff;
  const bHigh = b >>> 16;
  const lowLow = aLow * bLow;
  const highLow = aHigh * bLow;
  const lowHigh = aLow * bHigh;
  const highHigh = aHigh * bHigh;
  // The middle sum stays below 2³³, exact in a double.
  const middle = (lowLow >>> 16) + (highLow & 0xffff) + (lowHigh & 0xffff);
  return (highHigh + (highLow >>> 16) + (lowHigh >>> 16) + Math.floor(middle / 0x10000)) >>> 0;
}

/**
 * Philox4x32-10 of one counter block under one key; writes four uint32 words to `out`
 * (a reusable buffer, so that generating a tensor allocates nothing per element).
 */
export function philox4x32(counter: readonly [number, number, number, number], key: readonly [number, number], out: Uint32Array = new Uint32Array(4)): Uint32Array {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < philoxRounds; round++) {
    if (round > 0) {
      k0 = (k0 + philoxKeyBumps[0]) >>> 0;
      k1 = (k1 + philoxKeyBumps[1]) >>> 0;
    }
    const hi0 = mulHigh32(philoxMultipliers[0], c0);
    const lo0 = Math.imul(philoxMultipliers[0], c0) >>> 0;
    const hi1 = mulHigh32(philoxMultipliers[1], c2);
    const lo1 = Math.imul(philoxMultipliers[1], c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

const twoToMinus24 = 2 ** -24;
const twoToMinus53 = 2 ** -53;

function uniform32(word: number): number {
  return (word >>> 8) * twoToMinus24;
}

function uniform64(high: number, low: number): number {
  return ((high >>> 5) * 0x4000000 + (low >>> 6)) * twoToMinus53;
}

export type Distribution = 'uniform' | 'normal';

/**
 * Fills `out` with elements 0..out.length−1 of draw `draw` from the state [key, counter],
 * following the mapping above. Float32 arrays round on store.
 */
export function fillRandom(out: Float32Array | Float64Array, distribution: Distribution, state: readonly [number, number], draw: number): void {
  const words = new Uint32Array(4);
  const key = [state[0] >>> 0, draw >>> 0] as const;
  const counter: [number, number, number, number] = [0, state[1] >>> 0, 0, 0];
  const wide = out instanceof Float64Array;
  for (let i = 0; i < out.length; i++) {
    counter[0] = i;
    philox4x32(counter, key, words);
    const u1 = wide ? uniform64(words[0]!, words[1]!) : uniform32(words[0]!);
    if (distribution === 'uniform') {
      out[i] = u1;
      continue;
    }
    const u2 = wide ? uniform64(words[2]!, words[3]!) : uniform32(words[1]!);
    out[i] = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
