/**
 * Exact rational arithmetic on BigInt numerator/denominator pairs. Answers such as `\frac{3}{4}`,
 * `0.75` and `75\%` must compare equal without float noise, so every literal and every
 * arithmetic step stays exact until an operation (roots, logs, huge powers) forces a float.
 *
 * Sizes are bounded: operations that would build numbers beyond {@link MAX_BITS} return `null`
 * so that callers fall back to floats instead of spending unbounded time on `2^{10^9}`.
 */

/** A reduced fraction `n/d` with `d > 0`. */
export interface Rat {
  readonly n: bigint;
  readonly d: bigint;
}

/** Largest magnitude (in bits) an exact intermediate may reach before we give up on exactness. */
export const MAX_BITS = 4096;

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** Iterative Euclid: recursion-free and fast on BigInt. */
export function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Bit length of |x| (0 for 0). */
export function bitLength(x: bigint): number {
  return x === 0n ? 0 : abs(x).toString(16).length * 4;
}

/** Builds a reduced fraction; `null` when the denominator is zero or the size bound is exceeded. */
export function rat(n: bigint, d = 1n): Rat | null {
  if (d === 0n) return null;
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d);
  if (g > 1n) [n, d] = [n / g, d / g];
  if (bitLength(n) > MAX_BITS || bitLength(d) > MAX_BITS) return null;
  return { n, d };
}

export const ZERO: Rat = { n: 0n, d: 1n };
export const ONE: Rat = { n: 1n, d: 1n };

export function add(a: Rat, b: Rat): Rat | null {
  return rat(a.n * b.d + b.n * a.d, a.d * b.d);
}
export function sub(a: Rat, b: Rat): Rat | null {
  return rat(a.n * b.d - b.n * a.d, a.d * b.d);
}
export function mul(a: Rat, b: Rat): Rat | null {
  return rat(a.n * b.n, a.d * b.d);
}
export function div(a: Rat, b: Rat): Rat | null {
  return b.n === 0n ? null : rat(a.n * b.d, a.d * b.n);
}
export function neg(a: Rat): Rat {
  return { n: -a.n, d: a.d };
}
export function eq(a: Rat, b: Rat): boolean {
  return a.n === b.n && a.d === b.d;
}
export function isInt(a: Rat): boolean {
  return a.d === 1n;
}

/** `a^k` for an integer `k`; `null` if the result would exceed {@link MAX_BITS} or divides by 0. */
export function powInt(a: Rat, k: bigint): Rat | null {
  if (k === 0n) return ONE;
  if (a.n === 0n) return k > 0n ? ZERO : null;
  const e = abs(k);
  const bits = Math.max(bitLength(a.n), bitLength(a.d));
  if (bits > 1 && Number(e) * (bits - 1) > MAX_BITS) return null;
  if (e > 100000n) return null; // |a| is 1 here; refuse absurd exponents anyway
  let n = a.n ** e;
  let d = a.d ** e;
  if (k < 0n) [n, d] = [d, n];
  return rat(n, d);
}

/** Exact integer r-th root of a non-negative BigInt, or `null` if it is not a perfect power. */
function intRoot(x: bigint, r: number): bigint | null {
  if (x < 0n) return null;
  if (x < 2n) return x;
  if (bitLength(x) > 1000) return null;
  const guess = BigInt(Math.round(Math.pow(Number(x), 1 / r)));
  for (const c of [guess - 1n, guess, guess + 1n]) if (c >= 0n && c ** BigInt(r) === x) return c;
  return null;
}

/** Exact `a^(1/r)` when numerator and denominator are perfect r-th powers (odd r allows sign). */
export function root(a: Rat, r: number): Rat | null {
  if (r < 1 || r > 64 || !Number.isInteger(r)) return null;
  const negative = a.n < 0n;
  if (negative && r % 2 === 0) return null;
  const n = intRoot(abs(a.n), r);
  const d = intRoot(a.d, r);
  if (n === null || d === null) return null;
  return { n: negative ? -n : n, d };
}

/** Nearest double; scales huge operands first so `Number()` never yields `Infinity/Infinity`. */
export function toNumber(a: Rat): number {
  let { n, d } = a;
  const shift = Math.max(bitLength(n), bitLength(d)) - 1000;
  if (shift > 0) {
    n >>= BigInt(shift);
    d >>= BigInt(shift);
    if (d === 0n) return n === 0n ? 0 : n > 0n ? Infinity : -Infinity;
  }
  return Number(n) / Number(d);
}

/**
 * Parses a plain decimal literal (`12`, `-0.5`, `.25`, `1.5e3`, `2E-4`) exactly.
 * Returns `null` for anything else, including exponents too large to represent exactly.
 */
export function fromDecimal(text: string): Rat | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,5}))?$/.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const frac = m[3] ?? "";
  let n = BigInt((m[2] || "0") + frac);
  let d = 10n ** BigInt(frac.length);
  const exp = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exp) > 1000) return null;
  if (exp > 0) n *= 10n ** BigInt(exp);
  if (exp < 0) d *= 10n ** BigInt(-exp);
  if (m[1] === "-") n = -n;
  return rat(n, d);
}

/** Canonical text form: `3`, `-3/4`. */
export function toString(a: Rat): string {
  return a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`;
}
