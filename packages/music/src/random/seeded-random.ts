// Seeded random streams for the whole package: splitmix32 with named sub-streams, so
// that every draw site gets its own stream derived from (seed, names...). Data synthesis
// derives one per clip, timbre family and split decision, so one clip's content does not
// depend on how many came before it; training derives one per epoch's shuffle and per
// batch's augmentation, e.g. (seed, 'shuffle', epoch), so a run resumed at epoch k needs
// no saved generator state to draw exactly what an uninterrupted run would have drawn.
// Hand-written rather than a library on purpose: the streams decide cache file names and
// data set contents, so they must not change when a dependency is upgraded. Changing
// deriveSeed or next() changes every synthesized clip: bump data/cache.ts's
// synthesisVersion if you ever do.
// SHA-256 comes from @noble/hashes rather than node:crypto so that the page synthesizes
// exactly the clips Node does (deriveSeed must stay synchronous; WebCrypto's is not).
// Left out: cryptographic quality (not needed), jump-ahead, typed-array bulk fills.
import { sha256 } from '@noble/hashes/sha2.js';

/** A 32-bit seed from any list of names and numbers (the first 4 bytes of their SHA-256). */
export function deriveSeed(...parts: (string | number)[]): number {
  const digest = sha256(new TextEncoder().encode(JSON.stringify(parts)));
  return (digest[0]! | (digest[1]! << 8) | (digest[2]! << 16) | (digest[3]! << 24)) >>> 0;
}

export class SeededRandom {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A fresh stream seeded from this one's seed material and the given names. */
  static derive(...parts: (string | number)[]): SeededRandom {
    return new SeededRandom(deriveSeed(...parts));
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform over the integers low..high, both included. */
  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** Log-uniform in [low, high): for scale parameters such as times and ratios. */
  logUniform(low: number, high: number): number {
    return Math.exp(this.uniform(Math.log(low), Math.log(high)));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('random: choice() from an empty list; the caller must offer at least one item.');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /** The numbers 0..n−1 in a random order (Fisher–Yates, as shuffled()). */
  permutation(n: number): Int32Array {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const held = order[i]!;
      order[i] = order[j]!;
      order[j] = held;
    }
    return order;
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}
