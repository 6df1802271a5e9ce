/**
 * ROUGE-L exactly as the Python `rouge` package (pltrdy, v1.0.x) computes it:
 * `Rouge().get_scores(hyp, ref)[0]["rouge-l"]`, i.e. `rouge_l_summary_level` with
 * `exclusive=True` (set semantics). See recipe.md §1.3 and docs/metrics.md.
 *
 * Differences from the Python original are deliberate and only concern failure modes:
 * the LCS backtrack is iterative (pltrdy recurses and raises RecursionError on sentences longer
 * than roughly 1000 words; callers in LongBench catch that and score 0), and the DP table is a
 * flat typed array per sentence pair instead of a dict.
 *
 * @module
 */

import { pyCollapse } from "./pystr.ts";

export interface RougeScore {
  f: number;
  p: number;
  r: number;
}

/** `[" ".join(_.split()) for _ in text.split(".") if len(_) > 0]` from `Rouge.get_scores`. */
export function rougeSentences(text: string): string[] {
  const out: string[] = [];
  for (const piece of text.split(".")) {
    // The length test happens before whitespace collapsing, so " " survives as "".
    if (piece.length > 0) out.push(pyCollapse(piece));
  }
  return out;
}

/** Largest DP table (in cells) `lcsWords` will allocate: 64M cells ≈ 128 MB of Uint16. */
export const MAX_LCS_CELLS = 64 * 1024 * 1024;

/**
 * The words of one LCS of `x` and `y`, reconstructed with pltrdy's tie-breaking:
 * equal tokens → diagonal; else up if T[i-1][j] > T[i][j-1], otherwise left.
 */
export function lcsWords(x: readonly string[], y: readonly string[]): string[] {
  const ids = new Map<string, number>();
  const idOf = (w: string) => {
    let id = ids.get(w);
    if (id === undefined) ids.set(w, id = ids.size);
    return id;
  };
  const xi = Int32Array.from(x, idOf);
  const yi = Int32Array.from(y, idOf);
  return lcsIndices(xi, yi).map((i) => x[i]);
}

/** The LCS table, grown to the largest pair seen (at most MAX_LCS_CELLS cells, 128 MB). */
let scratch = new Uint16Array(0);

/**
 * Indices into `x` of one LCS of two word-id sequences (pltrdy's tie-breaking, see
 * {@link lcsWords}). Comparing integer ids instead of strings makes the DP several times
 * faster, which matters for the worst case the reward service must budget for.
 */
function lcsIndices(x: Int32Array, y: Int32Array): number[] {
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return [];
  const w = m + 1;
  const cells = (n + 1) * w;
  if (cells > MAX_LCS_CELLS) {
    // pltrdy would already have died of RecursionError (its backtrack recurses once per step,
    // so any pair needing more than ~1000 steps raises); fail loudly instead of exhausting memory.
    throw new Error(`rouge: sentence pair too long for LCS (${n}×${m} words)`);
  }
  // Memory is (n+1)(m+1) cells per pair. Uint16 cells hold any LCS length: the cell cap keeps
  // min(n, m) far below 65536. The table is reused across pairs: allocating (and freeing) up to
  // 128 MB per pair costs page faults that stall every thread of the process, the reward
  // server's event loop included. Only row 0 and column 0 must start at zero.
  if (scratch.length < cells) scratch = new Uint16Array(cells);
  const t = scratch;
  t.fill(0, 0, w);
  for (let i = 1; i <= n; i++) t[i * w] = 0;
  for (let i = 1; i <= n; i++) {
    const xv = x[i - 1];
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= m; j++) {
      if (xv === y[j - 1]) t[row + j] = t[prev + j - 1] + 1;
      else {
        const up = t[prev + j];
        const left = t[row + j - 1];
        t[row + j] = up > left ? up : left;
      }
    }
  }
  const out: number[] = [];
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    if (x[i - 1] === y[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (t[(i - 1) * w + j] > t[i * w + j - 1]) {
      i--;
    } else {
      j--;
    }
  }
  return out.reverse();
}

/** `rouge_l_summary_level(evaluated_sentences, reference_sentences)` with `exclusive=True`. */
export function rougeLSummaryLevel(hypSents: readonly string[], refSents: readonly string[]) {
  if (hypSents.length === 0 || refSents.length === 0) {
    throw new Error("rouge: Collections must contain at least 1 sentence.");
  }
  const refWords = refSents.map((s) => s.split(" "));
  const hypWords = hypSents.map((s) => s.split(" "));
  const ids = new Map<string, number>();
  const idOf = (w: string) => {
    let id = ids.get(w);
    if (id === undefined) ids.set(w, id = ids.size);
    return id;
  };
  // Word ids only for sentences that reach the DP (most are skipped below).
  const refIds: (Int32Array | undefined)[] = [];
  const hypIds: (Int32Array | undefined)[] = [];
  const m = new Set(refWords.flat()).size;
  const n = new Set(hypWords.flat()).size;
  // U is a union of per-pair LCS word sets, so the order pairs are visited in does not matter,
  // and a pair can only add words common to both sentences that are not yet in U. Visiting, for
  // each reference sentence, only the hypothesis sentences that contain one of its still-missing
  // words (via an inverted index) skips the O(|r|·|h|) DP for every pair that cannot change U.
  // The result is identical to running every pair; this keeps 16K-token and 1 MB inputs fast.
  const union = new Set<string>();
  const hypSets = hypWords.map((h) => new Set(h));
  const postings = new Map<string, number[]>();
  hypSets.forEach((set, k) => {
    for (const word of set) {
      const list = postings.get(word);
      if (list) list.push(k);
      else postings.set(word, [k]);
    }
  });
  for (const [ri, r] of refWords.entries()) {
    const missing = [...new Set(r)].filter((word) => !union.has(word) && postings.has(word));
    if (missing.length === 0) continue;
    const candidates = new Set<number>();
    for (const word of missing) for (const k of postings.get(word)!) candidates.add(k);
    for (const k of [...candidates].sort((x, y) => x - y)) {
      const h = hypSets[k];
      if (!missing.some((word) => h.has(word) && !union.has(word))) continue;
      const rid = refIds[ri] ??= Int32Array.from(r, idOf);
      const hid = hypIds[k] ??= Int32Array.from(hypWords[k], idOf);
      for (const i of lcsIndices(rid, hid)) union.add(r[i]);
    }
  }
  const llcs = union.size;
  const r = llcs / m;
  const p = llcs / n;
  const f = 2.0 * ((p * r) / (p + r + 1e-8));
  return { f, p, r };
}

/**
 * ROUGE-L of the Python `rouge` package (pltrdy, v1.0.x), `get_scores(hyp, ref)[0]["rouge-l"]`.
 *
 * Throws an Error where the package raises ValueError: "Hypothesis is empty." when the hypothesis
 * has no non-empty "."-separated piece (e.g. "" or "..."), then "Reference is empty." likewise.
 * Callers that mirror LongBench's `except: return 0.0` should catch.
 */
export function rougeL(hypothesis: string, reference: string): RougeScore {
  const hyp = rougeSentences(hypothesis);
  const ref = rougeSentences(reference);
  // rouge-1 runs first in Rouge.DEFAULT_METRICS and raises these two messages in this order.
  if (hyp.length === 0) throw new Error("rouge: Hypothesis is empty.");
  if (ref.length === 0) throw new Error("rouge: Reference is empty.");
  return rougeLSummaryLevel(hyp, ref);
}
