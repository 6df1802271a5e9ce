/**
 * LongBench v1 single- and multi-document QA (THUDM/LongBench, HF `THUDM/LongBench` test split),
 * in two protocols over the same data files:
 *
 * - `longbench-v1` — the official one: per-dataset prompts from `config/dataset2prompt.json`
 *   (verbatim, typos included), score = `eval.py` scorer (max `qa_f1_score` over answers) from
 *   metrics/longbench.ts. Subsets: narrativeqa, qasper, multifieldqa_en, hotpotqa,
 *   2wikimqa, musique.
 * - `longbench-v1-qa` — GoLongRL's headline column (Eval/QwenLong-Benchmarks/evalscope/lbv1qa_eval.py):
 *   one shared prompt asking for "Therefore, the answer is …", 500,000-character middle
 *   truncation, answer extraction, and an LLM judge (max over references). Subsets: narrativeqa,
 *   qasper, hotpotqa, 2wikimqa, musique. Without a judge the score is the official F1 of the
 *   extracted answer (labelled `rule: "qa_f1(extracted)"` in details).
 *
 * Data: a folder of `<dataset>.jsonl` files or one JSONL file with a `dataset` field; record
 * fields `input, context, answers, length, dataset, language, all_classes, _id`.
 *
 * @module
 */

import { GOLONGRL_EVAL_SAMPLING, LONGBENCH_V1_SAMPLING } from "./sampling.ts";
import { InputError } from "../../core/errors.ts";
import { longBenchSampleScore, qaF1Score } from "../../metrics/longbench.ts";
import {
  baseName,
  formatTemplate,
  messagesTokens,
  middleTruncateChars,
  readRecords,
  requirePath,
  stableHash,
  stripThink,
  tokenCounter,
} from "./common.ts";
import type { JudgeStyle } from "./judge.ts";
import type { Benchmark, EvalItem, JudgeRequest, LoadOptions, ScoreResult } from "./types.ts";

/** `config/dataset2prompt.json` entries for the six English QA datasets (verbatim). */
export const LONGBENCH_QA_PROMPTS: Readonly<Record<string, string>> = {
  narrativeqa:
    "You are given a story, which can be either a novel or a movie script, and a question. Answer the question asconcisely as you can, using a single phrase if possible. Do not provide any explanation.\n\nStory: {context}\n\nNow, answer the question based on the story asconcisely as you can, using a single phrase if possible. Do not provide any explanation.\n\nQuestion: {input}\n\nAnswer:",
  qasper:
    'You are given a scientific article and a question. Answer the question as concisely as you can, using a single phrase or sentence if possible. If the question cannot be answered based on the information in the article, write "unanswerable". If the question is a yes/no question, answer "yes", "no", or "unanswerable". Do not provide any explanation.\n\nArticle: {context}\n\n Answer the question based on the above article as concisely as you can, using a single phrase or sentence if possible. If the question cannot be answered based on the information in the article, write "unanswerable". If the question is a yes/no question, answer "yes", "no", or "unanswerable". Do not provide any explanation.\n\nQuestion: {input}\n\nAnswer:',
  multifieldqa_en:
    "Read the following text and answer briefly.\n\n{context}\n\nNow, answer the following question based on the above text, only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:",
  hotpotqa:
    "Answer the question based on the given passages. Only give me the answer and do not output any other words.\n\nThe following are given passages.\n{context}\n\nAnswer the question based on the given passages. Only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:",
  "2wikimqa":
    "Answer the question based on the given passages. Only give me the answer and do not output any other words.\n\nThe following are given passages.\n{context}\n\nAnswer the question based on the given passages. Only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:",
  musique:
    "Answer the question based on the given passages. Only give me the answer and do not output any other words.\n\nThe following are given passages.\n{context}\n\nAnswer the question based on the given passages. Only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:",
};

/** `config/dataset2maxlen.json` for the same datasets (max new tokens). */
export const LONGBENCH_QA_MAXLEN: Readonly<Record<string, number>> = {
  narrativeqa: 128,
  qasper: 128,
  multifieldqa_en: 64,
  hotpotqa: 32,
  "2wikimqa": 32,
  musique: 32,
};

