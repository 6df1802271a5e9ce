/**
 * Numerical reasoning (recipe §1.6; reference `__init__.py` branch `math_longcot_math_verify` →
 * `math_dapo.compute_score(..., is_longcot=True, is_use_math_verify=True)`).
 *
 * The gold: ground_truth (its last element if a list) when it is a string, else its
 * `golden_label`. The checking itself (last 500 characters of the full response, Math-Verify-like
 * parse and equivalence) lives in `tasks/math/verify.ts`.
 *
 * @module
 */
import { mathVerifyReward } from "./math/verify.ts";
import { describe, getKey, lastIfList } from "./format.ts";
import type { VerifierContext, VerifierOutput, VerifierSpec } from "./types.ts";

/** The gold answer string of a math sample. */
export function mathGold(groundTruth: unknown): string {
  const gt = lastIfList(groundTruth);
  const gold = typeof gt === "string" ? gt : getKey(gt, "golden_label");
  if (typeof gold !== "string") {
    throw new TypeError(`math gold must be a string, got ${describe(gold)}`);
  }
  return gold;
}

function mathFn(ctx: VerifierContext): VerifierOutput {
  const r = mathVerifyReward(ctx.response, mathGold(ctx.groundTruth));
  return {
    score: r.correct ? 1 : 0,
    details: { extracted: r.extracted, normalized: r.normalized, reason: r.reason },
  };
}

export const mathVerifier: VerifierSpec = {
  task: "numerical_reasoning",
  description: "Math-Verify equivalence of the last 500 characters of the response with the gold",
  reads: "full",
  fn: mathFn,
};
