/**
 * LLM-as-judge for the GoLongRL long-context benchmarks, through any {@link Backend}, with the
 * reference prompts and verdict parsing of each benchmark (recipe.md §5, §6.2). The prompt
 * texts are kept verbatim because judge scores move with prompt wording:
 *
 * | benchmark | prompt | answer order | verdict (as the reference parses it) |
 * |---|---|---|---|
 * | lbv1qa | one user message (lbv1qa_eval.py `llm_judge`) | prediction, reference | first `[[yes]]`/`[[no]]` (any case, inner spaces); none → asked again, up to 3 attempts, then incorrect |
 * | corpusqa | system + user (corpusqa_eval.py `JUDGE_SYSTEM`/`JUDGE_USER`) | prediction, reference | `[[YES]]` present and `[[NO]]` absent |
 * | docmath, frames | system + user (evalscope `GENERAL_ORM_PROMPT`/`ORM_USER_TEMPLATE`) | reference, prediction | `"YES"` anywhere in the reply |
 * | longmemeval | system + user (longmemeval_eval.py) | — | `[[CORRECT]]` present and `[[INCORRECT]]` absent |
 *
 * Sources: xiaoxuanNLP/GoLongRL `Eval/QwenLong-Benchmarks/evalscope/{lbv1qa_eval.py,
 * corpusqa_eval.py, longmemeval_eval.py}` and the bundled evalscope
 * `benchmarks/docmath/utils.py` (frames uses the same prompt pair). The judge runs at
 * temperature 0 as the references do.
 *
 * What to pass as `prediction` is the caller's job, as in the references: the extracted
 * answer for lbv1qa, corpusqa, docmath and frames; the think-stripped response for
 * longmemeval. A reply that matches no verdict is incorrect and flagged `parseFailed`
 * (replies with both verdicts too, where the reference's rule makes them incorrect).
 *
 * @module
 */
import type { ChatBackend, ChatRequest } from "../core/chat/backend.ts";

/** Benchmarks with a reference judge. */
export const JUDGE_BENCHMARKS = ["lbv1qa", "corpusqa", "docmath", "frames", "longmemeval"] as const;
/** One of {@link JUDGE_BENCHMARKS}. */
export type JudgeBenchmark = typeof JUDGE_BENCHMARKS[number];

const ALIASES: Record<string, JudgeBenchmark> = {
  lbv1qa: "lbv1qa",
  lbv1: "lbv1qa",
  longbench: "lbv1qa",
  longbench_v1: "lbv1qa",
  lbv1_qa: "lbv1qa",
  longbench_v1_qa: "lbv1qa",
  longbench_qa: "lbv1qa",
  corpusqa: "corpusqa",
  docmath: "docmath",
  frames: "frames",
  longmemeval: "longmemeval",
};

/**
 * The judge benchmark for a name (case and `-`/`_` insensitive; lbv1qa also answers to lbv1,
 * lbv1_qa, longbench, longbench_v1, longbench_v1_qa, longbench_qa); throws when unknown.
 */
export function judgeBenchmark(name: string): JudgeBenchmark {
  const b = ALIASES[name.toLowerCase().replace(/-/g, "_")];
  if (!b) {
    throw new Error(
      `no reference judge for benchmark "${name}"; known: ${JUDGE_BENCHMARKS.join(", ")}`,
    );
  }
  return b;
}

/**
 * Equivalence judge system prompt, evalscope `benchmarks/docmath/utils.py` GENERAL_ORM_PROMPT
 * (used for DocMath and Frames). CorpusQA's JUDGE_SYSTEM is this text without the final newline.
 */
export const ORM_SYSTEM_PROMPT = `You are an expert in verifying if two answers are the same.
Your input is a problem and two answers, Answer 1 and Answer 2. You need to check if they are equivalent.
Your task is to determine if two answers are equivalent, without attempting to solve the original problem.
Compare the answers to verify they represent identical values or meaning, even when written in different forms or notations.

Your output must follow the following format:
1) Provide an explanation for why the answers are equivalent or not.
2) Then provide your final answer in the form of: [[YES]] or [[NO]]
`;

