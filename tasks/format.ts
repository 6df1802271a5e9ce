/**
 * The format gate of recipe §1.2, think-block helpers, and the Python string semantics the
 * reference verifiers rely on (`str.strip()`, `str.split()`, `" ".join(s.split())`).
 *
 * Python's whitespace set (`str.isspace`) differs from JavaScript's `trim()`/`\s`: Python counts
 * U+001C..U+001F and U+0085, JavaScript counts U+FEFF. Everything here uses Python's set. All
 * helpers are linear-time and regex/index based, so a 1 MB response costs a few milliseconds.
 *
 * @module
 */

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

/** Non-overlapping occurrences of `needle` in `hay` (Python `str.count`). */
export function countOccurrences(hay: string, needle: string): number {
  let n = 0;
  let i = hay.indexOf(needle);
  while (i !== -1) {
    n++;
    i = hay.indexOf(needle, i + needle.length);
  }
  return n;
}

export const THINK_OPEN = "<think>";
export const THINK_CLOSE = "</think>";

/** `text.split("</think>")[-1]`: the text after the last `</think>`, or the whole text. */
export function postThink(text: string): string {
  const i = text.lastIndexOf(THINK_CLOSE);
  return i === -1 ? text : text.slice(i + THINK_CLOSE.length);
}

/**
 * The format gate of recipe §1.2 (`default_compute_score`): reward 0 unless `</think>` occurs
 * exactly once and `<think>` at most once. Returns null when the response passes, else the reason.
 */
export function formatGate(response: string): string | null {
  const close = countOccurrences(response, THINK_CLOSE);
  if (close === 0) return "missing </think>";
  if (close > 1) return `${close} </think> (at most 1 allowed)`;
  const open = countOccurrences(response, THINK_OPEN);
  if (open > 1) return `${open} <think> (at most 1 allowed)`;
  return null;
}

/** Python truthiness of a JSON-like value (`not x`). */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (typeof v === "number") return !Number.isNaN(v) ? v !== 0 : true;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === "object") return Object.keys(v as object).length > 0;
  return true;
}

/** A plain JSON object (Python dict), not an array or null. */
export function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `if isinstance(gt, list): gt = gt[-1]` (an empty list raises IndexError, as in Python). */
export function lastIfList(gt: unknown): unknown {
  if (!Array.isArray(gt)) return gt;
  if (gt.length === 0) throw new RangeError("ground_truth is an empty list (IndexError)");
  return gt[gt.length - 1];
}

/** `d[key]` with Python's errors: TypeError when `d` is not a dict, KeyError when absent. */
export function getKey(d: unknown, key: string, what = "ground_truth"): unknown {
  if (!isDict(d)) {
    throw new TypeError(`${what} must be a dict with "${key}", got ${describe(d)}`);
  }
  if (!Object.hasOwn(d, key)) throw new TypeError(`${what} has no "${key}" (KeyError)`);
  return d[key];
}

/** A short type description for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "string" ? "a string" : typeof v;
}
