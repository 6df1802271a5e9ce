/**
 * DocMath-Eval (HF `yale-nlp/DocMath-Eval`, subsets complong/compshort/simplong/simpshort
 * `_testmini`) as GoLongRL scores it through evalscope's docmath adapter: prompt
 * `TEMPLATE_0SHOT` with `context = "\n".join(paragraphs)`; rule accuracy = `extract_answer` →
 * `get_acc` (metrics/docmath.ts, 2-decimal round-up as evalscope); LLM judge on the extracted
 * answer (ORM prompt, reference first); reported `max_acc` = max(rule, judge) per sample.
 *
 * Data: a folder of `<subset>.json(l)` files or one file; records `question_id`, `question`,
 * `paragraphs` (list of strings), `ground_truth` (number or bool). `answer_type` is Python's
 * `type(ground_truth).__name__`, so the literal text of the number decides int vs float
 * ("3.0" is a float); it is read from the JSON source.
 *
 * @module
 */

import { GOLONGRL_EVAL_SAMPLING } from "./sampling.ts";
import {
  type DocMathAnswerType,
  docmathExtractAnswer,
  docmathGetAcc,
} from "../../metrics/docmath.ts";
import {
  baseName,
  formatTemplate,
  loadRecordItems,
  messagesTokens,
  numberSource,
  pyFloatRepr,
  stableHash,
  strField,
  stripThink,
} from "./common.ts";
import type { JudgeStyle } from "./judge.ts";
import type { Benchmark, EvalItem, LoadOptions, ScoreResult } from "./types.ts";

/** evalscope `benchmarks/docmath/docmath_adapter.py` `TEMPLATE_0SHOT`. */
export const DOCMATH_TEMPLATE = `Please read the following text and answer the question below.

<text>
{context}
</text>

{question}

Format your response as follows: "Therefore, the answer is (insert answer here)".`;

/** What a DocMath item's scorer needs: `str(ground_truth)` and its Python type name. */
export interface DocMathReference {
  groundTruth: string;
  answerType: DocMathAnswerType;
  question: string;
}

/** Python `str(x)` and `type(x).__name__` of a ground truth read from JSON. */
export function docmathGroundTruth(
  value: unknown,
  source?: string,
): { text: string; type: DocMathAnswerType } {
  if (typeof value === "boolean") return { text: value ? "True" : "False", type: "bool" };
  if (typeof value === "number") {
    const src = source ?? String(value);
    const isFloat = /[.eE]/.test(src) || !Number.isSafeInteger(value);
    if (!isFloat) return { text: String(BigInt(src.replace(/^\+/, ""))), type: "int" };
    // Python prints floats with repr; "3.0" stays "3.0"; other forms go through Number.
    return { text: pyFloatRepr(value), type: "float" };
  }
  return { text: String(value), type: "str" };
}

function load(name: string, opts: LoadOptions): AsyncGenerator<EvalItem> {
  return loadRecordItems(
    opts,
    { flag: "docmath", what: "DocMath-Eval *_testmini.json(l)" },
    (r, count) => {
      const rec = r.record;
      const paragraphs = Array.isArray(rec.paragraphs) ? rec.paragraphs.map(String) : [];
      const question = strField(r, "question");
      const gt = docmathGroundTruth(rec.ground_truth, numberSource(rec, "ground_truth"));
      const subset = typeof rec.subset === "string" ? rec.subset : baseName(r.file);
      const content = formatTemplate(DOCMATH_TEMPLATE, {
        context: paragraphs.join("\n"),
        question,
      });
      const messages = [{ role: "user" as const, content }];
      const document = paragraphs.join("\n");
      const qid = typeof rec.question_id === "string" ? rec.question_id : stableHash(content);
      const reference: DocMathReference = { groundTruth: gt.text, answerType: gt.type, question };
      return {
        id: `${name}/${subset}/${qid}`,
        benchmark: name,
        subset,
        lengthBucket: /long/.test(subset) ? "long" : /short/.test(subset) ? "short" : undefined,
        contextTokensHint: messagesTokens(messages, count),
        messages,
        document,
        reference,
        meta: { truncation: "middle-tokens-131000" },
      };
    },
  );
}

/** The DocMath benchmark (rule accuracy, LLM judge, max of the two). */
export function docmathBenchmark(): Benchmark {
  const name = "docmath";
  const style: JudgeStyle = "orm";
  return {
    name,
    description: "DocMath-Eval testmini: numeric rule accuracy and LLM judge, max of the two",
    dataFlag: "docmath",
    primaryMetric: "max_acc",
    sampling: GOLONGRL_EVAL_SAMPLING,
    load: (opts) => load(name, opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as DocMathReference;
      const extracted = docmathExtractAnswer(stripThink(prediction));
      const acc = docmathGetAcc(extracted, ref.groundTruth, ref.answerType);
      return {
        score: acc,
        needsJudge: { question: ref.question, reference: ref.groundTruth, prediction: extracted },
        details: { extracted, rule: "acc", judgeStyle: style },
      };
    },
    combine(rule, judgeCorrect) {
      return Math.max(rule.score, judgeCorrect ? 1 : 0);
    },
  };
}
