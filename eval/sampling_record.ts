/**
 * What the runner sent per benchmark, for results.json and the report: the sampling settings
 * (the benchmark's defaults or the user's overrides, saying which), the generation budgets
 * (several when items carry their own), the input limit and how many prompts it cut.
 *
 * @module
 */

import type { ChatRequest } from "../core/chat/backend.ts";
import type { Benchmark } from "./benchmarks/types.ts";

/** One benchmark's record (results.json `benchmarks.<name>.generation`). */
export interface GenerationRecord {
  temperature: number;
  topP: number;
  /** The distinct budgets sent, ascending (one per LongBench v1 dataset or RULER task). */
  maxTokens: number[];
  /** Requests that started the assistant turn with the benchmark's answer prefix. */
  answerPrefixed: number;
  /** Where the defaults come from. */
  source: string;
  /** The settings the user's flags replaced. */
  overridden: string[];
  maxInputTokens: number | null;
  /** Prompts cut to fit maxInputTokens. */
  truncated: number;
  /** Items that could not fit and were not sent (failed). */
  unsendable: number;
  /** "subsets": the score is the mean of the subset means. */
  average: "items" | "subsets";
}

/** Builds the record of every benchmark from the work units the runner built. */
export function samplingRecord(
  benchmarks: readonly Benchmark[],
  work: readonly {
    bench: Benchmark;
    request: ChatRequest;
    unsendable?: string;
    truncated?: boolean;
  }[],
  gen: { maxTokens?: number; temperature?: number; topP?: number },
  maxInputTokens: number | undefined,
): Record<string, GenerationRecord> {
  const out: Record<string, GenerationRecord> = {};
  for (const b of benchmarks) {
    const mine = work.filter((w) => w.bench === b);
    const sent = mine.filter((w) => !w.unsendable);
    const overridden = [
      ...(gen.maxTokens !== undefined ? ["max_tokens"] : []),
      ...(gen.temperature !== undefined ? ["temperature"] : []),
      ...(gen.topP !== undefined ? ["top_p"] : []),
    ];
    out[b.name] = {
      temperature: gen.temperature ?? b.sampling.temperature,
      topP: gen.topP ?? b.sampling.topP,
      maxTokens: [...new Set(sent.map((w) => w.request.maxTokens))].sort((x, y) => x - y),
      answerPrefixed: sent.filter((w) => w.request.prefill !== undefined).length,
      source: b.sampling.source,
      overridden,
      maxInputTokens: maxInputTokens ?? null,
      truncated: sent.filter((w) => w.truncated).length,
      unsendable: mine.length - sent.length,
      average: b.average ?? "items",
    };
  }
  return out;
}
