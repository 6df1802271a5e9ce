/**
 * LongBench-Pro-style metrics (recipe §1.3; reference `long_bench_pro.py`): NDCG (graded
 * ranking), Pairwise accuracy (sequence ordering), Accuracy (comprehension), set F1 (exhaustive
 * retrieval), SubEM (structured matching) and Summary (max ROUGE-L F; summarization).
 *
 * Faithful details:
 * - every metric reads the **full response, thinking included** (unless the `stripThink` option);
 * - {@link answerArea}: text after the last "[Answer]", else after the last "[答案]", else all;
 * - {@link normPred}: lowercase, split on "\n" only, each line stripped and whitespace-collapsed,
 *   blank lines kept as "" items; {@link normAnswers}: lowercase, strip, collapse;
 * - Summary compares against the whole lowercased, collapsed response (no answer area);
 * - the reference's preconditions: an empty/whitespace response → 0, empty gold → 0, an unknown
 *   sub-task raises; a score outside [0,1] → 0 (the range assertion, applied by the caller).
 *
 * @module
 */
import { rougeL } from "../metrics/rouge.ts";
import { segmentWords } from "../metrics/segment.ts";
import { clipForDetails, describe, getKey, isDict, lastIfList, pyTruthy } from "./format.ts";
import { pyCollapse, pyStrip } from "../metrics/pystr.ts";
import type { TaskType, VerifierContext, VerifierOutput, VerifierSpec } from "./types.ts";

/** The reference's metric names. */
export type LbpMetric =
  | "NDCG"
  | "Pairwise_Accuracy"
  | "Accuracy"
  | "F1_Score"
  | "SubEM"
  | "Summary";

/** The 25 LongBench-Pro sub-task names → metric (`TASK_METRIC_CONFIG`, verbatim). */
export const TASK_METRIC_CONFIG: Readonly<Record<string, LbpMetric>> = Object.freeze({
  "T1.1 Global Cohesive Retrieval": "NDCG",
  "T1.2 Key-Snippet Retrieval": "NDCG",
  "T2.1 Global Timeline Reconstruction": "Pairwise_Accuracy",
  "T2.2 Local Causal Chain Sorting": "Pairwise_Accuracy",
  "T3.1 Multi-Doc Integration QA": "Accuracy",
  "T3.2 Single-Hop Fact QA": "Accuracy",
  "T4.1 Global-Coverage Constrained Summary": "Summary",
  "T4.2 Query-Focused Summary": "Summary",
  "T5.1 Full-Sentence Citation Alignment": "F1_Score",
  "T5.2 Key-Statement Citation Alignment": "F1_Score",
  "T6.1 Large-Scale Document Clustering": "SubEM",
  "T6.2 Targeted Subset Cluster Identification": "F1_Score",
  "T6.3 Global Frequency Analysis": "Pairwise_Accuracy",
  "T7.1 Global Conflict & Inconsistency Localization": "F1_Score",
  "T7.2 Targeted Rule or Condition Violation Detection": "F1_Score",
  "T7.3 Comprehensive Error & Anomaly Sweep": "F1_Score",
  "T8.1 Structured Multi-Source Consistency Verification": "SubEM",
  "T8.2 Single-Source Targeted Aggregation": "SubEM",
  "T8.3 Long-Context Procedural State Tracking": "SubEM",
  "T9.1 Dependency-Aware Multi-Version Impact Analysis": "F1_Score",
  "T9.2 Localized Interface Change Detection": "F1_Score",
  "T10.1 Large-Scale In-Context Rule Induction": "SubEM",
  "T10.2 Targeted Example-Based Rule Induction": "SubEM",
  "T11.1 Long-Range Entity & Commitment Tracking": "Accuracy",
  "T11.2 Short-Range Reference Resolution & State Query": "Accuracy",
});

/** Metric name → registry name. */
export const LBP_METRIC_VERIFIER: Readonly<Record<LbpMetric, string>> = Object.freeze({
  NDCG: "ndcg",
  Pairwise_Accuracy: "pairwise",
  Accuracy: "accuracy",
  F1_Score: "f1",
  SubEM: "subem",
  Summary: "summary",
});

/** The metric of a sub-task name, or undefined. */
export function lbpMetricOf(subTask: unknown): LbpMetric | undefined {
  return typeof subTask === "string" && Object.hasOwn(TASK_METRIC_CONFIG, subTask)
    ? TASK_METRIC_CONFIG[subTask]
    : undefined;
}

// ==================== Normalization ====================

