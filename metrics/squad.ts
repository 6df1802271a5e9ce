/**
 * SQuAD v1.1 official metrics (`evaluate-v1.1.py`): exact match and bag-of-tokens F1 after
 * `normalize_answer`, and the max over ground truths.
 *
 * `metric_max_over_ground_truths` raises on an empty list in Python; here it returns 0 so that
 * every metric yields a finite number.
 *
 * @module
 */

import { normalizeAnswer } from "./normalize.ts";
import { pySplit } from "./pystr.ts";

/**
 * F1 over two token lists with multiset (`collections.Counter`) intersection; 0 when nothing
 * overlaps. Shared by SQuAD and LongBench (`f1_score`).
 */
export function tokenF1(prediction: readonly string[], groundTruth: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const t of groundTruth) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of prediction) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = (1.0 * same) / prediction.length;
  const recall = (1.0 * same) / groundTruth.length;
  return (2 * precision * recall) / (precision + recall);
}

/** SQuAD `exact_match_score`: 1 if the normalized strings are equal, else 0. */
export function squadExactMatch(prediction: string, groundTruth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(groundTruth) ? 1 : 0;
}

/** SQuAD `f1_score`. */
export function squadF1(prediction: string, groundTruth: string): number {
  return tokenF1(pySplit(normalizeAnswer(prediction)), pySplit(normalizeAnswer(groundTruth)));
}

/** `metric_max_over_ground_truths`; 0 for an empty answer list. */
export function maxOverGroundTruths(
  metric: (prediction: string, groundTruth: string) => number,
  prediction: string,
  groundTruths: readonly string[],
): number {
  let best = 0;
  let first = true;
  for (const gt of groundTruths) {
    const v = metric(prediction, gt);
    if (first || v > best) best = v;
    first = false;
  }
  return best;
}
