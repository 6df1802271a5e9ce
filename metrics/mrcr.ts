/**
 * OpenAI MRCR grading (the official `grade` from the openai/mrcr card, as used by GoLongRL's
 * `mrcr_eval.py`): 0 unless the response starts with `random_string_to_prepend`; otherwise strip
 * that prefix from both strings (`str.removeprefix`) and return difflib's
 * `SequenceMatcher(None, response, answer).ratio()`.
 *
 * Thinking removal (`strip_thinking`) happens before grading and is not part of this function.
 *
 * @module
 */

import { sequenceRatio } from "./difflib.ts";

function removePrefix(s: string, prefix: string): string {
  return s.startsWith(prefix) ? s.slice(prefix.length) : s;
}

/** `grade(response, answer, random_string_to_prepend)` in [0, 1]. */
export function mrcrGrade(response: string, answer: string, randomStringToPrepend: string): number {
  if (!response.startsWith(randomStringToPrepend)) return 0.0;
  return sequenceRatio(
    removePrefix(response, randomStringToPrepend),
    removePrefix(answer, randomStringToPrepend),
  );
}
