/**
 * A counter-based random number generator implemented identically in WGSL and TypeScript, so a
 * CPU reference reproduces the GPU's random choices bit for bit.
 *
 * A draw is a pure function of (seed, row, step, counter): no state, no sequence, so a sequence's
 * sample does not depend on which batch (or batch slot) it was generated in. The mixer is Chris
 * Wellons' "lowbias32" integer hash, chained over the four words with a golden-ratio offset per
 * word (`h = hash(h ^ word + 0x9E3779B9 * (i + 1))`). Only wrapping u32 multiplies, xors and shifts:
 * exact on every GPU and in JS (`Math.imul`). Uniforms take the top 24 bits, so `u * 2^-24` is exact
 * in f32 and lies in [0, 1).
 */

/** WGSL snippet: `rng_hash(x)`, `rng_bits(seedLo, seedHi, row, step, counter)`, `rng_uniform(...)`. */
export const RNG_WGSL = /* wgsl */ `
fn rng_hash(x0: u32) -> u32 {
  var x = x0;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}
fn rng_bits(seed_lo: u32, seed_hi: u32, row: u32, step: u32, counter: u32) -> u32 {
  var h = rng_hash(seed_lo + 0x9e3779b9u);
  h = rng_hash(h ^ (seed_hi + 0x3c6ef372u));
  h = rng_hash(h ^ (row + 0xdaa66d2bu));
  h = rng_hash(h ^ (step + 0x78dde6e4u));
  h = rng_hash(h ^ (counter + 0x1715609du));
  return h;
}
// Uniform in [0, 1) from the top 24 bits: exact in f32.
fn rng_uniform(seed_lo: u32, seed_hi: u32, row: u32, step: u32, counter: u32) -> f32 {
  return f32(rng_bits(seed_lo, seed_hi, row, step, counter) >> 8u) * (1.0 / 16777216.0);
}
`;

/** lowbias32: the same u32 hash as `rng_hash` in {@link RNG_WGSL}. */
export function rngHash(x0: number): number {
  let x = x0 >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** Splits a seed (any non-negative integer below 2^53) into the low and high u32 words. */
export function seedWords(seed: number): [number, number] {
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
    throw new Error(`rng: seed must be a non-negative safe integer, got ${seed}`);
  }
  return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/** The 32 random bits for (seed, row, step, counter): `rng_bits` in {@link RNG_WGSL}. */
export function rngBits(seed: number, row: number, step: number, counter = 0): number {
  const [lo, hi] = seedWords(seed);
  let h = rngHash((lo + 0x9e3779b9) >>> 0);
  h = rngHash(h ^ ((hi + 0x3c6ef372) >>> 0));
  h = rngHash(h ^ (((row >>> 0) + 0xdaa66d2b) >>> 0));
  h = rngHash(h ^ (((step >>> 0) + 0x78dde6e4) >>> 0));
  h = rngHash(h ^ (((counter >>> 0) + 0x1715609d) >>> 0));
  return h >>> 0;
}

/** A uniform in [0, 1) with 24 bits (exact in f32): `rng_uniform` in {@link RNG_WGSL}. */
export function rngUniform(seed: number, row: number, step: number, counter = 0): number {
  return (rngBits(seed, row, step, counter) >>> 8) / 16777216;
}
