/**
 * Fitting a prompt into `--max-input-tokens`: every request the runner sends has at most that
 * many prompt tokens (counted with the chat template and generation prompt when the tokenizer
 * has one, plus an assistant prefill), or the item is reported as failed with the reason.
 *
 * Two rules, as the official scripts cut:
 *
 * - "document" (LongBench `pred.py`, DocMath via evalscope, Frames, LBV1-QA, CorpusQA,
 *   LongMemEval): the message holding the document (the item's `document` text, else the longest
 *   message) is cut in its middle by tokens: the first ⌊k/2⌋ and last ⌊k/2⌋ of its ids survive,
 *   k chosen so the whole prompt fits. The text before and after the document inside that
 *   message (instructions, the question, the choices) and every other message (system prompts)
 *   are kept verbatim: when the middle cut would reach into them the cut moves into the
 *   document instead. With no protected text this is exactly the reference's cut of the prompt.
 * - "mrcr" (mrcr_eval.py `middle_truncate_messages`): keep the last message whole; the earlier
 *   contents, joined by "\n", become one user message middle-truncated to
 *   max − tokens(last) − 1024. The reference stops there; here, if the chat template still
 *   overflows, the budget shrinks until it fits.
 *
 * Re-encoding decoded text can differ by a token or two at the cut under BPE, so the result is
 * counted again and the cut deepened until it fits (a few rounds at most). The document is
 * encoded once; the rest of the prompt is counted apart, and the whole prompt is counted only
 * when their sum is within a few tokens of the limit (long documents dominate the cost).
 *
 * @module
 */

import { middleTruncateIds, type TruncMessage, type TruncTokenizer } from "./truncate.ts";

/** Which cut an item takes (see the module doc). */
export type FitRule = "document" | "mrcr";

/** What {@link fitPrompt} needs to know of an item. */
export interface FitInput {
  messages: readonly TruncMessage[];
  /** The long text inside one message that may be cut (verbatim substring of that message). */
  document?: string;
  /** Text that starts the assistant turn (counted as prompt tokens). */
  prefill?: string;
  rule?: FitRule;
}

/** The fitted prompt, or why it cannot fit. */
export type FitResult =
  | { ok: true; messages: TruncMessage[]; truncated: boolean; tokens: number; before: number }
  | { ok: false; error: string; before: number };

/** Prompt tokens of a request: the chat template with generation prompt, plus the prefill. */
export function promptTokens(
  tok: TruncTokenizer,
  messages: readonly TruncMessage[],
  prefill?: string,
): number {
  const base = tok.applyChatTemplate
    ? tok.encode(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).length
    : messages.reduce((a, m) => a + tok.encode(m.content).length, 0);
  return base + (prefill ? tok.encode(prefill).length : 0);
}

const ROUNDS = 8;
/**
 * Tokens by which joining texts can change their separate counts (BPE merges and
 * pre-tokenization at two junctions); within this of the limit the whole prompt is counted.
 */
const JUNCTION_SLACK = 16;

/** Fits `input` into `max` prompt tokens (see the module doc). */
export function fitPrompt(tok: TruncTokenizer, input: FitInput, max: number): FitResult {
  const count = (ms: readonly TruncMessage[]) => promptTokens(tok, ms, input.prefill);
  if (input.rule === "mrcr") {
    const before = count(input.messages);
    if (before <= max) return unchanged(input.messages, before);
    return fitMrcr(tok, input, max, before, count);
  }
  return fitDocument(tok, input, max, count);
}

function unchanged(messages: readonly TruncMessage[], tokens: number): FitResult {
  return { ok: true, messages: messages.slice(), truncated: false, tokens, before: tokens };
}

