/**
 * Float conversions between the dtypes checkpoints store (F32, F16, BF16) and the two the GPU
 * holds (f32, f16): one value at a time (round to nearest even, like torch), and whole arrays
 * at a time for loading and saving, where a per-value function call with a DataView would cost
 * tens of seconds on a 0.6B model. The bulk forms work on the bits (Uint32Array views of f32
 * data), so they give exactly the bits the one-value forms give.
 */

const cvtBuf = new DataView(new ArrayBuffer(4));

/** float32 bits -> float16 bits, round to nearest even, overflow to infinity; NaN -> quiet NaN. */
export function f32BitsToF16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const man = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal: shift the full mantissa (with its implicit 1) and round to nearest even.
    const full = man | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    if (rest > half || (rest === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1))) r++; // may carry into the exponent: fine
  return sign | r;
}

/** number -> float16 bits (via float32), round to nearest even, overflow to infinity. */
export function f32ToF16Bits(x: number): number {
  cvtBuf.setFloat32(0, x, true);
  return f32BitsToF16Bits(cvtBuf.getUint32(0, true));
}

/** float32 bits -> bfloat16 bits, round to nearest even; NaN stays NaN (quieted). */
export function f32BitsToBf16Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 -> bfloat16 bits, round to nearest even; NaN stays NaN. */
export function f32ToBf16Bits(x: number): number {
  cvtBuf.setFloat32(0, x, true);
  return f32BitsToBf16Bits(cvtBuf.getUint32(0, true));
}

/** bfloat16 bits -> float32 value (exact). */
export function bf16BitsToF32(b: number): number {
  cvtBuf.setUint32(0, (b & 0xffff) << 16, true);
  return cvtBuf.getFloat32(0, true);
}

/** float16 bits -> number (exact). */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

let f16Table: Uint32Array | undefined;

/** The float32 bits of every float16 value (256 KiB, built on first use from f16BitsToF32). */
function f16ToF32Table(): Uint32Array {
  if (!f16Table) {
    const f = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f[h] = f16BitsToF32(h);
    f16Table = new Uint32Array(f.buffer);
  }
  return f16Table;
}

/** Float16 bits -> float32 bits, element by element (`dst` at least as long as `src`). */
export function f16ToF32Into(src: Uint16Array, dst: Uint32Array): void {
  const t = f16ToF32Table();
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]];
}

/** Bfloat16 bits -> float32 bits: bf16 is the top half of an f32. */
export function bf16ToF32Into(src: Uint16Array, dst: Uint32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = src[i] << 16;
}

/** Float32 bits -> float16 bits, round to nearest even (as {@link f32ToF16Bits}). */
export function f32ToF16Into(src: Uint32Array, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) {
    const u = src[i];
    const exp = (u >>> 23) & 0xff;
    // The common case, a normal f16 result, inline; the rest through the one-value form.
    if (exp > 112 && exp < 143) {
      const r = ((u >>> 16) & 0x8000) | ((exp - 112) << 10) | ((u >>> 13) & 0x3ff);
      const rest = u & 0x1fff;
      dst[i] = rest > 0x1000 || (rest === 0x1000 && (r & 1)) ? r + 1 : r;
    } else dst[i] = f32BitsToF16Bits(u);
  }
}

/** Bfloat16 bits -> float16 bits, round to nearest even (through the exact float32 value). */
export function bf16ToF16Into(src: Uint16Array, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) {
    const u = src[i] << 16;
    const exp = (u >>> 23) & 0xff;
    if (exp > 112 && exp < 143) {
      // bf16 has 7 mantissa bits, f16 10: a normal result is exact.
      dst[i] = ((u >>> 16) & 0x8000) | ((exp - 112) << 10) | ((u >>> 13) & 0x3ff);
    } else dst[i] = f32BitsToF16Bits(u >>> 0);
  }
}

/** Float32 bits -> bfloat16 bits, round to nearest even (as {@link f32ToBf16Bits}). */
export function f32ToBf16Into(src: Uint32Array, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = f32BitsToBf16Bits(src[i]);
}
