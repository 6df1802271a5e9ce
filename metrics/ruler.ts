/**
 * RULER synthetic-task metrics (NVIDIA/RULER `scripts/eval/synthetic/constants.py`) and the
 * prediction post-processing of `scripts/eval/evaluate.py`.
 *
 * The Python returns one aggregate ×100 rounded to 2 dp; here the per-sample values in [0, 1]
 * are exported too, and `rulerAggregate` reproduces the aggregate.
 *
 * @module
 */

import { pyRound, pyStrip } from "./pystr.ts";

/** `postprocess_pred`: strip, replace each `[\x00-\x1f]` by "\n", strip again. */
export function rulerPostprocess(prediction: string): string {
  // deno-lint-ignore no-control-regex -- matching control characters is the point here
  return pyStrip(pyStrip(prediction).replace(/[\x00-\x1f]/g, "\n"));
}

/** One sample of `string_match_all`: the share of references contained (case-insensitively). */
export function stringMatchAll(prediction: string, references: readonly string[]): number {
  if (references.length === 0) return 0;
  const pred = prediction.toLowerCase();
  let hit = 0;
  for (const r of references) if (pred.includes(r.toLowerCase())) hit++;
  return hit / references.length;
}

/** One sample of `string_match_part`: 1 if any reference is contained (case-insensitively). */
export function stringMatchPart(prediction: string, references: readonly string[]): number {
  const pred = prediction.toLowerCase();
  for (const r of references) if (pred.includes(r.toLowerCase())) return 1.0;
  return 0.0;
}

/** The task-level value the Python returns: `round(sum(per-sample) / n * 100, 2)`. */
export function rulerAggregate(perSample: readonly number[]): number {
  if (perSample.length === 0) return 0;
  let sum = 0;
  for (const v of perSample) sum += v;
  return pyRound((sum / perSample.length) * 100, 2);
}
