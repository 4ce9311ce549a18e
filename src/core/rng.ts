// The one source of randomness (STYLE.md 4): a small, fast, seeded generator.
// Seeds for sub-streams are derived from (seed, keys...) with a hash, so a sample's randomness
// does not depend on how many numbers other samples drew before it.

/** splitmix32-style integer hash step: a good mixer for deriving seeds. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Derives a 32-bit seed from a base seed and any number of integer or string keys. */
export function deriveSeed(seed: number, ...keys: (number | string)[]): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  for (const key of keys) {
    if (typeof key === "number") {
      h = mix32(h ^ mix32((key >>> 0) + 0x632be5ab) ^ Math.floor(key / 2 ** 32));
    } else {
      for (let i = 0; i < key.length; i++) h = mix32(h ^ key.charCodeAt(i));
      h = mix32(h ^ key.length);
    }
  }
  return h;
}

/** sfc32: 128-bit state, passes PractRand to large sizes, and is fast in JS. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(readonly seed: number) {
    this.a = deriveSeed(seed, 1);
    this.b = deriveSeed(seed, 2);
    this.c = deriveSeed(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A new independent stream for (keys...), e.g. rng.fork("sample", step, i). */
  fork(...keys: (number | string)[]): Rng {
    return new Rng(deriveSeed(this.seed, ...keys));
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, the spare kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Rng.pick: empty list");
    return items[this.int(items.length)];
  }

  /** Fisher-Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** Fills a Float32Array with N(0, std^2). */
  normalArray(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(0, std);
    return out;
  }
}
