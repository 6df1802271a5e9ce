/**
 * LongBench v1 metrics (THUDM/LongBench `LongBench/metrics.py`) and the per-dataset scorer of
 * `LongBench/eval.py`.
 *
 * Faithful to the Python, quirks included (see docs/metrics.md). Deliberate differences:
 * - jieba (`jieba.cut(..., cut_all=False)`) is replaced by `segmentWords` (Intl.Segmenter), so
 *   the `*_zh` scores can differ wherever the two segmenters split differently. The `*Tokens`
 *   variants take pre-segmented input and are exact.
 * - Python raises `IndexError` in `retrieval_score` when the ground truth has no
 *   "Paragraph N"; we return 0 so that every metric is a finite number.
 *
 * @module
 */

import { fuzzRatio } from "./fuzz.ts";
import { normalizeAnswer, normalizeZhAnswer } from "./normalize.ts";
import { findDigitRuns, pyRound, pySplit } from "./pystr.ts";
import { rougeL } from "./rouge.ts";
import { segmentWords } from "./segment.ts";
import { tokenF1 } from "./squad.ts";

/** Extra per-dataset arguments (`**kwargs` in the Python). */
export interface LongBenchKwargs {
  allClasses?: readonly string[];
}

export type LongBenchMetric = (
  prediction: string,
  groundTruth: string,
  kwargs?: LongBenchKwargs,
) => number;

/** `qa_f1_score`: SQuAD normalization, whitespace tokens, bag F1. */
export function qaF1Score(prediction: string, groundTruth: string): number {
  return tokenF1(pySplit(normalizeAnswer(prediction)), pySplit(normalizeAnswer(groundTruth)));
}

/** The part of `qa_f1_zh_score` after segmentation: normalize each token, drop empties, bag F1. */
export function qaF1ZhTokens(
  predictionTokens: readonly string[],
  groundTruthTokens: readonly string[],
): number {
  const p = predictionTokens.map(normalizeZhAnswer).filter((t) => t.length > 0);
  const g = groundTruthTokens.map(normalizeZhAnswer).filter((t) => t.length > 0);
  return tokenF1(p, g);
}

/** `qa_f1_zh_score` with Intl.Segmenter in place of jieba. */
export function qaF1ZhScore(prediction: string, groundTruth: string): number {
  return qaF1ZhTokens(segmentWords(prediction, "zh"), segmentWords(groundTruth, "zh"));
}

/** `rouge_score`: the rouge package's ROUGE-L F, or 0.0 when it raises. */
export function rougeScore(prediction: string, groundTruth: string): number {
  try {
    return rougeL(prediction, groundTruth).f;
  } catch {
    // LongBench wraps get_scores in a bare `except: return 0.0`.
    return 0.0;
  }
}

/** The part of `rouge_zh_score` after segmentation: tokens joined by spaces, then ROUGE-L F. */
export function rougeZhTokens(
  predictionTokens: readonly string[],
  groundTruthTokens: readonly string[],
): number {
  return rougeScore(predictionTokens.join(" "), groundTruthTokens.join(" "));
}

/** `rouge_zh_score` with Intl.Segmenter in place of jieba. */
export function rougeZhScore(prediction: string, groundTruth: string): number {
  return rougeZhTokens(segmentWords(prediction, "zh"), segmentWords(groundTruth, "zh"));
}

/**
 * `classification_score`. The Python removes items from `em_match_list` while iterating over
 * it, which skips the element after each removal; `list.remove` drops the first equal item.
 * Both behaviours are reproduced.
 */
export function classificationScore(
  prediction: string,
  groundTruth: string,
  kwargs: LongBenchKwargs = {},
): number {
  const matches: string[] = [];
  for (const c of kwargs.allClasses ?? []) if (prediction.includes(c)) matches.push(c);
  // Emulates `for match_term in em_match_list:` (an index that advances past removals).
  for (let idx = 0; idx < matches.length; idx++) {
    const term = matches[idx];
    if (groundTruth.includes(term) && term !== groundTruth) {
      matches.splice(matches.indexOf(term), 1);
    }
  }
  return matches.includes(groundTruth) ? 1.0 / matches.length : 0.0;
}

function fractionEqual(prediction: string, target: string): number {
  const numbers = findDigitRuns(prediction);
  if (numbers.length === 0) return 0.0;
  let right = 0;
  for (const n of numbers) if (n === target) right++;
  return right / numbers.length;
}

