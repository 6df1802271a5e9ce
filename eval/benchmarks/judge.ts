/**
 * Judge styles of the benchmarks, as thin names over the one judge implementation in
 * `eval/judge.ts` (prompts copied from the references, verdict parsing): a benchmark's
 * `score` names its style in `details.judgeStyle`, and tests and tools can render the
 * exact messages with {@link judgeMessages} and read replies with {@link judgeVerdict}.
 *
 * @module
 */
import { judgeMessages as messagesFor, parseVerdict } from "../judge.ts";
import type { EvalMessage, JudgeRequest } from "./types.ts";

/** "orm": DocMath and Frames (evalscope's ORM judge); "lbv1": LongBench v1 QA in GoLongRL's judge mode. */
export type JudgeStyle = "orm" | "lbv1" | "corpusqa" | "longmemeval";

const BENCHMARK_OF: Record<JudgeStyle, string> = {
  orm: "docmath",
  lbv1: "lbv1qa",
  corpusqa: "corpusqa",
  longmemeval: "longmemeval",
};

/** The judge messages for a request in a style. */
export function judgeMessages(style: JudgeStyle, req: JudgeRequest): EvalMessage[] {
  return messagesFor({ ...req, benchmark: BENCHMARK_OF[style] });
}

/** The verdict in a judge reply: true, false, or undefined when it cannot be read. */
export function judgeVerdict(style: JudgeStyle, reply: string): boolean | undefined {
  const v = parseVerdict(BENCHMARK_OF[style], reply);
  return v.parseFailed ? undefined : v.correct;
}
