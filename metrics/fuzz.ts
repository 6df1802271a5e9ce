/**
 * fuzzywuzzy / thefuzz `fuzz.ratio(s1, s2)` on its pure-Python path (no python-Levenshtein),
 * which is what LongBench's `code_sim_score` calls.
 *
 * Decorator order in the original is check_for_none → check_for_equivalence →
 * check_empty_string, so `ratio("", "") == 100` (equal wins before the empty check) while
 * `ratio("", "x") == 0`. The value is `int(round(100 * SequenceMatcher(None, s1, s2).ratio()))`,
 * with Python's round-half-to-even.
 *
 * With python-Levenshtein installed fuzzywuzzy switches to `Levenshtein.ratio`, which can
 * differ; we follow difflib (documented in docs/metrics.md).
 *
 * @module
 */

import { sequenceRatio } from "./difflib.ts";
import { pyRound } from "./pystr.ts";

/** `fuzz.ratio(s1, s2)`: an integer in [0, 100]. */
export function fuzzRatio(s1: string, s2: string): number {
  if (s1 === s2) return 100;
  if (s1.length === 0 || s2.length === 0) return 0;
  return pyRound(100 * sequenceRatio(s1, s2));
}
