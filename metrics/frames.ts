/**
 * Frames "cover exact match" (CEM) from GoLongRL `Eval/QwenLong-Benchmarks/evalscope/
 * score_frame.py`: the normalized target occurs, delimited by Python `\b` word boundaries, in
 * the normalized prediction.
 *
 * Normalization: NFKD → lowercase → `\b(a|an|the)\b` → " " → `(\d),(\d)` → `\1\2` → drop
 * `string.punctuation` → collapse whitespace. Unlike SQuAD, articles go before punctuation.
 *
 * @module
 */

import { isPyWordChar, PY_PUNCTUATION, pySplit, removeArticles } from "./pystr.ts";

const PUNCT = new Set(Array.from(PY_PUNCTUATION));

/** score_frame.py `normalize`. */
export function framesNormalize(text: string): string {
  let t = text.normalize("NFKD").toLowerCase();
  t = removeArticles(t);
  t = t.replace(/(\p{Nd}),(\p{Nd})/gu, "$1$2");
  let out = "";
  for (const ch of t) if (!PUNCT.has(ch)) out += ch;
  return pySplit(out).join(" ");
}

/** The code point ending just before UTF-16 index `pos`, if any. */
function charBefore(s: string, pos: number): string | undefined {
  if (pos <= 0) return undefined;
  const lo = s.charCodeAt(pos - 1);
  const hi = pos >= 2 ? s.charCodeAt(pos - 2) : 0;
  const pair = lo >= 0xdc00 && lo <= 0xdfff && hi >= 0xd800 && hi <= 0xdbff;
  const start = pair ? pos - 2 : pos - 1;
  return String.fromCodePoint(s.codePointAt(start)!);
}

/** Python `\b` at UTF-16 index `pos` of `s` (string edges count as non-word). */
function isBoundary(s: string, pos: number): boolean {
  const next = pos < s.length ? String.fromCodePoint(s.codePointAt(pos)!) : undefined;
  return isPyWordChar(charBefore(s, pos)) !== isPyWordChar(next);
}

/** `cem(prediction, target)`: 1 if the target is covered, else 0 (also 0 for an empty target). */
export function framesCem(prediction: string, target: string): number {
  const np = framesNormalize(prediction);
  const nt = framesNormalize(target);
  if (!nt) return 0;
  // re.search(r"\b" + re.escape(nt) + r"\b", np): try every occurrence, leftmost first.
  for (let at = np.indexOf(nt); at !== -1; at = np.indexOf(nt, at + 1)) {
    if (isBoundary(np, at) && isBoundary(np, at + nt.length)) return 1;
  }
  return 0;
}
