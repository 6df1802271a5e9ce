/**
 * Python `str` semantics that the reference metrics rely on.
 *
 * The reference scorers are Python; `str.split()` / `str.strip()` use Python's own whitespace
 * set, which differs from JavaScript's `\s` (Python counts U+001C..U+001F and U+0085, JS counts
 * U+FEFF). Python also indexes strings by code point, JS by UTF-16 unit. These helpers make the
 * ports agree with Python on both points.
 *
 * @module
 */

// Python's whitespace set and split/strip/collapse: one implementation serves both the rewards
// (tasks/) and the benchmark metrics.
/** One Python whitespace character (`str.isspace()`); all are in the BMP. */
const PY_WS_CLASS =
  "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PY_WS_RUN = new RegExp(PY_WS_CLASS + "+", "g");
const PY_WS_ONE = new RegExp("^" + PY_WS_CLASS + "$");

/** Python `ch.isspace()` for one UTF-16 unit (every Python whitespace is a single BMP unit). */
export function isPySpaceChar(ch: string): boolean {
  return ch.length === 1 && PY_WS_ONE.test(ch);
}

/** Python `chr(c).isspace()` for one code point. */
export function isPySpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Python `s.strip()` (no argument). Unlike `String.prototype.trim`, keeps U+FEFF and strips U+0085. */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpace(s.charCodeAt(a))) a++;
  while (b > a && isPySpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Python `s.split()` (no separator): split on whitespace runs, drop empty pieces. */
export function pySplit(s: string): string[] {
  const t = pyStrip(s);
  return t.length === 0 ? [] : t.split(PY_WS_RUN);
}

/** Python `" ".join(s.split())`: trim and collapse every whitespace run to one space. */
export function pyCollapse(s: string): string {
  return pyStrip(s).replace(PY_WS_RUN, " ");
}

/** The code points of `s` as one-character strings (Python's indexing unit). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/** Python's `string.punctuation`. */
export const PY_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/**
 * Python `re` (str pattern) `\w`: letters, numbers and underscore. Combining marks are not word
 * characters in Python, and `\p{L}\p{N}` leaves them out too.
 */
const PY_WORD = /[\p{L}\p{N}_]/u;

/** Whether one code point (as a string) is a Python `\w` character. */
export function isPyWordChar(ch: string | undefined): boolean {
  return ch !== undefined && PY_WORD.test(ch);
}

/** `re.sub(r"\b(a|an|the)\b", " ", text)` with Python's Unicode word boundaries. */
export function removeArticles(text: string): string {
  return text.replace(/(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu, " ");
}

/** Python `re.findall(r"\d+", s)`: Python's `\d` is any Unicode decimal digit (Nd). */
export function findDigitRuns(s: string): string[] {
  return s.match(/\p{Nd}+/gu) ?? [];
}

/**
 * Python `round(x, ndigits)` for floats: correctly rounded from the exact binary value, ties to
 * even (so `round(0.125, 2) == 0.12` and `round(2.5) == 2`, unlike `toFixed`/`Math.round`).
 */
export function pyRound(x: number, ndigits = 0): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21 || ndigits > 80) return x;
  const neg = x < 0;
  // toFixed(100) is exact for |x| ≥ 2^-47; smaller values round to ±0 at any sane ndigits.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf(".");
  const intPart = exact.slice(0, dot);
  const frac = exact.slice(dot + 1);
  const kept = BigInt(intPart + frac.slice(0, ndigits));
  const next = frac.charCodeAt(ndigits) - 48;
  const restNonZero = /[1-9]/.test(frac.slice(ndigits + 1));
  let q = kept;
  if (next > 5 || (next === 5 && (restNonZero || (kept & 1n) === 1n))) q = kept + 1n;
  const digits = q.toString().padStart(ndigits + 1, "0");
  const text = ndigits > 0
    ? `${digits.slice(0, digits.length - ndigits)}.${digits.slice(digits.length - ndigits)}`
    : digits;
  const v = parseFloat(text);
  return neg ? -v : v;
}