function retrievalWith(pattern: RegExp, prediction: string, groundTruth: string): number {
  const m = pattern.exec(groundTruth);
  // Python raises IndexError here (matches[0] on an empty list); we score 0 instead.
  if (!m) return 0.0;
  return fractionEqual(prediction, m[1]);
}

/** `retrieval_score`: share of digit runs in the prediction equal to the id in "Paragraph N". */
export function retrievalScore(prediction: string, groundTruth: string): number {
  return retrievalWith(/Paragraph (\p{Nd}+)/u, prediction, groundTruth);
}

/** `retrieval_zh_score`: as `retrieval_score` with the pattern `段落(\d+)`. */
export function retrievalZhScore(prediction: string, groundTruth: string): number {
  return retrievalWith(/段落(\p{Nd}+)/u, prediction, groundTruth);
}

/** `count_score`: share of digit runs in the prediction equal to the ground-truth string. */
export function countScore(prediction: string, groundTruth: string): number {
  return fractionEqual(prediction, groundTruth);
}

/**
 * `code_sim_score`: the first line of `prediction.lstrip("\n")` containing none of "`", "#",
 * "//" (or "" if none), then `fuzz.ratio(line, ground_truth) / 100`.
 */
export function codeSimScore(prediction: string, groundTruth: string): number {
  const lines = prediction.replace(/^\n+/, "").split("\n");
  let line = "";
  for (const l of lines) {
    if (!l.includes("`") && !l.includes("#") && !l.includes("//")) {
      line = l;
      break;
    }
  }
  return fuzzRatio(line, groundTruth) / 100;
}

/** `dataset2metric` from LongBench `eval.py` (LongBench and LongBench-E share it). */
export const LONGBENCH_DATASET_METRIC: Readonly<Record<string, LongBenchMetric>> = {
  narrativeqa: qaF1Score,
  qasper: qaF1Score,
  multifieldqa_en: qaF1Score,
  multifieldqa_zh: qaF1ZhScore,
  hotpotqa: qaF1Score,
  "2wikimqa": qaF1Score,
  musique: qaF1Score,
  dureader: rougeZhScore,
  gov_report: rougeScore,
  qmsum: rougeScore,
  multi_news: rougeScore,
  vcsum: rougeZhScore,
  trec: classificationScore,
  triviaqa: qaF1Score,
  samsum: rougeScore,
  lsht: classificationScore,
  passage_retrieval_en: retrievalScore,
  passage_count: countScore,
  passage_retrieval_zh: retrievalZhScore,
  lcc: codeSimScore,
  "repobench-p": codeSimScore,
};

/** Datasets whose prediction is cut to its first line before scoring (`eval.py`). */
export const LONGBENCH_FIRST_LINE_DATASETS: ReadonlySet<string> = new Set([
  "trec",
  "triviaqa",
  "samsum",
  "lsht",
]);

/**
 * The per-sample score of `eval.py`'s `scorer`: optional first-line cut, then
 * `max(0, metric(prediction, gt) for gt in answers)`. Unknown datasets throw.
 */
export function longBenchSampleScore(
  dataset: string,
  prediction: string,
  answers: readonly string[],
  allClasses: readonly string[] = [],
): number {
  const metric = LONGBENCH_DATASET_METRIC[dataset];
  if (!metric) throw new Error(`LongBench: unknown dataset ${JSON.stringify(dataset)}`);
  let pred = prediction;
  if (LONGBENCH_FIRST_LINE_DATASETS.has(dataset)) pred = pred.replace(/^\n+/, "").split("\n")[0];
  let score = 0.0;
  for (const gt of answers) score = Math.max(score, metric(pred, gt, { allClasses }));
  return score;
}

/** `scorer`: `round(100 * mean(sample scores), 2)`; 0 for no samples (Python divides by 0). */
export function longBenchScore(
  dataset: string,
  predictions: readonly string[],
  answers: readonly (readonly string[])[],
  allClasses: readonly string[] = [],
): number {
  if (predictions.length === 0) return 0;
  let total = 0.0;
  for (let i = 0; i < predictions.length; i++) {
    total += longBenchSampleScore(dataset, predictions[i], answers[i] ?? [], allClasses);
  }
  return pyRound((100 * total) / predictions.length, 2);
}
