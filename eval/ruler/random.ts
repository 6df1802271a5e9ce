/**
 * A seeded random stream for the RULER-style generator (mulberry32 from core/rng.ts) with the
 * Python `random` helpers RULER's scripts call: `randint`, `choice`, `sample`, `shuffle`, and
 * `uuid.UUID(int=getrandbits(128), version=4)`. The streams differ from CPython's, so items are
 * RULER-like, not RULER-identical; they are identical across runs and machines for one seed.
 *
 * @module
 */

import { mulberry32 } from "../../core/rng.ts";

/** A seeded random stream. */
export class Rng {
  #next: () => number;

  /** A stream for a 32-bit seed. */
  constructor(seed: number) {
    this.#next = mulberry32(seed >>> 0);
  }

  /** A float in [0, 1). */
  random(): number {
    return this.#next();
  }

  /** An integer in [lo, hi] (both inclusive, like Python's `random.randint`). */
  randint(lo: number, hi: number): number {
    return lo + Math.floor(this.#next() * (hi - lo + 1));
  }

  /** One element. */
  choice<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.#next() * xs.length)];
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.#next() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }

  /** `k` distinct elements in random order (Python's `random.sample`). */
  sample<T>(xs: readonly T[], k: number): T[] {
    if (k > xs.length) throw new RangeError(`sample larger than population (${k} > ${xs.length})`);
    if (k * 4 < xs.length) {
      const picked = new Set<number>();
      const out: T[] = [];
      while (out.length < k) {
        const i = Math.floor(this.#next() * xs.length);
        if (!picked.has(i)) {
          picked.add(i);
          out.push(xs[i]);
        }
      }
      return out;
    }
    return this.shuffle([...xs]).slice(0, k);
  }

  /** A version-4 UUID string from 128 random bits. */
  uuid4(): string {
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = Math.floor(this.#next() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
      h.slice(20)
    }`;
  }
}
