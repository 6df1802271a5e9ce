/**
 * The benchmark registry of `golongrl eval`: every benchmark by name, and the paper's headline
 * table (recipe §5.1: the "Avg." is the unweighted mean of DocMath, LongBench v2, Frames, MRCR,
 * CorpusQA and LBV1-QA). See docs/eval-benchmarks.md.
 *
 * @module
 */

import { corpusQaBenchmark } from "./corpusqa.ts";
import { docmathBenchmark } from "./docmath.ts";
import { framesBenchmark } from "./frames.ts";
import { lbv1QaBenchmark, longBenchV1Benchmark } from "./longbench_v1.ts";
import { longBenchV2Benchmark } from "./longbench_v2.ts";
import { longMemEvalBenchmark } from "./longmemeval.ts";
import { mrcrBenchmark } from "./mrcr.ts";
import { oursBenchmark } from "./ours.ts";
import { rulerBenchmark } from "./ruler.ts";
import type { Benchmark } from "./types.ts";

export type {
  Benchmark,
  EvalItem,
  EvalMessage,
  JudgeRequest,
  LoadOptions,
  ScoreResult,
} from "./types.ts";
export { judgeMessages, type JudgeStyle, judgeVerdict } from "./judge.ts";

const REGISTRY = new Map<string, Benchmark>();

/** Adds a benchmark (throws if the name is taken). */
export function registerBenchmark(b: Benchmark): void {
  if (REGISTRY.has(b.name)) throw new Error(`benchmark "${b.name}" is already registered`);
  REGISTRY.set(b.name, b);
}

/** The benchmark called `name`, or undefined. */
export function getBenchmark(name: string): Benchmark | undefined {
  return REGISTRY.get(name);
}

/** Every registered benchmark, in registration order. */
export function listBenchmarks(): Benchmark[] {
  return [...REGISTRY.values()];
}

/** The paper's six long-context columns, in table order (their plain mean is the headline Avg.). */
export const HEADLINE_BENCHMARKS = [
  "docmath",
  "longbench-v2",
  "frames",
  "mrcr",
  "corpusqa",
  "longbench-v1-qa",
] as const;

/** The headline average: the plain mean of the six scores (each ×100); NaN unless all six exist. */
export function headlineAverage(scores: Readonly<Record<string, number>>): number {
  let sum = 0;
  for (const b of HEADLINE_BENCHMARKS) {
    const v = scores[b];
    if (typeof v !== "number" || !Number.isFinite(v)) return NaN;
    sum += v;
  }
  return sum / HEADLINE_BENCHMARKS.length;
}

/**
 * A benchmark's final per-item score from its rule score and an optional judge verdict
 * (`combine` where the benchmark has one, else the rule score).
 */
export function finalScore(b: Benchmark, rule: { score: number }, judgeCorrect?: boolean): number {
  return b.combine ? b.combine(rule, judgeCorrect) : rule.score;
}

registerBenchmark(docmathBenchmark());
registerBenchmark(longBenchV2Benchmark());
registerBenchmark(framesBenchmark());
registerBenchmark(mrcrBenchmark());
registerBenchmark(corpusQaBenchmark());
registerBenchmark(lbv1QaBenchmark());
registerBenchmark(longBenchV1Benchmark());
registerBenchmark(rulerBenchmark());
registerBenchmark(longMemEvalBenchmark());
registerBenchmark(oursBenchmark());
