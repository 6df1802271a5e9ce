/**
 * LongBench v2 (THUDM/LongBench, HF `THUDM/LongBench-v2` `data.json`): 503 four-choice questions.
 * Prompt = `prompts/0shot.txt` filled as `pred.py` does (`str.replace` of `$DOC$`, `$Q$`,
 * `$C_A$`…`$C_D$` with the stripped fields, in that order); score = `extract_answer` then
 * accuracy (metrics/longbench_v2.ts). Subset = `difficulty` (easy/hard), length bucket =
 * `length` (short/medium/long), as `result.py` reports them. Long documents are cut in the middle
 * by the runner (`ids[:max_len//2] + ids[-max_len//2:]`); `meta.truncation` says so.
 *
 * @module
 */

import { LONGBENCH_V2_SAMPLING } from "./sampling.ts";
import { extractLongBenchV2Answer } from "../../metrics/longbench_v2.ts";
import { loadRecordItems, messagesTokens, replaceChain, strField, stripThink } from "./common.ts";
import type { Benchmark, EvalItem, LoadOptions, ScoreResult } from "./types.ts";
import { pyStrip } from "../../metrics/pystr.ts";

/** `prompts/0shot.txt` (verbatim). */
export const LONGBENCH_V2_TEMPLATE = `Please read the following text and answer the question below.

<text>
$DOC$
</text>

What is the correct answer to this question: $Q$
Choices:
(A) $C_A$
(B) $C_B$
(C) $C_C$
(D) $C_D$

Format your response as follows: "The correct answer is (insert answer here)".`;

/** One LongBench v2 record's fields used by the prompt. */
export interface LongBenchV2Record {
  context: string;
  question: string;
  choice_A: string;
  choice_B: string;
  choice_C: string;
  choice_D: string;
}

/** The official 0-shot prompt of one record. */
export function longBenchV2Prompt(r: LongBenchV2Record): string {
  return replaceChain(LONGBENCH_V2_TEMPLATE, [
    ["$DOC$", pyStrip(r.context)],
    ["$Q$", pyStrip(r.question)],
    ["$C_A$", pyStrip(r.choice_A)],
    ["$C_B$", pyStrip(r.choice_B)],
    ["$C_C$", pyStrip(r.choice_C)],
    ["$C_D$", pyStrip(r.choice_D)],
  ]);
}

/** What a LongBench v2 item's scorer needs. */
export interface LongBenchV2Reference {
  answer: string;
}

function load(name: string, opts: LoadOptions): AsyncGenerator<EvalItem> {
  return loadRecordItems(opts, {
    flag: "longbench-v2",
    what: "THUDM/LongBench-v2 data.json or JSONL",
  }, (r, count) => {
    const rec: LongBenchV2Record = {
      context: strField(r, "context"),
      question: strField(r, "question"),
      choice_A: strField(r, "choice_A"),
      choice_B: strField(r, "choice_B"),
      choice_C: strField(r, "choice_C"),
      choice_D: strField(r, "choice_D"),
    };
    const messages = [{ role: "user" as const, content: longBenchV2Prompt(rec) }];
    const reference: LongBenchV2Reference = { answer: strField(r, "answer") };
    return {
      id: `${name}/${strField(r, "_id")}`,
      benchmark: name,
      subset: typeof r.record.difficulty === "string" ? r.record.difficulty : undefined,
      lengthBucket: typeof r.record.length === "string" ? r.record.length : undefined,
      contextTokensHint: messagesTokens(messages, count),
      messages,
      document: pyStrip(rec.context),
      reference,
      meta: {
        domain: r.record.domain,
        sub_domain: r.record.sub_domain,
        maxNewTokens: 128,
        truncation: "middle-tokens",
      },
    };
  });
}

/** The LongBench v2 benchmark (official 0-shot prompt, extraction, accuracy). */
export function longBenchV2Benchmark(): Benchmark {
  const name = "longbench-v2";
  return {
    name,
    description:
      "LongBench v2: 503 long-context 4-choice questions, official 0-shot prompt, accuracy",
    dataFlag: "longbench-v2",
    primaryMetric: "accuracy",
    sampling: LONGBENCH_V2_SAMPLING,
    load: (opts) => load(name, opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as LongBenchV2Reference;
      const extracted = extractLongBenchV2Answer(stripThink(prediction));
      return { score: extracted === ref.answer ? 1 : 0, details: { extracted } };
    },
  };
}
