// The host-side random numbers of training (shuffling, augmentation): a splitmix32
// generator whose seed is hashed from a list of integers, so that each epoch's shuffle
// and each batch's augmentation draw from their own stream, e.g. (seed, 'shuffle',
// epoch). A run resumed at epoch k therefore needs no saved generator state to draw
// exactly what an uninterrupted run would have drawn. Hand-written (a dozen lines) so
// that the streams cannot change under a dependency upgrade.
// Left out: cryptographic quality, jump-ahead, bulk typed-array fills.

/** Mixes a list of integers and short strings into one 32-bit seed (murmur3's finalizer per part). */
export function hashSeed(...parts: (number | string)[]): number {
  let hash = 0x811c9dc5;
  const mixIn = (word: number): void => {
    let k = Math.imul(word >>> 0, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    hash ^= k;
    hash = (Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64) >>> 0;
  };
  for (const part of parts) {
    if (typeof part === 'string') for (let i = 0; i < part.length; i++) mixIn(part.charCodeAt(i));
    else mixIn(part);
    mixIn(0x9e3779b9); // separates ('ab', 1) from ('a', 'b1')
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** A seeded stream of uniform and normal numbers for the host side of training. */
export class TrainingRandom {
  #state: number;
  #spareNormal: number | undefined;

  constructor(...seedParts: (number | string)[]) {
    this.#state = hashSeed(...seedParts);
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }

  /** Uniform over the integers low..high, both included. */
  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** Standard normal (Box–Muller, the second value of each pair kept for the next call). */
  normal(): number {
    if (this.#spareNormal !== undefined) {
      const spare = this.#spareNormal;
      this.#spareNormal = undefined;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.#spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** The numbers 0..n−1 in a random order (Fisher–Yates). */
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
}
