/**
 * Multiple choice, comprehension (recipe §1.5; reference `multi_choices.py`).
 *
 * The post-think text with every `*` deleted; the first match of `The correct answer is (X)`
 * (X in A–D), else the first match of `The correct answer is X`. Case-sensitive. The same
 * extraction runs on `golden_label`; reward 1 iff the extracted letter equals the raw label or the
 * letter extracted from it.
 *
 * @module
 */
import { describe, getKey, lastIfList } from "./format.ts";
import type { VerifierContext, VerifierOutput, VerifierSpec } from "./types.ts";

const PAREN = /The correct answer is \(([A-D])\)/;
const BARE = /The correct answer is ([A-D])/;

/** `extract_answer`: the chosen letter, or null. */
export function extractChoice(text: string): string | null {
  const t = text.includes("*") ? text.replaceAll("*", "") : text;
  const m = PAREN.exec(t) ?? BARE.exec(t);
  return m ? m[1] : null;
}

function selectionFn(ctx: VerifierContext): VerifierOutput {
  const gt = lastIfList(ctx.groundTruth);
  const label = getKey(gt, "golden_label");
  if (typeof label !== "string") {
    throw new TypeError(`golden_label must be a string, got ${describe(label)}`);
  }
  const extracted = extractChoice(ctx.response);
  const labelExtracted = extractChoice(label);
  const score = extracted !== null && (extracted === label || extracted === labelExtracted) ? 1 : 0;
  return { score, details: { extracted, label: labelExtracted ?? label } };
}

export const selectionVerifier: VerifierSpec = {
  task: "comprehension",
  description: 'multiple choice: "The correct answer is (X)" in the post-think text, X in A-D',
  reads: "post-think",
  fn: selectionFn,
};