/** `get_answer_area`: after the last "[Answer]", else after the last "[答案]", else all; stripped. */
export function answerArea(text: string): string {
  let i = text.lastIndexOf("[Answer]");
  if (i !== -1) return pyStrip(text.slice(i + 8));
  i = text.lastIndexOf("[答案]");
  if (i !== -1) return pyStrip(text.slice(i + 4));
  return pyStrip(text);
}

/** `normalize_answers`: each item lowercased, stripped, whitespace-collapsed. */
export function normAnswers(answers: readonly unknown[]): string[] {
  return answers.map((a) => {
    if (typeof a !== "string") {
      throw new TypeError(`gold items must be strings, got ${describe(a)} (AttributeError)`);
    }
    return pyCollapse(a.toLowerCase());
  });
}

/** `normalize_prediction`: answer area, lowercased, split on "\n", each line collapsed (blanks kept). */
export function normPred(text: string): string[] {
  return answerArea(text).toLowerCase().split("\n").map(pyCollapse);
}

/** `normalize_prediction_abstract`: the whole text lowercased, stripped, collapsed. */
export function normAbstract(text: string): string {
  return pyCollapse(text.toLowerCase());
}

// ==================== Metrics (on normalized lists) ====================

/** Accuracy: 1 iff the first gold item equals the first prediction line. */
export function accuracyScore(A: readonly string[], P: readonly string[]): number {
  if (A.length === 0 || P.length === 0) return 0;
  return A[0] === P[0] ? 1 : 0;
}

/** Set F1 between the gold items and the prediction lines ("" lines count). */
export function f1Score(A: readonly string[], P: readonly string[]): number {
  const sa = new Set(A);
  const sp = new Set(P);
  let common = 0;
  for (const a of sa) if (sp.has(a)) common++;
  if (common === 0 || sp.size === 0 || sa.size === 0) return 0;
  const precision = common / sp.size;
  const recall = common / sa.size;
  if (precision + recall === 0) return 0;
  return (2 * precision * recall) / (precision + recall);
}

/** SubEM: fraction of gold items (duplicates counted) that occur among the prediction lines. */
export function subemScore(A: readonly string[], P: readonly string[]): number {
  if (A.length === 0 || P.length === 0) return 0;
  const sp = new Set(P);
  let score = 0;
  for (const a of A) if (sp.has(a)) score += 1;
  return score / A.length;
}

/**
 * NDCG@|A| with pytrec_eval / trec_eval `ndcg_cut` semantics: rel(A[i]) = |A| − i (a later
 * duplicate overwrites), run score(P[j]) = |P| − j (a later duplicate overwrites, i.e. the last
 * position counts), distinct predictions ranked by score, linear gain, unknown items and "" take
 * rank slots with gain 0; IDCG from the gold relevances sorted descending, cut at k = |A|.
 */
export function ndcgScore(A: readonly string[], P: readonly string[]): number {
  if (A.length === 0 || P.length === 0) return 0;
  const k = A.length;
  const rel = new Map<string, number>();
  for (let i = 0; i < A.length; i++) rel.set(A[i], A.length - i);
  const last = new Map<string, number>();
  for (let j = 0; j < P.length; j++) last.set(P[j], j);
  // Distinct predictions in descending score = ascending last position.
  let dcg = 0;
  let rank = 0;
  for (let j = 0; j < P.length && rank < k; j++) {
    if (last.get(P[j]) !== j) continue;
    const g = rel.get(P[j]) ?? 0;
    if (g > 0) dcg += g / Math.log2(rank + 2);
    rank++;
  }
  const ideal = [...rel.values()].sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < ideal.length && i < k; i++) {
    if (ideal[i] > 0) idcg += ideal[i] / Math.log2(i + 2);
  }
  return idcg > 0 ? dcg / idcg : 0;
}

/**
 * Pairwise accuracy: pairs (A[i], A[j]), i < j, both predicted with pos(A[i]) < pos(A[j])
 * (pos = last index in P), over |P|·(|P|−1)/2 prediction pairs. Counted in O(n log n).
 */
export function pairwiseScore(A: readonly string[], P: readonly string[]): number {
  if (A.length <= 1 || P.length <= 1) return 0;
  const nTotal = (P.length * (P.length - 1)) / 2;
  const pos = new Map<string, number>();
  for (let j = 0; j < P.length; j++) pos.set(P[j], j);
  // Positions of the predicted gold items, in gold order; count pairs q[i] < q[j], i < j.
  const q: number[] = [];
  for (const a of A) {
    const p = pos.get(a);
    if (p !== undefined) q.push(p);
  }
  // Fenwick tree over positions 0..|P|-1.
  const tree = new Float64Array(P.length + 1);
  let nCorrect = 0;
  for (const p of q) {
    for (let x = p; x > 0; x -= x & -x) nCorrect += tree[x]; // count of earlier positions < p
    for (let x = p + 1; x <= P.length; x += x & -x) tree[x] += 1;
  }
  return nCorrect / nTotal;
}

