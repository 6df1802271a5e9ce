/**
 * A faithful port of Python's `difflib.SequenceMatcher(None, a, b)` for strings, enough to
 * compute `.ratio()` and `.get_matching_blocks()` bit-for-bit like CPython 3.x.
 *
 * Semantics kept from the original (Lib/difflib.py):
 * - elements are code points, as Python indexes `str` by code point (not UTF-16 units);
 * - `isjunk=None`, `autojunk=True`: when `len(b) >= 200`, every element occurring more than
 *   `len(b) // 100 + 1` times in `b` is "popular" and dropped from the `b2j` index (but is not
 *   junk, so it can still extend a match at its ends);
 * - `find_longest_match` keeps the first-found longest block (strict `>`), then extends it;
 * - `get_matching_blocks` uses Python's explicit stack (`queue.pop()`), never recursion.
 *
 * @module
 */

export interface MatchBlock {
  a: number;
  b: number;
  size: number;
}

function toCodes(s: string): Int32Array {
  const out = new Int32Array(s.length);
  let n = 0;
  for (const ch of s) out[n++] = ch.codePointAt(0)!;
  return out.subarray(0, n);
}

/** `difflib.SequenceMatcher(None, a, b)` over the code points of two strings. */
export class SequenceMatcher {
  readonly a: Int32Array;
  readonly b: Int32Array;
  /** `b2j` after the popular-element purge; index lists ascend. */
  private readonly b2j = new Map<number, number[]>();
  /** Elements removed by the autojunk heuristic (Python's `bpopular`). */
  readonly popular = new Set<number>();
  // find_longest_match's `j2len` dicts, kept as two reusable rows stamped with a row id so that
  // a lookup only sees values written by the immediately preceding row (an empty dict otherwise).
  private rowVal: [Int32Array, Int32Array];
  private rowTag: [Float64Array, Float64Array];
  private tag = 0;

  constructor(a: string, b: string, autojunk = true) {
    this.a = toCodes(a);
    this.b = toCodes(b);
    const n = this.b.length;
    for (let j = 0; j < n; j++) {
      const e = this.b[j];
      const list = this.b2j.get(e);
      if (list) list.push(j);
      else this.b2j.set(e, [j]);
    }
    if (autojunk && n >= 200) {
      const ntest = Math.floor(n / 100) + 1;
      for (const [e, idxs] of this.b2j) if (idxs.length > ntest) this.popular.add(e);
      for (const e of this.popular) this.b2j.delete(e);
    }
    this.rowVal = [new Int32Array(n), new Int32Array(n)];
    this.rowTag = [new Float64Array(n).fill(-1), new Float64Array(n).fill(-1)];
  }

  /** Python `find_longest_match(alo, ahi, blo, bhi)` with an empty junk set. */
  findLongestMatch(alo: number, ahi: number, blo: number, bhi: number): MatchBlock {
    const { a, b } = this;
    let besti = alo;
    let bestj = blo;
    let bestsize = 0;
    // `prev` plays j2len (the previous row), `cur` plays newj2len.
    let prevTag = -1;
    let p = 0;
    for (let i = alo; i < ahi; i++) {
      const js = this.b2j.get(a[i]);
      const curTag = ++this.tag;
      const cur = p ^ 1;
      const curVal = this.rowVal[cur];
      const curTags = this.rowTag[cur];
      const prevVal = this.rowVal[p];
      const prevTags = this.rowTag[p];
      if (js) {
        for (const j of js) {
          if (j < blo) continue;
          if (j >= bhi) break;
          const k = (j > 0 && prevTags[j - 1] === prevTag ? prevVal[j - 1] : 0) + 1;
          curVal[j] = k;
          curTags[j] = curTag;
          if (k > bestsize) {
            besti = i - k + 1;
            bestj = j - k + 1;
            bestsize = k;
          }
        }
      }
      prevTag = curTag;
      p = cur;
    }
    // Extend by equal (non-junk; nothing is junk with isjunk=None) elements on both ends. This
    // is what lets "popular" elements, absent from b2j, still join a match.
    while (besti > alo && bestj > blo && a[besti - 1] === b[bestj - 1]) {
      besti--;
      bestj--;
      bestsize++;
    }
    while (
      besti + bestsize < ahi && bestj + bestsize < bhi &&
      a[besti + bestsize] === b[bestj + bestsize]
    ) {
      bestsize++;
    }
    // Python's two junk-extension loops follow here; with an empty junk set they never run.
    return { a: besti, b: bestj, size: bestsize };
  }

  /** Python `get_matching_blocks()`, including the sort, the adjacent-block merge and the sentinel. */
  getMatchingBlocks(): MatchBlock[] {
    const la = this.a.length;
    const lb = this.b.length;
    const queue: [number, number, number, number][] = [[0, la, 0, lb]];
    const blocks: MatchBlock[] = [];
    while (queue.length > 0) {
      const [alo, ahi, blo, bhi] = queue.pop()!;
      const x = this.findLongestMatch(alo, ahi, blo, bhi);
      const { a: i, b: j, size: k } = x;
      if (k) {
        blocks.push(x);
        if (alo < i && blo < j) queue.push([alo, i, blo, j]);
        if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
      }
    }
    blocks.sort((x, y) => x.a - y.a || x.b - y.b || x.size - y.size);
    const out: MatchBlock[] = [];
    let i1 = 0, j1 = 0, k1 = 0;
    for (const { a: i2, b: j2, size: k2 } of blocks) {
      if (i1 + k1 === i2 && j1 + k1 === j2) k1 += k2;
      else {
        if (k1) out.push({ a: i1, b: j1, size: k1 });
        i1 = i2;
        j1 = j2;
        k1 = k2;
      }
    }
    if (k1) out.push({ a: i1, b: j1, size: k1 });
    out.push({ a: la, b: lb, size: 0 });
    return out;
  }

  /** Python `ratio()`: 2·M / (len(a) + len(b)), and 1.0 when both are empty. */
  ratio(): number {
    let matches = 0;
    for (const blk of this.getMatchingBlocks()) matches += blk.size;
    const length = this.a.length + this.b.length;
    return length ? (2.0 * matches) / length : 1.0;
  }
}

/** `difflib.SequenceMatcher(None, a, b).ratio()`. */
export function sequenceRatio(a: string, b: string): number {
  return new SequenceMatcher(a, b).ratio();
}
