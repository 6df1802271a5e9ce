/**
 * Haystack building blocks: book-text windows from the word ring, sentence splitting, placing
 * needles at depths, and the search for the largest haystack that fits a token budget.
 *
 * Depth placement differs from RULER in one documented way: RULER inserts at sentence index
 * `int(len(sents) * depth / 100)`; here a needle goes to the unit boundary whose character offset
 * is nearest `depth/100` of the haystack, so the needle's measured position matches the requested
 * depth even when book sentences vary widely in length.
 *
 * @module
 */

import type { Rng } from "./random.ts";

/** RULER's `DEPTHS = np.round(np.linspace(0, 100, num=40)).astype(int)`. */
export const RULER_DEPTHS: readonly number[] = Array.from(
  { length: 40 },
  (_, i) => Math.round((i * 100) / 39),
);

const SENTENCE_END = /[.!?]["'”’)\]]*$/;

/**
 * A random start in the word ring, moved forward to just after a sentence end (so the haystack
 * starts with a sentence), within 400 words.
 */
export function ringStart(ring: readonly string[], rng: Rng): number {
  const start = Math.floor(rng.random() * ring.length);
  for (let k = 0; k < 400; k++) {
    const i = (start + k) % ring.length;
    if (SENTENCE_END.test(ring[i])) return (i + 1) % ring.length;
  }
  return start;
}

/** `n` words of the ring from `start` (wrapping around), joined by single spaces. */
export function ringWords(ring: readonly string[], start: number, n: number): string {
  const out: string[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = ring[(start + k) % ring.length];
  return out.join(" ");
}

/**
 * Sentences of whitespace-collapsed text (a stand-in for nltk's `sent_tokenize`): split after
 * `.`/`!`/`?` (and closing quotes/brackets) before a space; a sentence longer than `maxChars` is
 * further split after `;`, `:` or `,` so that insertion points stay dense.
 */
export function splitSentences(text: string, maxChars = 400): string[] {
  const out: string[] = [];
  for (const s of text.split(/(?<=[.!?]["'”’)\]]*)\s+/)) {
    if (!s) continue;
    if (s.length <= maxChars) {
      out.push(s);
      continue;
    }
    let cur = "";
    for (const piece of s.split(/(?<=[;:,])\s+/)) {
      if (cur && cur.length + 1 + piece.length > maxChars) {
        out.push(cur);
        cur = piece;
      } else cur = cur ? `${cur} ${piece}` : piece;
    }
    if (cur) out.push(cur);
  }
  return out;
}

/** A text to insert at a depth (percent of the haystack, 0–100). */
export interface Insert {
  text: string;
  depth: number;
}

/** The joined context and, for each insert (input order), its character offset in it. */
export interface Placed {
  context: string;
  offsets: number[];
}

/**
 * Joins `units` with `sep`, inserting each item at the unit boundary nearest `depth%` of the
 * haystack's characters. Inserts landing on one boundary keep their input order.
 */
export function placeAtDepths(
  units: readonly string[],
  inserts: readonly Insert[],
  sep: string,
): Placed {
  // Character offset of boundary b (before unit b) in the haystack alone.
  const bounds = new Array<number>(units.length + 1);
  bounds[0] = 0;
  for (let i = 0; i < units.length; i++) bounds[i + 1] = bounds[i] + units[i].length + sep.length;
  const total = Math.max(0, bounds[units.length] - sep.length);
  const at = inserts.map((ins, idx) => {
    const target = (Math.min(100, Math.max(0, ins.depth)) / 100) * total;
    let lo = 0;
    let hi = units.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    const b = lo > 0 && target - bounds[lo - 1] < bounds[lo] - target ? lo - 1 : lo;
    return { b, idx };
  }).sort((x, y) => x.b - y.b || x.idx - y.idx);

  const pieces: string[] = [];
  const offsets = new Array<number>(inserts.length).fill(-1);
  let len = 0;
  const push = (s: string) => {
    if (pieces.length) len += sep.length;
    pieces.push(s);
    len += s.length;
  };
  let k = 0;
  for (let u = 0; u <= units.length; u++) {
    while (k < at.length && at[k].b === u) {
      const ins = inserts[at[k].idx];
      offsets[at[k].idx] = pieces.length ? len + sep.length : 0;
      push(ins.text);
      k++;
    }
    if (u < units.length) push(units[u]);
  }
  return { context: pieces.join(sep), offsets };
}

/**
 * The largest `n` in [lo, hi] with `measure(n) <= budget` (measure non-decreasing in n), or
 * `lo - 1` when even `lo` is over budget. Token counts grow almost linearly with haystack size,
 * so the search interpolates between the bracketing measurements (falling back to bisection
 * when one side stalls): a long haystack costs a handful of tokenizer calls.
 */
export function fitLargest(
  measure: (n: number) => number,
  budget: number,
  lo: number,
  hi: number,
  probe = Math.min(hi, lo + 64),
): number {
  const mLo = measure(lo);
  if (mLo > budget) return lo - 1;
  if (hi <= lo) return lo;
  let good = lo;
  let mGood = mLo;
  let bad = hi + 1;
  let mBad = Infinity;
  let next = Math.min(hi, Math.max(lo + 1, probe));
  let lastSide = 0;
  let sameSide = 0;
  while (bad - good > 1) {
    const n = Math.min(bad - 1, Math.max(good + 1, next));
    const m = measure(n);
    const side = m <= budget ? -1 : 1;
    if (side < 0) {
      good = n;
      mGood = m;
    } else {
      bad = n;
      mBad = m;
    }
    sameSide = side === lastSide ? sameSide + 1 : 0;
    lastSide = side;
    if (bad - good <= 1) break;
    if (sameSide >= 2) {
      next = good + Math.floor((bad - good) / 2);
      sameSide = 0;
      continue;
    }
    if (Number.isFinite(mBad)) {
      // Interpolate inside the bracket.
      const slope = (mBad - mGood) / (bad - good);
      next = good + Math.floor((budget - mGood) / Math.max(slope, 1e-9));
    } else {
      // Extrapolate from (lo, mLo)–(good, mGood), aiming just under the budget.
      const slope = (mGood - mLo) / Math.max(1, good - lo);
      next = good + Math.floor(((budget - mGood) / Math.max(slope, 1e-9)) * 0.999);
      if (next <= good) next = good + 1;
    }
  }
  return good;
}