/**
 * Summary: max ROUGE-L F (Python `rouge` package) of the whole normalized response against each
 * normalized reference; Chinese (`is_zh`) segments both sides and re-joins with spaces. Any ROUGE
 * exception (an empty or "."-only side, as `get_scores` over all pairs raises) → 0.
 */
export function summaryScore(
  answers: readonly string[],
  response: string,
  isZh: boolean,
): { score: number; rougeError?: string } {
  let refs = normAnswers(answers);
  let pred = normAbstract(response);
  if (refs.length === 0 || pred.length === 0) return { score: 0 };
  if (isZh) {
    refs = refs.map((a) => segmentWords(a, "zh").join(" "));
    pred = segmentWords(pred, "zh").join(" ");
  }
  let best = -Infinity;
  for (const ref of refs) {
    try {
      const f = rougeL(pred, ref).f;
      if (f > best) best = f;
    } catch (e) {
      return { score: 0, rougeError: e instanceof Error ? e.message : String(e) };
    }
  }
  return { score: best };
}

// ==================== Verifiers ====================

/** The gold list, with Python's iteration of whatever `doc_ids` holds; null when falsy. */
function goldList(docIds: unknown): unknown[] | null {
  if (!pyTruthy(docIds)) return null;
  if (Array.isArray(docIds)) return docIds;
  if (typeof docIds === "string") return Array.from(docIds);
  if (isDict(docIds)) return Object.keys(docIds);
  throw new TypeError(`doc_ids must be a list, got ${describe(docIds)}`);
}

/** Read the LongBench-Pro fields of a ground truth: `doc_ids` (required) and `summary`. */
export function lbpGroundTruth(gt: unknown): { docIds: unknown; language: unknown } {
  const g = lastIfList(gt);
  const docIds = getKey(g, "doc_ids");
  // The reference also requires "summary" (KeyError); we treat a missing one as "not Chinese".
  const language = (g as Record<string, unknown>).summary;
  return { docIds, language };
}

function makeLbp(
  metric: LbpMetric,
  task: TaskType,
  description: string,
  score: (A: string[], P: string[]) => number,
): VerifierSpec {
  return {
    task,
    description,
    reads: "full",
    fn: (ctx: VerifierContext): VerifierOutput => {
      const { docIds, language } = lbpGroundTruth(ctx.groundTruth);
      const output = ctx.response;
      if (pyStrip(output).length === 0) return { score: 0, details: { metric, empty: "response" } };
      const gold = goldList(docIds);
      if (gold === null || gold.length === 0) {
        return { score: 0, details: { metric, empty: "gold" } };
      }
      if (metric === "Summary") {
        const r = summaryScore(gold as string[], output, language === "Chinese");
        const details: Record<string, unknown> = { metric, isZh: language === "Chinese" };
        if (r.rougeError !== undefined) details.rougeError = r.rougeError;
        return { score: r.score, details };
      }
      const A = normAnswers(gold);
      const P = normPred(output);
      return {
        score: score(A, P),
        details: {
          metric,
          firstLine: clipForDetails(P[0]),
          lines: P.length,
        },
      };
    },
  };
}

export const ndcgVerifier = makeLbp(
  "NDCG",
  "graded_ranking",
  "NDCG@|gold| (trec_eval ndcg_cut, linear gain) of the answer lines vs doc_ids order",
  ndcgScore,
);
export const pairwiseVerifier = makeLbp(
  "Pairwise_Accuracy",
  "sequence_ordering",
  "correctly ordered gold pairs among the answer lines / prediction pairs",
  pairwiseScore,
);
export const accuracyVerifier = makeLbp(
  "Accuracy",
  "comprehension",
  "first answer line == first doc_ids item (lowercased, whitespace-collapsed)",
  accuracyScore,
);
export const f1Verifier = makeLbp(
  "F1_Score",
  "exhaustive_retrieval",
  "set F1 of the answer lines vs doc_ids",
  f1Score,
);
export const subemVerifier = makeLbp(
  "SubEM",
  "structured_matching",
  "fraction of doc_ids items found among the answer lines",
  subemScore,
);
export const summaryVerifier = makeLbp(
  "Summary",
  "summarization",
  "max ROUGE-L F of the whole response vs the doc_ids references",
  () => 0, // unused: Summary has its own path above
);
