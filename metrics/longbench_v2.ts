/**
 * LongBench v2 multiple-choice scoring (THUDM/LongBench `pred.py` `extract_answer`,
 * `result.py` accuracy).
 *
 * @module
 */

/**
 * `extract_answer`: delete every "*", then the first "The correct answer is (X)", else the first
 * "The correct answer is X", with X in A–D (case-sensitive). `null` when neither occurs.
 */
export function extractLongBenchV2Answer(response: string): string | null {
  const text = response.replaceAll("*", "");
  const paren = /The correct answer is \(([A-D])\)/.exec(text);
  if (paren) return paren[1];
  const bare = /The correct answer is ([A-D])/.exec(text);
  return bare ? bare[1] : null;
}

/** Per-sample accuracy: 1 if the extracted letter equals the gold letter, else 0. */
export function longBenchV2Accuracy(response: string, answer: string): number {
  return extractLongBenchV2Answer(response) === answer ? 1 : 0;
}