/** User template of the equivalence judge (evalscope ORM_USER_TEMPLATE = CorpusQA JUDGE_USER). */
export const ORM_USER_TEMPLATE = `
Problem: {problem}
Answer 1: {answer_1}
Answer 2: {answer_2}
`;

/** LongBench v1 QA's single-message judge prompt (lbv1qa_eval.py `llm_judge`). */
export const LBV1QA_JUDGE_TEMPLATE = `You are an expert in verifying if two answers are the same.
Your input is a problem and two answers, Answer1 and Answer2. You need to check if they are equivalent.
Your task is to determine if two answers are equivalent, without attempting to solve the original problem.
Compare the answers to verify they represent identical values or meaning, even when written in different forms or notations.
Your output must follow the following format:
1) Provide an explanation for why the answers are equivalent or not.
2) Then provide your final answer in the form of: [[YES]] or [[NO]]
Problem: {question}
Answer 1: {pred}
Answer 2: {answer}`;

/** LongMemEval judge system prompt (GoLongRL longmemeval_eval.py JUDGE_SYSTEM). */
export const LONGMEMEVAL_JUDGE_SYSTEM =
  `You are an expert evaluator. Given a question, a reference answer, and a model's hypothesis, determine whether the hypothesis correctly answers the question based on the reference answer.

Guidelines:
1. The hypothesis does not need to be an exact match. It should capture the key information in the reference answer.
2. If the reference answer contains multiple key points, the hypothesis should address all of them.
3. Minor differences in phrasing, formatting, or additional correct details are acceptable.
4. If the question is unanswerable (abstention), the hypothesis should indicate that the information is not available or unknown.
5. Be lenient with partial matches if the core information is correct.

Your output must follow the following format:
1) Provide a brief explanation for your judgment.
2) Then provide your final verdict in the form of: [[CORRECT]] or [[INCORRECT]]`;

/** LongMemEval judge user template (GoLongRL longmemeval_eval.py JUDGE_USER). */
export const LONGMEMEVAL_JUDGE_USER = `Question: {question}
Reference Answer: {answer}
Model's Response: {hypothesis}`;

/** Python `str.format` for the templates above: each `{name}` replaced once, no re-expansion. */
function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? vars[k] : m));
}

/** What is judged. */
export interface JudgeInput {
  question: string;
  reference: string;
  prediction: string;
  /** A {@link JudgeBenchmark} or one of its aliases. */
  benchmark: string;
}

/** A verdict. */
export interface JudgeResult {
  correct: boolean;
  /** The judge's last reply. */
  raw: string;
  /** The reply matched no verdict (or both): counted incorrect. */
  parseFailed: boolean;
  /** Judge calls made (lbv1qa asks again on unparseable replies). */
  attempts: number;
}

/** The judge messages for an input, as the benchmark's reference sends them. */
export function judgeMessages(input: JudgeInput): ChatRequest["messages"] {
  const { question, reference, prediction } = input;
  switch (judgeBenchmark(input.benchmark)) {
    case "lbv1qa":
      return [{
        role: "user",
        content: fill(LBV1QA_JUDGE_TEMPLATE, { question, pred: prediction, answer: reference }),
      }];
    case "corpusqa":
      return [
        { role: "system", content: ORM_SYSTEM_PROMPT.replace(/\n$/, "") },
        {
          role: "user",
          content: fill(ORM_USER_TEMPLATE, {
            problem: question,
            answer_1: prediction,
            answer_2: reference,
          }),
        },
      ];
    case "docmath":
    case "frames":
      return [
        { role: "system", content: ORM_SYSTEM_PROMPT },
        {
          role: "user",
          content: fill(ORM_USER_TEMPLATE, {
            problem: question,
            answer_1: reference,
            answer_2: prediction,
          }),
        },
      ];
    case "longmemeval":
      return [
        { role: "system", content: LONGMEMEVAL_JUDGE_SYSTEM },
        {
          role: "user",
          content: fill(LONGMEMEVAL_JUDGE_USER, {
            question,
            answer: reference,
            hypothesis: prediction,
          }),
        },
      ];
  }
}

