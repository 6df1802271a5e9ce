/**
 * One item's chat request as its benchmark's reference sends it: the benchmark's sampling
 * settings (eval/benchmarks/sampling.ts) with the item's own generation budget
 * (`meta.maxNewTokens`) and answer prefix (`meta.answerPrefix`, sent as the start of the
 * assistant turn), each overridden by the user's flags; the prompt fitted into
 * `--max-input-tokens` (eval/fit.ts), or the reason it cannot be.
 *
 * @module
 */

import type { ChatRequest } from "../core/chat/backend.ts";
import type { Benchmark, EvalItem } from "./benchmarks/types.ts";
import { fitPrompt } from "./fit.ts";
import type { TruncTokenizer } from "./truncate.ts";

/** The user's overrides; an undefined field takes the benchmark's value. */
export interface SamplingOverrides {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  /** false: never send an answer prefix. */
  answerPrefix?: boolean;
}

/** A request, or why the item cannot be sent. */
export type BuiltRequest =
  | { ok: true; request: ChatRequest; truncated: boolean; promptTokens?: number }
  | { ok: false; error: string };

/** The item's generation budget: the override, else `meta.maxNewTokens`, else the benchmark's. */
export function itemMaxTokens(bench: Benchmark, item: EvalItem, o: SamplingOverrides): number {
  const own = item.meta?.maxNewTokens;
  return o.maxTokens ?? (typeof own === "number" && own > 0 ? own : bench.sampling.maxTokens);
}

/** Builds the request of one item and sample (see the module doc). */
export function buildRequest(
  bench: Benchmark,
  item: EvalItem,
  o: SamplingOverrides,
  seed: number,
  fit?: { tokenizer: TruncTokenizer; maxInputTokens: number },
): BuiltRequest {
  const ap = item.meta?.answerPrefix;
  const prefill = o.answerPrefix !== false && typeof ap === "string" && ap !== "" ? ap : undefined;
  let messages = item.messages;
  let truncated = false;
  let promptTokens: number | undefined;
  if (fit) {
    const r = fitPrompt(fit.tokenizer, {
      messages: item.messages,
      document: item.document,
      prefill,
      rule: bench.truncation ?? "document",
    }, fit.maxInputTokens);
    if (!r.ok) return { ok: false, error: `does not fit --max-input-tokens: ${r.error}` };
    messages = r.messages;
    truncated = r.truncated;
    promptTokens = r.tokens;
  }
  const request: ChatRequest = {
    messages,
    maxTokens: itemMaxTokens(bench, item, o),
    temperature: o.temperature ?? bench.sampling.temperature,
    topP: o.topP ?? bench.sampling.topP,
    seed,
  };
  if (prefill !== undefined) request.prefill = prefill;
  return { ok: true, request, truncated, promptTokens };
}
