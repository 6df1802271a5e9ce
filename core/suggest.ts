/** Closest-match suggestions for misspelled flags, commands and config keys. */

/** Levenshtein edit distance (insert, delete, substitute; each cost 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j] + 1,
        cur[j - 1] + 1,
        prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `word`, or undefined when nothing is close enough
 * (distance above a third of the word's length, at least 2) and no candidate
 * starts with it.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3))) return best;
  const prefixed = candidates.filter((c) => c.startsWith(word) && word.length >= 2);
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** " (did you mean X?)" or "" — for appending to an error message. */
export function didYouMean(word: string, candidates: readonly string[], prefix = ""): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : ` (did you mean ${prefix}${c}?)`;
}
