/**
 * Seeded randomness for the tree learners: xoshiro128** seeded through splitmix32. Every random
 * choice (bootstrap draws, row and column samples, the early-stopping split) comes from a stream
 * derived from the hyperparameter seed and a stream id (the tree index, say), so a tree is the
 * same whichever process, thread or sub-forest grows it. No Math.random anywhere.
 */

/** splitmix32 finaliser: a well-mixed 32-bit value of a 32-bit input. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A 32-bit seed for the stream named by `parts` (e.g. the seed, a purpose tag and a tree index). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x243f6a88;
  for (const p of parts) h = mix32(h ^ mix32(p >>> 0) ^ mix32(Math.floor(p / 2 ** 32) >>> 0));
  return h;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => (s = mix32(s));
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1; // never the all-zero state
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), n <= 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** The first `k` entries of a uniformly random permutation of `values`, shuffled in place (partial Fisher-Yates). */
  shufflePrefix(values: Int32Array | Uint32Array, k: number): void {
    const n = values.length;
    for (let i = 0; i < k && i < n - 1; i++) {
      const j = i + this.int(n - i);
      const t = values[i]!;
      values[i] = values[j]!;
      values[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
