/**
 * EM, precise retrieval (recipe §1.4; reference `EM_judge.py`).
 *
 * prediction = post-think text, Python-stripped; label = `golden_label`, Python-stripped.
 * Reward 1 iff they are equal: case-sensitive, no punctuation, article or Unicode normalization
 * ("é" NFC and NFD differ).
 *
 * @module
 */
import { clipForDetails, describe, getKey, lastIfList } from "./format.ts";
import { pyStrip } from "../metrics/pystr.ts";
import type { VerifierContext, VerifierOutput, VerifierSpec } from "./types.ts";

/** Score one post-think text against a label (both stripped, then compared exactly). */
export function exactMatch(postThinkText: string, label: string): number {
  return pyStrip(label) === pyStrip(postThinkText) ? 1 : 0;
}

function emFn(ctx: VerifierContext): VerifierOutput {
  const gt = lastIfList(ctx.groundTruth);
  const label = getKey(gt, "golden_label");
  if (typeof label !== "string") {
    throw new TypeError(`golden_label must be a string, got ${describe(label)}`);
  }
  const score = exactMatch(ctx.response, label);
  return { score, details: { extracted: clipForDetails(pyStrip(ctx.response)) } };
}

export const emVerifier: VerifierSpec = {
  task: "precise_retrieval",
  description: "exact match of the stripped post-think text with golden_label (case-sensitive)",
  reads: "post-think",
  fn: emFn,
};
