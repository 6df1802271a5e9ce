/**
 * Seeded random numbers for CPU-side work (initialisation, shuffles, test data).
 * mulberry32: tiny, fast, and identical on every platform, so one `--seed`
 * reproduces a run anywhere.
 */

/** A generator of floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit seed derived from the run seed and names (FNV-1a over the names), so each named stream
 * is independent of the others and of the order the streams are drawn in. The one seed
 * derivation: data construction, the trainer and the benchmarks all derive through it.
 */
export function subSeed(seed: number, ...names: (string | number)[]): number {
  const name = names.join("\u241f");
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
