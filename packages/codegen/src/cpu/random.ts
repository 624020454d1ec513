// The `random` op on the cpu device: element i of draw d from the state [key, counter],
// by the contract in @theorbo/graph's random.ts (Philox4x32-10 with key (key, d) and
// counter (i, counter, 0, 0); uniform float32 = (w0 >>> 8) · 2⁻²⁴; normal by Box–Muller
// from the uniforms of w0 and w1). The rendered JS kernel calls these per element, so a
// dropout mask fuses into its consumer as on the GPU; WebAssembly kernels compute uniform
// draws four lanes at a time (cpu/wasm-render.ts emitUniform), to the same bits. The arithmetic is the reference's
// (the transcendental part in doubles, rounded once on store), so cpu equals the
// reference bit for bit and the WGSL path in the uniform bits (its float32 Box–Muller is
// a few ulps off, as random.ts documents).
// Left out: float64 draws (float64 runs only on the reference evaluator).

import { philoxKeyBumps, philoxMultipliers, philoxRounds } from '@theorbo/graph';

const [M0, M1] = philoxMultipliers;
const [W0, W1] = philoxKeyBumps;

/** High 32 bits of the 64-bit product of two uint32 values (16-bit halves, exact in doubles). */
function mulHigh(a: number, b: number): number {
  const aLow = a & 0xffff;
  const aHigh = a >>> 16;
  const bLow = b & 0xffff;
  const bHigh = b >>> 16;
  const highLow = aHigh * bLow;
  const lowHigh = aLow * bHigh;
  const middle = ((aLow * bLow) >>> 16) + (highLow & 0xffff) + (lowHigh & 0xffff);
  return (aHigh * bHigh + (highLow >>> 16) + (lowHigh >>> 16) + (middle >>> 16)) >>> 0;
}

// The two words a float32 draw uses; kept in module scope so a draw allocates nothing.
let word0 = 0;
let word1 = 0;

/** Philox4x32-10 of counter (i, counter, 0, 0) under key (key, draw): sets word0 and word1. */
function philoxWords(i: number, counter: number, key: number, draw: number): void {
  let [c0, c1, c2, c3] = [i >>> 0, counter >>> 0, 0, 0];
  let [k0, k1] = [key >>> 0, draw >>> 0];
  for (let round = 0; round < philoxRounds; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulHigh(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulHigh(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  word0 = c0;
  word1 = c1;
}

const twoToMinus24 = 2 ** -24;

/** A uniform float32 in [0, 1): element i of draw `draw` from the state [key, counter]. */
export function uniformAt(key: number, counter: number, draw: number, i: number): number {
  philoxWords(i, counter, key, draw);
  return (word0 >>> 8) * twoToMinus24;
}

/** A standard normal (Box–Muller, in doubles): element i of draw `draw` from [key, counter]. */
export function normalAt(key: number, counter: number, draw: number, i: number): number {
  philoxWords(i, counter, key, draw);
  const u1 = (word0 >>> 8) * twoToMinus24;
  const u2 = (word1 >>> 8) * twoToMinus24;
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}