/** Parses a judge reply by the benchmark's reference rule. */
export function parseVerdict(
  benchmark: string,
  raw: string,
): { correct: boolean; parseFailed: boolean } {
  switch (judgeBenchmark(benchmark)) {
    case "lbv1qa": {
      const m = /\[\[\s*(yes|no)\s*\]\]/i.exec(raw);
      return m
        ? { correct: m[1].toLowerCase() === "yes", parseFailed: false }
        : { correct: false, parseFailed: true };
    }
    case "corpusqa": {
      const yes = raw.includes("[[YES]]"), no = raw.includes("[[NO]]");
      return { correct: yes && !no, parseFailed: yes === no };
    }
    case "docmath":
    case "frames": {
      // evalscope: `'YES' in orm_response`. Flag replies that carry no verdict at all.
      const correct = raw.includes("YES");
      return {
        correct,
        parseFailed: !correct && !/\[\[\s*no\s*\]\]/i.test(raw) && !/\bNO\b/.test(raw),
      };
    }
    case "longmemeval": {
      const yes = raw.includes("[[CORRECT]]"), no = raw.includes("[[INCORRECT]]");
      return { correct: yes && !no, parseFailed: yes === no };
    }
  }
}

/** Options of {@link judge}. */
export interface JudgeOptions {
  /** Judge completion budget (default 4096 tokens: an explanation and a verdict). */
  maxTokens?: number;
  /** Judge calls per verdict when replies do not parse (default: 3 for lbv1qa, else 1). */
  maxAttempts?: number;
  signal?: AbortSignal;
}

/** Asks the judge whether `prediction` matches `reference`; unparseable replies are incorrect. */
export async function judge(
  backend: ChatBackend,
  input: JudgeInput,
  opts: JudgeOptions = {},
): Promise<JudgeResult> {
  const bench = judgeBenchmark(input.benchmark);
  const messages = judgeMessages(input);
  const maxAttempts = opts.maxAttempts ?? (bench === "lbv1qa" ? 3 : 1);
  let raw = "";
  for (let attempt = 1;; attempt++) {
    const [r] = await backend.complete(
      { messages, maxTokens: opts.maxTokens ?? 4096, temperature: 0, topP: 1 },
      opts.signal,
    );
    raw = r?.text ?? "";
    const v = parseVerdict(bench, raw);
    if (!v.parseFailed || attempt >= maxAttempts) return { ...v, raw, attempts: attempt };
  }
}

/**
 * The max over references (LongBench v1 QA `max_llm_judge`): correct when any reference is
 * judged equivalent; stops at the first. With no references, incorrect (not flagged).
 */
export async function judgeAny(
  backend: ChatBackend,
  input: Omit<JudgeInput, "reference"> & { references: readonly string[] },
  opts: JudgeOptions = {},
): Promise<JudgeResult & { perReference: JudgeResult[] }> {
  const perReference: JudgeResult[] = [];
  for (const reference of input.references) {
    const r = await judge(backend, { ...input, reference }, opts);
    perReference.push(r);
    if (r.correct) {
      return { ...r, attempts: perReference.reduce((a, x) => a + x.attempts, 0), perReference };
    }
  }
  const last = perReference.at(-1);
  return {
    correct: false,
    raw: last?.raw ?? "",
    parseFailed: perReference.some((r) => r.parseFailed),
    attempts: perReference.reduce((a, r) => a + r.attempts, 0),
    perReference,
  };
}
