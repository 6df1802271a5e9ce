/**
 * The one rollout helper: prompts (chat messages, raw text or token ids) → the chat template →
 * batched {@link generate} → per rollout its tokens, logprobs, decoded text, finish reason and
 * prompt length. `model generate`, difficulty filtering, the eval's local backend and the
 * trainer all sample through it, with one tokenizer interface.
 *
 * Text follows verl's reward decoding (recipe §1.2): the generated tokens with special tokens
 * skipped and a trailing EOS removed; the prompt is not included. A stop string cuts the text
 * before it. Sampling streams are keyed by (seed, rowIdBase + prompt·n + sample, step), so a
 * rollout does not depend on how prompts are batched.
 *
 * @module
 */
import type { ChatMessage, ChatOptions } from "../core/tokenizer/chat.ts";
import { generate } from "./generate.ts";
import type { Qwen3 } from "./qwen3.ts";

/** What rollouts need of a tokenizer (core/tokenizer/tokenizer.ts's Tokenizer fits). */
export interface RolloutTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[], opts?: { skipSpecial?: boolean }): string;
  eosIds: number[];
  applyChatTemplate(messages: readonly ChatMessage[], opts?: ChatOptions): string;
}

/** One prompt: chat messages (templated), raw text, or token ids. */
export type RolloutPrompt =
  | { messages: readonly ChatMessage[] }
  | { text: string }
  | { tokens: readonly number[] };

/** Sampling settings of {@link rollout}. */
export interface RolloutOptions {
  /** Completions per prompt. */
  n: number;
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  /** 0 = no limit. */
  topK?: number;
  seed: number;
  /** Row id of the first completion (see the module doc); default 0. */
  rowIdBase?: number;
  /** Strings that end a completion; the text is cut before them. */
  stop?: string[];
  /** Qwen3's `enable_thinking` for chat prompts; unset leaves the template's default. */
  enableThinking?: boolean;
  /** Most prompts per generate() call (bounds the KV cache); default all at once. */
  batchPrompts?: number;
  /** Called with the number of prompts finished so far. */
  onProgress?: (promptsDone: number) => void;
}

/** One sampled completion. */
export interface Rollout {
  /** Index of its prompt in the input. */
  prompt: number;
  /** 0..n-1 within its prompt. */
  sample: number;
  promptTokens: number[];
  /** Generated ids (with the EOS token when it ended on one). */
  tokens: number[];
  /** The sampler's log softmax(logits / temperature) of each generated token. */
  logprobs: number[];
  /** Decoded response: special tokens skipped, trailing EOS removed, cut at a stop string. */
  text: string;
  finishReason: "eos" | "stop" | "length";
}

/** The prompt's token ids: chat messages go through the chat template with a generation prompt. */
export function promptIds(
  tok: Pick<RolloutTokenizer, "encode" | "applyChatTemplate">,
  p: RolloutPrompt,
  opts: { enableThinking?: boolean } = {},
): number[] {
  if ("tokens" in p) return [...p.tokens];
  if ("text" in p) return tok.encode(p.text);
  return tok.encode(tok.applyChatTemplate(p.messages, {
    addGenerationPrompt: true,
    enableThinking: opts.enableThinking,
  }));
}

/** The reward text of a completion (see the module doc). */
export function responseText(
  tok: RolloutTokenizer,
  tokens: readonly number[],
  finishReason: Rollout["finishReason"],
  stop?: readonly string[],
): string {
  const ids = finishReason === "eos" ? tokens.slice(0, -1) : tokens;
  if (ids.length === 0) return ""; // an immediate EOS (HF's decode refuses an empty list)
  let text = tok.decode(ids, { skipSpecial: true });
  if (finishReason === "stop" && stop?.length) {
    const cuts = stop.map((s) => text.indexOf(s)).filter((i) => i >= 0);
    if (cuts.length) text = text.slice(0, Math.min(...cuts));
  }
  return text;
}

/** Samples `opts.n` completions for every prompt, in prompt order then sample order. */
export async function rollout(
  model: Qwen3,
  tok: RolloutTokenizer,
  prompts: readonly (RolloutPrompt | number[])[],
  opts: RolloutOptions,
): Promise<Rollout[]> {
  const ids = prompts.map((p) =>
    Array.isArray(p) ? p : promptIds(tok, p, { enableThinking: opts.enableThinking })
  );
  const per = Math.max(1, opts.batchPrompts ?? ids.length);
  const stop = opts.stop?.filter((s) => s.length > 0);
  const out: Rollout[] = [];
  for (let i = 0; i < ids.length; i += per) {
    const batch = ids.slice(i, i + per);
    const { completions } = await generate(model, batch, {
      n: opts.n,
      maxNewTokens: opts.maxNewTokens,
      temperature: opts.temperature,
      topP: opts.topP,
      topK: opts.topK ?? 0,
      seed: opts.seed,
      rowIdBase: (opts.rowIdBase ?? 0) + i * opts.n,
      eosIds: tok.eosIds,
      stop: stop?.length ? stop : undefined,
      decode: (t) => tok.decode(t, { skipSpecial: false }),
    });
    for (const c of completions) {
      out.push({
        prompt: i + c.prompt,
        sample: c.sample,
        promptTokens: batch[c.prompt],
        tokens: c.tokens,
        logprobs: c.logprobs,
        text: responseText(tok, c.tokens, c.finishReason, stop),
        finishReason: c.finishReason,
      });
    }
    opts.onProgress?.(Math.min(ids.length, i + per));
  }
  return out;
}
