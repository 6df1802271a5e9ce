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

/** Keeps verifier details small: the first `n` characters, "…" when cut. */
export function clipForDetails(s: string, n = 200): string {
  return s.length <= n ? s : s.slice(0, n) + "…";
}
