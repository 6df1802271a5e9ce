/**
 * The benchmark interface of `golongrl eval`: a benchmark loads {@link EvalItem}s (chat messages
 * plus what its scorer needs) and scores one prediction at a time. Judge-mode benchmarks return
 * a {@link ScoreResult.needsJudge} request; the runner asks the judge and calls
 * {@link Benchmark.combine} with the verdict.
 *
 * @module
 */

import type { SamplingDefaults } from "./sampling.ts";

/** One chat message, as OpenAI-compatible endpoints take it. */
export interface EvalMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** One evaluation item. Its id is stable across runs (the runner caches predictions by it). */
export interface EvalItem {
  id: string;
  benchmark: string;
  subset?: string;
  /** Length bucket label, e.g. "short"/"medium"/"long" or "4k"/"16k". */
  lengthBucket?: string;
  contextTokensHint?: number;
  messages: EvalMessage[];
  /**
   * The long text inside one message that `--max-input-tokens` may cut (verbatim substring of
   * that message); the rest of the prompt (system prompts, instructions, question) stays whole.
   */
  document?: string;
  /** What the scorer needs. */
  reference: unknown;
  meta?: Record<string, unknown>;
}

/** A judge request: the runner renders it with the benchmark's judge prompt (see judge.ts). */
export interface JudgeRequest {
  question: string;
  reference: string;
  prediction: string;
}

/** The rule-based score of one prediction, and the judge request where the reference uses one. */
export interface ScoreResult {
  score: number;
  /** for judge-mode benchmarks: what to ask the judge (the runner calls it) */
  needsJudge?: JudgeRequest;
  details?: Record<string, unknown>;
}

/** What `load` receives from the runner. */
export interface LoadOptions {
  /** The file or folder given with the benchmark's `--data-<dataFlag>` flag. */
  path?: string;
  /** At most this many items (RULER: per task and length). */
  limit?: number;
  seed: number;
  /** Target lengths in tokens (generated suites). */
  lengths?: number[];
  tokenizer?: { encode(t: string): number[] };
}

/** One benchmark of the registry (eval/benchmarks/mod.ts). */
export interface Benchmark {
  name: string;
  description: string;
  /** flag name for its data path, e.g. "longbench-v2" (the runner exposes --data-longbench-v2 PATH); undefined for generated suites */
  dataFlag?: string;
  load(opts: LoadOptions): AsyncIterable<EvalItem>;
  score(item: EvalItem, prediction: string): ScoreResult;
  /** combine rule score and judge verdict as the reference does (e.g. DocMath: max of rule and judge) */
  combine?(rule: ScoreResult, judgeCorrect: boolean | undefined): number;
  primaryMetric: string;
  /** The reference's generation settings (eval/benchmarks/sampling.ts). */
  sampling: SamplingDefaults;
  /**
   * How the benchmark's score averages: over items (default), or over subsets, each subset the
   * mean of its items (GoLongRL's LBV1-QA).
   */
  average?: "items" | "subsets";
  /** How a too-long prompt is cut (eval/fit.ts): "document" (default) or "mrcr". */
  truncation?: "document" | "mrcr";
}
