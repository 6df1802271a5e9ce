/**
 * The GoLongRL "numerical reasoning" reward (recipe §1.6), a TypeScript stand-in for
 * HuggingFace Math-Verify:
 *
 * 1. take the last 500 characters (code points) of the full response;
 * 2. extract the final answer with Math-Verify's default priorities (`extract.ts`);
 * 3. correct if the extracted string equals the gold string;
 * 4. otherwise correct if gold (read as `\boxed{gold}`) and the answer are mathematically
 *    equivalent (`compare.ts`).
 *
 * Nothing here throws on any input, and all work is bounded: the response window is 500
 * characters, gold answers longer than `MAX_ANSWER_CHARS` are compared as strings only, and the
 * parser refuses nesting beyond its depth budget. See docs/math-equivalence.md.
 */

import { type Candidate, extractCandidate } from "./extract.ts";
import { MATH_WORDS, MAX_ANSWER_CHARS, normalizeAnswer, normalizeText } from "./latex.ts";
import { type Node, parseMath } from "./parse.ts";
import { equivalentNodes } from "./compare.ts";

export interface MathVerifyResult {
  correct: boolean;
  extracted: string | null;
  normalized: string | null;
  reason: string;
}

/** Size of the response tail that is searched for an answer (recipe §1.6 step 2). */
export const RESPONSE_WINDOW = 500;

/** One answer read three ways: normalized LaTeX, parsed math, and prose. */
interface Answer {
  raw: string;
  norm: string | null;
  node: Node | null;
  text: string | null;
}

/** Words-only answers ("Yes", "no solution", "Tuesday") are prose, not products of symbols. */
function isProse(s: string): boolean {
  if (!/^[\p{L}\s'’,.!?()-]+$/u.test(s)) return false;
  const words = s.match(/\p{L}+/gu) ?? [];
  return words.some((w) => w.length >= 2 && !MATH_WORDS.has(w.toLowerCase()));
}

function analyze(raw: string): Answer {
  const norm = normalizeAnswer(raw);
  if (norm === null || norm === "") return { raw, norm, node: null, text: null };
  if (isProse(norm)) return { raw, norm, node: null, text: normalizeText(norm) };
  return { raw, norm, node: parseMath(norm), text: null };
}

/** Gold-first equivalence of two analyzed answers (Math-Verify's `verify(gold, pred)`). */
function equivalent(gold: Answer, pred: Answer): boolean {
  // Math-Verify also compares the two fallback strings, so identical normalized text matches
  // even when neither side parses.
  if (gold.norm && pred.norm && gold.norm === pred.norm) return true;
  if (gold.node && pred.node) return equivalentNodes(gold.node, pred.node);
  if (gold.text !== null && pred.text !== null) return gold.text !== "" && gold.text === pred.text;
  return false;
}

/** Last `n` code points of `s` (Python's `s[-n:]`), without materializing the whole string. */
function tailCodePoints(s: string, n: number): string {
  const chunk = s.length > 2 * n ? s.slice(s.length - 2 * n) : s;
  const cps = Array.from(chunk);
  return cps.length > n ? cps.slice(cps.length - n).join("") : chunk;
}

/** Extraction that also returns the analysis of the accepted candidate. */
function extract(text: string): { cand: Candidate; answer: Answer } | null {
  let answer: Answer | null = null;
  const cand = extractCandidate(text, (c) => {
    const a = analyze(c.content);
    // Boxed answers are kept even when unparsable (string comparison still applies);
    // other spans must parse, otherwise the next candidate is tried.
    const ok = a.node !== null || a.text !== null || (c.source === "boxed" && !!a.norm);
    if (ok) answer = a;
    return ok;
  });
  return cand && answer ? { cand, answer } : null;
}

/** Extracts the final answer from a text the way Math-Verify's default configs would (boxed first). */
export function extractAnswer(text: string): string | null {
  try {
    return extract(text)?.cand.content.trim() ?? null;
  } catch {
    return null;
  }
}

/** Equivalence of two answer strings (both parsed as answers). */
export function mathEquivalent(a: string, b: string): boolean {
  try {
    if (a.length > MAX_ANSWER_CHARS || b.length > MAX_ANSWER_CHARS) {
      return a.trim() === b.trim() && a.trim() !== "";
    }
    return equivalent(analyze(a), analyze(b));
  } catch {
    return false;
  }
}

/** Reward semantics of §1.6 on the full response text and the gold answer string. Never throws, never recurses deeply. */
export function mathVerifyReward(response: string, gold: string): MathVerifyResult {
  try {
    const got = extract(tailCodePoints(response, RESPONSE_WINDOW));
    if (!got) {
      return { correct: false, extracted: null, normalized: null, reason: "no answer extracted" };
    }
    const extracted = got.cand.content.trim();
    const normalized = got.answer.norm;
    const base = { extracted, normalized };
    if (extracted === gold || normalized === gold) {
      return { correct: true, ...base, reason: "string match" };
    }
    if (gold.length > MAX_ANSWER_CHARS) {
      return { correct: false, ...base, reason: "gold too long to parse" };
    }
    const goldAnswer = analyze(gold);
    if (!goldAnswer.node && goldAnswer.text === null && !goldAnswer.norm) {
      return { correct: false, ...base, reason: "gold unparsable" };
    }
    return equivalent(goldAnswer, got.answer)
      ? { correct: true, ...base, reason: "equivalent" }
      : { correct: false, ...base, reason: "not equivalent" };
  } catch (e) {
    // Defensive: a bug must cost one sample's reward, not the training step.
    return { correct: false, extracted: null, normalized: null, reason: `internal error: ${e}` };
  }
}
