/**
 * CorpusQA (HF `Tongyi-Zhiwen/CorpusQA`: `128k_4domains.jsonl`, `1m_4domains.jsonl`) as
 * GoLongRL's corpusqa_eval.py scores it: the dataset's own chat `prompt`; the answer is what
 * follows "[Tt]he answer is:?" (to the end of that line), else the whole think-stripped text; an
 * LLM judge decides (`corpusqa` style: prediction first, gold second; `[[YES]]` without
 * `[[NO]]`). Subset = domain from the id prefix (financial_zh, financial_en, education_en,
 * real_estate_en); length bucket = the file's "128k"/"1m" prefix.
 *
 * Without a judge the score is a proxy: SQuAD exact match of the extracted answer (details say
 * so); with a verdict, {@link Benchmark.combine} returns the verdict alone, as the reference.
 *
 * @module
 */

import { GOLONGRL_EVAL_SAMPLING } from "./sampling.ts";
import { squadExactMatch } from "../../metrics/squad.ts";
import { pyStrip } from "../../metrics/pystr.ts";
import {
  baseName,
  loadRecordItems,
  messagesTokens,
  pyStr,
  stableHash,
  strField,
  stripThink,
} from "./common.ts";
import type { JudgeStyle } from "./judge.ts";
import type { Benchmark, EvalItem, EvalMessage, LoadOptions, ScoreResult } from "./types.ts";
import { InputError } from "../../core/errors.ts";

/** corpusqa_eval.py `get_domain` domains. */
export const CORPUSQA_DOMAINS = ["financial_zh", "financial_en", "education_en", "real_estate_en"];

/** corpusqa_eval.py `extract_answer`. */
export function extractCorpusQaAnswer(text: string): string {
  const m = /[Tt]he answer is:?\s*(.*)/.exec(text);
  return m ? pyStrip(m[1]) : pyStrip(text);
}

/** What a CorpusQA item's scorer needs. */
export interface CorpusQaReference {
  answer: string;
  question: string;
}

function load(name: string, opts: LoadOptions): AsyncGenerator<EvalItem> {
  return loadRecordItems(
    opts,
    { flag: "corpusqa", what: "CorpusQA 128k_4domains.jsonl" },
    (r, count) => {
      const rec = r.record;
      if (!Array.isArray(rec.prompt)) {
        throw new InputError(`record ${r.index}: prompt must be a list of messages`, r.file);
      }
      const messages: EvalMessage[] = rec.prompt.map((
        m: { role?: unknown; content?: unknown },
      ) => ({
        role: m?.role === "system" || m?.role === "assistant" ? m.role : "user",
        content: String(m?.content ?? ""),
      }));
      const question = strField(r, "question");
      const rid = rec.id !== undefined ? String(rec.id) : stableHash(question);
      const bucket = /^(\d+[km])_/i.exec(baseName(r.file))?.[1]?.toLowerCase();
      // A list (or number) answer reaches the judge as Python's str() of it, as corpusqa_eval.py.
      if (rec.answer === undefined || rec.answer === null) {
        throw new InputError(`record ${r.index}: field "answer" is missing`, r.file);
      }
      const reference: CorpusQaReference = { answer: pyStr(rec, "answer"), question };
      // The document is what comes before the question in the longest message (the question and
      // what follows it stay whole when the prompt is cut).
      const longest = messages.reduce((a, m) => (m.content.length > a.length ? m.content : a), "");
      const q = longest.lastIndexOf(question);
      const document = q > 0 ? longest.slice(0, q) : undefined;
      return {
        id: `${name}/${rid}`,
        benchmark: name,
        subset: CORPUSQA_DOMAINS.find((d) => rid.startsWith(d)),
        lengthBucket: bucket,
        contextTokensHint: messagesTokens(messages, count),
        messages,
        document,
        reference,
      };
    },
  );
}

/** The CorpusQA benchmark (LLM judge). */
export function corpusQaBenchmark(): Benchmark {
  const name = "corpusqa";
  const style: JudgeStyle = "corpusqa";
  return {
    name,
    description: "CorpusQA corpus-level aggregation QA: LLM judge as corpusqa_eval.py",
    dataFlag: "corpusqa",
    primaryMetric: "judge_acc",
    sampling: GOLONGRL_EVAL_SAMPLING,
    load: (opts) => load(name, opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as CorpusQaReference;
      const extracted = extractCorpusQaAnswer(stripThink(prediction));
      return {
        score: squadExactMatch(extracted, ref.answer),
        needsJudge: { question: ref.question, reference: ref.answer, prediction: extracted },
        details: { extracted, rule: "proxy:squad_em(extracted)", judgeStyle: style },
      };
    },
    combine(rule, judgeCorrect) {
      if (judgeCorrect === undefined) return rule.score;
      return judgeCorrect ? 1 : 0;
    },
  };
}
