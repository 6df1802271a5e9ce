/**
 * A RULER-style synthetic long-context suite generated locally (NVIDIA/RULER's task designs,
 * templates and scoring) over real book text: NIAH variants, variable tracking, common-words
 * extraction and QA over NQ-Open passages. See docs/eval-benchmarks.md for the templates and the
 * (few) deviations from RULER.
 *
 * ```ts
 * const res = await loadRulerResources();
 * const s = generateRulerSample({
 *   task: "niah_single_2", length: 4096, index: 0, seed: 1, resources: res,
 *   countTokens: tokenCounter(),
 * });
 * scoreRuler(s.metric, s.outputs, s.outputs.join(" ")); // 1
 * ```
 *
 * @module
 */

import { rulerPostprocess, stringMatchAll, stringMatchPart } from "../../metrics/ruler.ts";
import { stripThink } from "../benchmarks/common.ts";

export { loadRulerResources, stripGutenberg } from "./resources.ts";
export type { BookText, NqItem, RulerResources } from "./resources.ts";
export { generateRulerSample, RULER_TASK_NAMES, RULER_TASKS } from "./tasks.ts";
export type { PlacedNeedle, RulerSample, RulerSampleOptions, RulerTask } from "./tasks.ts";
export { RULER_DEPTHS } from "./haystack.ts";

/**
 * One sample's RULER score in [0, 1]: think-stripped, `postprocess_pred`, then
 * `string_match_all` (NIAH, VT, CWE) or `string_match_part` (QA).
 */
export function scoreRuler(
  metric: "string_match_all" | "string_match_part",
  outputs: readonly string[],
  prediction: string,
): number {
  const pred = rulerPostprocess(stripThink(prediction));
  return metric === "string_match_part"
    ? stringMatchPart(pred, outputs)
    : stringMatchAll(pred, outputs);
}
