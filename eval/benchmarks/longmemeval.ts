/**
 * LongMemEval (xiaowu0162/LongMemEval; HF `xiaowu0162/longmemeval-cleaned`
 * `longmemeval_s_cleaned.json`) as GoLongRL's longmemeval_eval.py runs it: full-history reading
 * with `READING_SYSTEM` and `HISTORY_TEMPLATE_JSON` (sessions as "=== Session i (Date: d) ==="
 * blocks of "Role: content" lines); an LLM judge (`longmemeval` style) decides. Subset = the
 * core ability (information_extraction, multi_session_reasoning, knowledge_update,
 * temporal_reasoning, abstention for ids ending `_abs`); `meta.question_type` keeps the fine type.
 *
 * Without a judge the score is a proxy: SQuAD exact match of the think-stripped response.
 *
 * @module
 */

import { GOLONGRL_EVAL_SAMPLING } from "./sampling.ts";
import { InputError } from "../../core/errors.ts";
import { squadExactMatch } from "../../metrics/squad.ts";
import {
  formatTemplate,
  loadRecordItems,
  messagesTokens,
  pyStr,
  strField,
  stripThink,
} from "./common.ts";
import type { JudgeStyle } from "./judge.ts";
import type { Benchmark, EvalItem, LoadOptions, ScoreResult } from "./types.ts";

/** longmemeval_eval.py `READING_SYSTEM`. */
export const LONGMEMEVAL_READING_SYSTEM =
  `You are a helpful assistant with access to the user's past conversation history. Based on the conversation history provided below, answer the user's question.

Instructions:
1. First, carefully review the conversation history to identify all relevant information.
2. Extract and list the key pieces of evidence from the history that are relevant to the question.
3. Based on the extracted evidence, reason step by step to produce your final answer.
4. If the question asks about information that was never mentioned in the conversation history, clearly state that the information is not available.
5. Be concise and precise in your final answer.`;

/** longmemeval_eval.py `HISTORY_TEMPLATE_JSON`. */
export const LONGMEMEVAL_HISTORY_TEMPLATE =
  `Below is the user's conversation history with a chat assistant, presented in chronological order. Each session is timestamped.

{history_text}

Based on the above conversation history, answer the following question:
{question}`;

/** longmemeval_eval.py `get_question_category`. */
export function longMemEvalCategory(questionType: string, questionId: string): string {
  if (questionId.endsWith("_abs")) return "abstention";
  const mapping: Record<string, string> = {
    "single-session-user": "information_extraction",
    "single-session-assistant": "information_extraction",
    "single-session-preference": "information_extraction",
    "multi-session": "multi_session_reasoning",
    "knowledge-update": "knowledge_update",
    "temporal-reasoning": "temporal_reasoning",
  };
  return mapping[questionType] ?? "other";
}

function capitalize(s: string): string {
  // Python str.capitalize: first character upper, the rest lower.
  return s.length ? s[0].toUpperCase() + s.slice(1).toLowerCase() : s;
}

/** longmemeval_eval.py `format_history_json`. */
export function formatLongMemEvalHistory(sessions: unknown[], dates: unknown[]): string {
  const parts: string[] = [];
  const n = Math.min(sessions.length, dates.length);
  for (let i = 0; i < n; i++) {
    let text = `=== Session ${i + 1} (Date: ${String(dates[i])}) ===\n`;
    const turns = Array.isArray(sessions[i]) ? sessions[i] as unknown[] : [];
    for (const t of turns) {
      const turn = t as { role?: unknown; content?: unknown };
      text += `${capitalize(String(turn.role ?? ""))}: ${String(turn.content ?? "")}\n`;
    }
    parts.push(text.trim());
  }
  return parts.join("\n\n");
}

/** What a LongMemEval item's scorer needs. */
export interface LongMemEvalReference {
  answer: string;
  question: string;
}

function load(name: string, opts: LoadOptions): AsyncGenerator<EvalItem> {
  return loadRecordItems(
    opts,
    { flag: "longmemeval", what: "longmemeval_s_cleaned.json" },
    (r, count) => {
      const rec = r.record;
      if (!Array.isArray(rec.haystack_sessions) || !Array.isArray(rec.haystack_dates)) {
        throw new InputError(
          `record ${r.index}: needs haystack_sessions and haystack_dates`,
          r.file,
        );
      }
      const qid = strField(r, "question_id");
      const qtype = typeof rec.question_type === "string" ? rec.question_type : "";
      const question = strField(r, "question");
      const history = formatLongMemEvalHistory(rec.haystack_sessions, rec.haystack_dates);
      const user = formatTemplate(LONGMEMEVAL_HISTORY_TEMPLATE, {
        history_text: history,
        question,
      });
      const messages = [
        { role: "system" as const, content: LONGMEMEVAL_READING_SYSTEM },
        { role: "user" as const, content: user },
      ];
      // Answers can be numbers or lists; the judge sees Python's str() of them, as the reference.
      if (rec.answer === undefined) {
        throw new InputError(`record ${r.index}: field "answer" is missing`, r.file);
      }
      const reference: LongMemEvalReference = { answer: pyStr(rec, "answer"), question };
      return {
        id: `${name}/${qid}`,
        benchmark: name,
        subset: longMemEvalCategory(qtype, qid),
        contextTokensHint: messagesTokens(messages, count),
        messages,
        document: history,
        reference,
        meta: { question_type: qtype, question_date: rec.question_date },
      };
    },
  );
}

/** The LongMemEval benchmark (LLM judge). */
export function longMemEvalBenchmark(): Benchmark {
  const name = "longmemeval";
  const style: JudgeStyle = "longmemeval";
  return {
    name,
    description: "LongMemEval-S long chat-history memory QA: LLM judge as longmemeval_eval.py",
    dataFlag: "longmemeval",
    primaryMetric: "judge_acc",
    sampling: GOLONGRL_EVAL_SAMPLING,
    load: (opts) => load(name, opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as LongMemEvalReference;
      const hypothesis = stripThink(prediction);
      return {
        score: squadExactMatch(hypothesis, ref.answer),
        needsJudge: { question: ref.question, reference: ref.answer, prediction: hypothesis },
        details: { rule: "proxy:squad_em", judgeStyle: style },
      };
    },
    combine(rule, judgeCorrect) {
      if (judgeCorrect === undefined) return rule.score;
      return judgeCorrect ? 1 : 0;
    },
  };
}