/** lbv1qa_eval.py `PROMPT_TEMPLATE`. */
export const GOLONGRL_LBV1_PROMPT = `Please read the following text and answer the question below.
<text>
{context}
</text>
{question}
Format your response as follows: "Therefore, the answer is (insert answer here)".`;

/** lbv1qa_eval.py `--max_context_chars` default. */
export const GOLONGRL_LBV1_MAX_CHARS = 500_000;

/** The official subsets of the `longbench-v1` benchmark. */
export const LONGBENCH_V1_QA_SUBSETS = [
  "narrativeqa",
  "qasper",
  "multifieldqa_en",
  "hotpotqa",
  "2wikimqa",
  "musique",
] as const;

/** lbv1qa_eval.py `QA_SUBSETS` (multifieldqa commented out there). */
export const GOLONGRL_LBV1_SUBSETS = ["narrativeqa", "qasper", "hotpotqa", "2wikimqa", "musique"];

/** LongBench-E length buckets of eval.py (`length` in words): "0-4k", "4-8k", "8k+". */
export function longBenchLengthBucket(length: number): string {
  if (length < 4000) return "0-4k";
  if (length < 8000) return "4-8k";
  return "8k+";
}

function pyStripChars(s: string, chars: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a])) a++;
  while (b > a && chars.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

/**
 * lbv1qa_eval.py `extract_answer`: the last line matching "therefore, the answer is …"
 * (case-insensitive), else the last non-empty line; then strip whitespace, quotes, trailing
 * dots and one pair of wrapping parentheses.
 */
export function extractLbv1Answer(text: string): string {
  const clean = (s: string): string => {
    let t = pyStripChars(pyStripChars(s.trim(), '"'), "'");
    t = t.replace(/\.+$/, "");
    if (t.startsWith("(") && t.endsWith(")")) t = t.slice(1, -1).trim();
    return t;
  };
  const re = /[Tt]herefore,?\s*the answer is:?\s*(.+)/i;
  const lines = text.split(/\r\n|\r|\n/);
  let last: RegExpExecArray | null = null;
  for (const line of lines) {
    const m = re.exec(line);
    if (m) last = m;
  }
  if (last) return clean(last[1]);
  const nonEmpty = lines.map((l) => l.trim()).filter((l) => l);
  if (nonEmpty.length) return clean(nonEmpty[nonEmpty.length - 1]);
  return text.trim();
}

/** What a LongBench v1 item's scorer needs. */
export interface LongBenchV1Reference {
  dataset: string;
  answers: string[];
  allClasses: string[];
  question: string;
}

async function* loadLongBench(
  name: string,
  subsets: readonly string[],
  mode: "official" | "golongrl",
  opts: LoadOptions,
): AsyncGenerator<EvalItem> {
  const path = requirePath(opts.path, "longbench-v1", "THUDM/LongBench data/*.jsonl");
  const count = tokenCounter(opts.tokenizer);
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
  // Folder mode: each subset as `<name>.jsonl` (LongBench data.zip), `<name>_e.jsonl`
  // (LongBench-E), `.json`, `.parquet`, or a folder of parquet shards (HF `<name>/test/…`).
  const sources: string[] = [];
  if (stat.isDirectory) {
    for (const s of subsets) {
      for (const stem of [s, `${s}_e`]) {
        for (const f of [`${stem}.jsonl`, `${stem}.json`, `${stem}.parquet`, stem]) {
          try {
            await Deno.stat(`${path}/${f}`);
            sources.push(`${path}/${f}`);
          } catch { /* absent */ }
        }
      }
    }
  } else sources.push(path);
  if (sources.length === 0) {
    throw new InputError(
      `none of ${subsets.join(", ")} found (as .jsonl, _e.jsonl, .json, .parquet or a folder)`,
      path,
    );
  }
  let n = 0;
  for (const file of sources) {
    for await (const r of readRecords(file)) {
      if (opts.limit !== undefined && n >= opts.limit) return;
      const rec = r.record;
      // LongBench-E records and files carry "<name>_e"; prompts and metrics are the name's.
      const dataset = (typeof rec.dataset === "string" ? rec.dataset : baseName(r.file))
        .replace(/_e$/, "");
      if (!subsets.includes(dataset)) continue;
      const input = String(rec.input ?? "");
      const context = String(rec.context ?? "");
      const answers = Array.isArray(rec.answers) ? rec.answers.map(String) : [String(rec.answers)];
      const allClasses = Array.isArray(rec.all_classes) ? rec.all_classes.map(String) : [];
      const document = mode === "official"
        ? context
        : middleTruncateChars(context, GOLONGRL_LBV1_MAX_CHARS);
      const content = mode === "official"
        ? formatTemplate(LONGBENCH_QA_PROMPTS[dataset], { context, input })
        : formatTemplate(GOLONGRL_LBV1_PROMPT, { context: document, question: input });
      // `_id` (THUDM/LongBench), else `id` (GoLongRL's "<subset>_<i>" files), else a hash.
      const rid = typeof rec._id === "string"
        ? rec._id
        : typeof rec.id === "string" || typeof rec.id === "number"
        ? String(rec.id)
        : stableHash(input + "\n" + context);
      const messages = [{ role: "user" as const, content }];
      const length = typeof rec.length === "number" ? rec.length : undefined;
      const reference: LongBenchV1Reference = { dataset, answers, allClasses, question: input };
      yield {
        id: `${name}/${dataset}/${rid}`,
        benchmark: name,
        subset: dataset,
        lengthBucket: length !== undefined ? longBenchLengthBucket(length) : undefined,
        contextTokensHint: messagesTokens(messages, count),
        messages,
        document,
        reference,
        meta: {
          maxNewTokens: mode === "official" ? LONGBENCH_QA_MAXLEN[dataset] : undefined,
          truncation: mode === "official" ? "middle-tokens" : "middle-chars-500000",
          length,
          language: rec.language,
        },
      };
      n++;
    }
  }
}

/** The official LongBench v1 QA benchmark (dataset2prompt prompts, max F1 over answers). */
export function longBenchV1Benchmark(): Benchmark {
  const name = "longbench-v1";
  return {
    name,
    description:
      "LongBench v1 QA (narrativeqa, qasper, multifieldqa_en, hotpotqa, 2wikimqa, musique): official prompts, qa_f1",
    dataFlag: "longbench-v1",
    primaryMetric: "qa_f1",
    sampling: LONGBENCH_V1_SAMPLING,
    load: (opts) => loadLongBench(name, LONGBENCH_V1_QA_SUBSETS, "official", opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as LongBenchV1Reference;
      const pred = stripThink(prediction);
      return {
        score: longBenchSampleScore(ref.dataset, pred, ref.answers, ref.allClasses),
        details: { metric: "qa_f1_score" },
      };
    },
  };
}

/** GoLongRL's LBV1-QA column (shared prompt, extraction, LLM judge with max over references). */
export function lbv1QaBenchmark(): Benchmark {
  const name = "longbench-v1-qa";
  const style: JudgeStyle = "lbv1";
  return {
    name,
    description:
      "LongBench v1 QA as GoLongRL scores it (lbv1qa_eval.py): 'Therefore, the answer is' prompt, LLM judge",
    dataFlag: "longbench-v1",
    primaryMetric: "judge_acc",
    sampling: GOLONGRL_EVAL_SAMPLING,
    // lbv1qa_eval.py: the mean of each subset, then the mean of the subsets.
    average: "subsets",
    load: (opts) => loadLongBench(name, GOLONGRL_LBV1_SUBSETS, "golongrl", opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as LongBenchV1Reference;
      const extracted = extractLbv1Answer(stripThink(prediction));
      let f1 = 0;
      for (const a of ref.answers) f1 = Math.max(f1, qaF1Score(extracted, a));
      const requests: JudgeRequest[] = ref.answers.map((a) => ({
        question: ref.question,
        reference: a,
        prediction: extracted,
      }));
      return {
        score: f1,
        needsJudge: requests[0],
        details: {
          extracted,
          rule: "qa_f1(extracted)",
          judgeStyle: style,
          // The reference takes the max over references: one judge call per answer.
          judgeRequests: requests,
        },
      };
    },
    combine(rule, judgeCorrect) {
      if (judgeCorrect === undefined) return rule.score;
      return judgeCorrect ? 1 : 0;
    },
  };
}