/** The message to cut and the document's span in it (the longest message when none is named). */
function locate(
  msgs: readonly TruncMessage[],
  document?: string,
): { at: number; start: number; end: number } | undefined {
  let at = -1;
  let start = 0;
  let end = 0;
  if (document) {
    // The longest message holding the document (a short prompt could quote it too).
    for (let i = 0; i < msgs.length; i++) {
      const j = msgs[i].content.indexOf(document);
      if (j >= 0 && (at < 0 || msgs[i].content.length > msgs[at].content.length)) {
        at = i;
        start = j;
        end = j + document.length;
      }
    }
  }
  if (at < 0) {
    for (let i = 0; i < msgs.length; i++) {
      if (at < 0 || msgs[i].content.length > msgs[at].content.length) at = i;
    }
    if (at < 0) return undefined;
    start = 0;
    end = msgs[at].content.length;
  }
  return { at, start, end };
}

function fitDocument(
  tok: TruncTokenizer,
  input: FitInput,
  max: number,
  count: (ms: readonly TruncMessage[]) => number,
): FitResult {
  const msgs = input.messages;
  const span = locate(msgs, input.document);
  if (!span) return { ok: false, error: "no messages", before: 0 };
  const { at } = span;
  const content = msgs[at].content;
  const head = content.slice(0, span.start);
  const tail = content.slice(span.end);
  const withDoc = (doc: string): TruncMessage[] => {
    const out = msgs.slice();
    out[at] = { role: msgs[at].role, content: head + doc + tail };
    return out;
  };
  // One encode of the document; the rest of the prompt is small. Their sum is the prompt's
  // count up to the junctions, so only a prompt near the limit is counted whole.
  const docIds = tok.encode(content.slice(span.start, span.end));
  const others = count(withDoc(""));
  let before = others + docIds.length;
  if (Math.abs(before - max) <= JUNCTION_SLACK) before = count(msgs);
  if (before <= max) return unchanged(msgs, before);
  const headN = tok.encode(head).length;
  const tailN = tok.encode(tail).length;
  // Tokens of the message we may keep: its share minus the excess.
  let k = headN + docIds.length + tailN - (before - max);
  for (let round = 0; round < ROUNDS; round++) {
    if (k < headN + tailN) break;
    // The reference keeps ⌊k/2⌋ of the message's ids at each end; the protected head and tail
    // stay whole, so the document's own share on each side is what is left of that half.
    const half = Math.floor(k / 2);
    const keep = k - headN - tailN;
    let left = Math.max(half - headN, 0);
    let right = Math.max(half - tailN, 0);
    // A protected end longer than its half takes it whole; the document keeps the other end.
    if (headN > half) right = keep;
    else if (tailN > half) left = keep;
    left = Math.min(left, keep);
    right = Math.min(right, keep - left);
    const doc = tok.decode(docIds.slice(0, left), { skipSpecial: true }) +
      (right > 0 ? tok.decode(docIds.slice(docIds.length - right), { skipSpecial: true }) : "");
    const out = withDoc(doc);
    const n = count(out);
    if (n <= max) return { ok: true, messages: out, truncated: true, tokens: n, before };
    k -= n - max;
  }
  return {
    ok: false,
    error: `prompt of ${before} tokens cannot fit ${max}: ${others} tokens are outside the ` +
      "document (system prompts, instructions, question)",
    before,
  };
}

function fitMrcr(
  tok: TruncTokenizer,
  input: FitInput,
  max: number,
  before: number,
  count: (ms: readonly TruncMessage[]) => number,
): FitResult {
  const msgs = input.messages;
  const query = msgs[msgs.length - 1];
  const onlyQuery = [query];
  let budget = max - tok.encode(query.content).length - 1024;
  const prefixIds = tok.encode(msgs.slice(0, -1).map((m) => m.content).join("\n"));
  for (let round = 0; round < ROUNDS && budget > 0; round++) {
    const kept = middleTruncateIds(prefixIds, budget);
    const out: TruncMessage[] = [
      { role: "user", content: tok.decode(kept, { skipSpecial: true }) },
      query,
    ];
    const n = count(out);
    if (n <= max) return { ok: true, messages: out, truncated: true, tokens: n, before };
    budget -= n - max;
  }
  const n = count(onlyQuery);
  if (n <= max) return { ok: true, messages: onlyQuery, truncated: true, tokens: n, before };
  return {
    ok: false,
    error: `the last message alone is ${n} prompt tokens, over the limit of ${max}`,
    before,
  };
}
