/**
 * FRAMES (google/frames-benchmark; evalscope `iic/frames` test.jsonl with the Wikipedia articles
 * attached) as GoLongRL scores it: prompt = evalscope frames `TEMPLATE_0SHOT` with
 * `context = "\n".join(f"{title}\n{text}" for wiki_items)`; reported score (score_frame.py) =
 * max(CEM, LLM judge), where CEM is metrics/frames.ts on the think-stripped full output and
 * the judge sees the extracted answer (text after the last "the answer is", `*` removed, dots
 * stripped).
 *
 * Records: `Prompt`, `Answer`, `wiki_items` (`[{title, text}]`), optional `reasoning_types`,
 * `id`/`Unnamed: 0`.
 *
 * @module
 */

import { GOLONGRL_EVAL_SAMPLING } from "./sampling.ts";
import { InputError } from "../../core/errors.ts";
import { framesCem } from "../../metrics/frames.ts";
import { pyStrip } from "../../metrics/pystr.ts";
import {
  formatTemplate,
  loadRecordItems,
  messagesTokens,
  stableHash,
  strField,
  stripThink,
} from "./common.ts";
import type { JudgeStyle } from "./judge.ts";
import type { Benchmark, EvalItem, LoadOptions, ScoreResult } from "./types.ts";

/** evalscope `benchmarks/frames/frames_adapter.py` `TEMPLATE_0SHOT`. */
export const FRAMES_TEMPLATE = `Please read the following text and answer the question below.

<text>
{context}
</text>

{question}

Format your response as follows: "Therefore, the answer is (insert answer here)".`;

/**
 * frames_adapter.py `extract_answer`: remove "*", take what follows the last "the answer is"
 * (case-sensitive), strip whitespace and dots; "" when absent.
 */
export function extractFramesAnswer(prediction: string): string {
  const response = prediction.replaceAll("*", "");
  const i = response.lastIndexOf("the answer is");
  if (i === -1) return "";
  let ans = pyStrip(response.slice(i + "the answer is".length));
  ans = ans.replace(/^\.+|\.+$/g, "");
  return pyStrip(ans);
}

/** What a Frames item's scorer needs. */
export interface FramesReference {
  answer: string;
  question: string;
}

function load(name: string, opts: LoadOptions): AsyncGenerator<EvalItem> {
  const hint = "FRAMES needs the Wikipedia text: use evalscope's iic/frames test.jsonl with " +
    "wiki_items; google/frames-benchmark's test.tsv has links only";
  return loadRecordItems(opts, {
    flag: "frames",
    what: "iic/frames test.jsonl (with wiki_items)",
    hint,
  }, (r, count) => {
    const rec = r.record;
    if (!Array.isArray(rec.wiki_items)) {
      throw new InputError(
        `record ${r.index}: no wiki_items (the Google CSV has links only; use the iic/frames test.jsonl)`,
        r.file,
      );
    }
    const context = rec.wiki_items
      .map((w: { title?: unknown; text?: unknown }) => `${w?.title ?? ""}\n${w?.text ?? ""}`)
      .join("\n");
    const question = strField(r, "Prompt");
    const content = formatTemplate(FRAMES_TEMPLATE, { context, question });
    const messages = [{ role: "user" as const, content }];
    const rawId = rec.id ?? rec["Unnamed: 0"];
    const rid = rawId !== undefined ? String(rawId) : stableHash(question);
    const reference: FramesReference = { answer: strField(r, "Answer"), question };
    return {
      id: `${name}/${rid}`,
      benchmark: name,
      subset: typeof rec.reasoning_types === "string" ? rec.reasoning_types : undefined,
      contextTokensHint: messagesTokens(messages, count),
      messages,
      document: context,
      reference,
      meta: { wikiItems: rec.wiki_items.length, truncation: "middle-131072" },
    };
  });
}

/** The Frames benchmark (max of cover-exact-match and LLM judge). */
export function framesBenchmark(): Benchmark {
  const name = "frames";
  const style: JudgeStyle = "orm";
  return {
    name,
    description: "FRAMES multi-hop Wikipedia QA: max(CEM, LLM judge) as score_frame.py",
    dataFlag: "frames",
    primaryMetric: "max(cem,judge)",
    sampling: GOLONGRL_EVAL_SAMPLING,
    load: (opts) => load(name, opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as FramesReference;
      const full = stripThink(prediction);
      const extracted = extractFramesAnswer(full);
      const cem = framesCem(full, ref.answer);
      return {
        score: cem,
        needsJudge: { question: ref.question, reference: ref.answer, prediction: extracted },
        details: { extracted, rule: "cem", judgeStyle: style },
      };
    },
    combine(rule, judgeCorrect) {
      return Math.max(rule.score, judgeCorrect ? 1 : 0);
    },
  };
}
