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

let f16Table: Int32Array | undefined;

/** Float16 bits -> float32 bits, element by element (`dst` at least as long as `src`). */
export function f16ToF32Into(src: Uint16Array, dst: Uint32Array): void {
  if (!f16Table) {
    // The float32 bits of every float16 value (256 KiB), from the one-value form.
    const f = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f[h] = f16BitsToF32(h);
    f16Table = new Int32Array(f.buffer);
  }
  // Int32 views keep V8 on integer moves (Uint32 values above 2^31 would be doubles).
  const t = f16Table, d = new Int32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) d[i] = t[src[i]];
}

/** Bfloat16 bits -> float32 bits: bf16 is the top half of an f32. */
export function bf16ToF32Into(src: Uint16Array, dst: Uint32Array): void {
  const d = new Int32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) d[i] = src[i] << 16;
}

/** Float32 bits -> float16 bits, round to nearest even (as {@link f32ToF16Bits}). */
export function f32ToF16Into(src: Uint32Array, dst: Uint16Array): void {
  const s = new Int32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < s.length; i++) {
    const u = s[i], a = u & 0x7fffffff;
    if (a >= 0x38800000 && a < 0x47800000) {
      // A normal f16 result (2^-14 <= |x| < 2^16): rebias the exponent, then round to nearest
      // even without a branch (adding 0xfff plus the kept lowest bit carries exactly on
      // "more than half" and on "half, odd"); a carry out of 0x7bff gives infinity, as it should.
      const b = a - 0x38000000;
      dst[i] = ((u >>> 16) & 0x8000) | ((b + 0xfff + ((b >> 13) & 1)) >> 13);
    } else dst[i] = f32BitsToF16Bits(u >>> 0);
  }
}

let bf16Table: Uint16Array | undefined;

/** Bfloat16 bits -> float16 bits, round to nearest even (through the exact float32 value). */
export function bf16ToF16Into(src: Uint16Array, dst: Uint16Array): void {
  if (!bf16Table) {
    bf16Table = new Uint16Array(65536);
    for (let b = 0; b < 65536; b++) bf16Table[b] = f32BitsToF16Bits((b << 16) >>> 0);
  }
  const t = bf16Table;
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]];
}

/** Float32 bits -> bfloat16 bits, round to nearest even (as {@link f32ToBf16Bits}). */
export function f32ToBf16Into(src: Uint32Array, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = f32BitsToBf16Bits(src[i]);
}
