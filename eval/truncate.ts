/**
 * Fitting long inputs into a context window, and removing thinking before scoring, as the
 * GoLongRL evaluation scripts (Eval/QwenLong-Benchmarks, xiaoxuanNLP/GoLongRL) do:
 *
 * - {@link truncateMiddle}: token-level middle truncation (DocMath via evalscope
 *   `_truncate_middle`, LongBench `pred.py`): when a text has more than `max` tokens keep the
 *   first ⌊max/2⌋ and the last ⌊max/2⌋ token ids and decode back. An odd `max` therefore
 *   keeps max − 1 tokens, as the references do. Re-encoding the decoded text can differ by a
 *   token or two at the junction under BPE; the ids are exact.
 * - {@link truncateMessagesMiddle}: the MRCR rule (`middle_truncate_messages`) for
 *   multi-turn prompts: keep the last message whole; budget = max − its tokens − 1024; the
 *   earlier contents, joined by "\n", become one user message, middle-truncated to the budget.
 * - {@link truncateMiddleChars}: LongBench v1 QA's character-level cut with a marker.
 * - {@link stripThinking}: the answer after the reasoning.
 *
 * Divergence: with `max` < 2 the references keep everything (`ids[-0:]` is the whole list in
 * Python); here the result is empty, which is what a limit of 0 or 1 means.
 *
 * @module
 */

/** What truncation needs of a tokenizer (core/tokenizer/tokenizer.ts's Tokenizer fits). */
export interface TruncTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[], opts?: { skipSpecial?: boolean }): string;
  /** Used to count a whole conversation's tokens (with the generation prompt) when present. */
  applyChatTemplate?(
    messages: readonly { role: string; content: string }[],
    opts?: { addGenerationPrompt?: boolean },
  ): string;
}

/** The first ⌊max/2⌋ and last ⌊max/2⌋ ids when there are more than `max`; else a copy. */
export function middleTruncateIds(ids: readonly number[], max: number): number[] {
  if (ids.length <= max) return ids.slice();
  const half = Math.floor(Math.max(0, max) / 2);
  return half === 0 ? [] : [...ids.slice(0, half), ...ids.slice(ids.length - half)];
}

/** Options of {@link truncateMiddle}. */
export interface TruncateOptions {
  /**
   * Decode the two halves separately and concatenate (LongBench `pred.py`, which also skips
   * special tokens) instead of decoding the joined ids (evalscope DocMath; default).
   */
  decodeHalves?: boolean;
  /** Drop special tokens when decoding (default: true with decodeHalves, else false). */
  skipSpecial?: boolean;
}

/** Result of a truncation. */
export interface Truncated {
  text: string;
  truncated: boolean;
  /** Token count before truncation. */
  tokens: number;
  /** Token ids kept (before decoding). */
  keptTokens: number;
}

/** Middle-truncates `text` to at most `max` tokens (see the module doc). */
export function truncateMiddle(
  tok: TruncTokenizer,
  text: string,
  max: number,
  opts: TruncateOptions = {},
): Truncated {
  const ids = tok.encode(text);
  if (ids.length <= max) {
    return { text, truncated: false, tokens: ids.length, keptTokens: ids.length };
  }
  const kept = middleTruncateIds(ids, max);
  const half = kept.length / 2;
  const skipSpecial = opts.skipSpecial ?? Boolean(opts.decodeHalves);
  const out = opts.decodeHalves
    ? tok.decode(kept.slice(0, half), { skipSpecial }) +
      tok.decode(kept.slice(half), { skipSpecial })
    : tok.decode(kept, { skipSpecial });
  return { text: out, truncated: true, tokens: ids.length, keptTokens: kept.length };
}

/** A chat message as truncation sees it. */
export interface TruncMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Result of {@link truncateMessagesMiddle}. */
export interface TruncatedMessages {
  messages: TruncMessage[];
  truncated: boolean;
  /** Token count of the conversation before truncation. */
  tokens: number;
}

/**
 * The MRCR rule: when the conversation (rendered with the chat template and the generation
 * prompt when the tokenizer has one, else the sum of content tokens) exceeds `max` tokens,
 * keep the last message whole and put the earlier contents, joined by "\n" and middle-
 * truncated to `max − last − reserve` tokens (decoded skipping special tokens), into one user
 * message before it. With no budget left only the last message remains.
 */
export function truncateMessagesMiddle(
  tok: TruncTokenizer,
  messages: readonly TruncMessage[],
  max: number,
  opts: { reserve?: number } = {},
): TruncatedMessages {
  const total = tok.applyChatTemplate
    ? tok.encode(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).length
    : messages.reduce((a, m) => a + tok.encode(m.content).length, 0);
  if (max <= 0 || total <= max || messages.length === 0) {
    return { messages: messages.slice(), truncated: false, tokens: total };
  }
  const query = messages[messages.length - 1];
  const budget = max - tok.encode(query.content).length - (opts.reserve ?? 1024);
  if (budget <= 0) return { messages: [query], truncated: true, tokens: total };
  let prefix = messages.slice(0, -1).map((m) => m.content).join("\n");
  const ids = tok.encode(prefix);
  if (ids.length > budget) {
    prefix = tok.decode(middleTruncateIds(ids, budget), { skipSpecial: true });
  }
  return { messages: [{ role: "user", content: prefix }, query], truncated: true, tokens: total };
}

/**
 * LongBench v1 QA's character cut (lbv1qa_eval.py `middle_truncate`): the first and last
 * ⌊max/2⌋ characters (code points) around `marker`.
 */
export function truncateMiddleChars(
  text: string,
  maxChars: number,
  marker = "\n...[truncated]...\n",
): string {
  const chars = [...text];
  if (chars.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  return chars.slice(0, half).join("") + marker + (half ? chars.slice(-half).join("") : "");
}

/**
 * How thinking is removed:
 * - "last" (default; LBV1-QA, CorpusQA, LongMemEval `strip_think`, evalscope
 *   `remove_until`): the text after the last `</think>`, trimmed; without one, the trimmed text.
 * - "mrcr" (mrcr_eval.py): remove `<think>…</think>` blocks, then keep what follows the first
 *   remaining `</think>`; trimmed.
 * - "frames" (score_frame.py): remove `<think>…</think>` blocks, then keep what follows the
 *   last remaining `</think>`; trimmed.
 */
export type ThinkStyle = "last" | "mrcr" | "frames";

/** The answer part of a response (see {@link ThinkStyle}), trimmed. */
export function stripThinking(text: string, style: ThinkStyle = "last"): string {
  return removeThinking(text, style).trim();
}

/** {@link stripThinking} without the final trim (callers with Python strip semantics trim it). */
export function removeThinking(text: string, style: ThinkStyle = "last"): string {
  if (style === "last") {
    const i = text.lastIndexOf("</think>");
    return i >= 0 ? text.slice(i + "</think>".length) : text;
  }
  let t = text.replace(/<think>[\s\S]*?<\/think>/g, "");
  const i = style === "mrcr" ? t.indexOf("</think>") : t.lastIndexOf("</think>");
  if (i >= 0) t = t.slice(i + "</think>".length);
  return t;
}
