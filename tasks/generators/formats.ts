/**
 * Draft factories, one per verifier format (docs/rewards.md): each builds the ground truth, the
 * routing (`data_source`, `reward_mode`) and the instruction that asks for exactly what that
 * verifier parses, and refuses (returns null) a gold answer the verifier could not score at its
 * maximum (an empty EM label, duplicate list items, a row-less table…). The gold responses of
 * {@link goldResponse} are the answers these instructions ask for.
 *
 * @module
 */
import type { Document, Draft, Passage } from "./types.ts";
import type { RewardOptions, TaskType } from "../types.ts";
import { lbpMetricOf } from "../longbench_pro.ts";
import { pyCollapse, pyStrip } from "../../metrics/pystr.ts";
import { wordCount } from "./text.ts";

/** What every factory needs besides the answer. */
export interface DraftBase {
  generator: string;
  question: string;
  evidence: Passage[];
  /** The documents the evidence came from (the first is the main one). */
  docs: Document[];
  /** Extra documents whose text would leak or contradict the answer (source docs are implied). */
  exclude?: string[];
  /**
   * Document kinds kept out of the padding. Default: the source kinds other than books and papers,
   * whose questions point at labelled excerpts; a question about "this conversation" or "the
   * addresses given here" would have a second answer in a padded conversation or address.
   */
  excludeKinds?: Document["kind"][];
  /** The answer space a reader sees without reading (labels, options), in label order, for the audit. */
  candidates?: string[];
  meta?: Record<string, unknown>;
}

/** The `source_docs` entry of a document. */
export function sourceRef(d: Document): Draft["source_docs"][number] {
  const r: Draft["source_docs"][number] = { id: d.id, title: d.title, kind: d.kind };
  if (d.licence !== undefined) r.licence = d.licence;
  return r;
}

/**
 * The answer space a reader sees without reading, for the shortcut audit: the evidence labels
 * when every gold item is one ("Excerpt 3"), else the speakers before the colons of turn lines
 * when every gold item is one of them, else none.
 */
export function visibleCandidates(evidence: Passage[], gold: string[]): string[] | undefined {
  const labels = evidence.map((p) => p.label);
  if (gold.length && gold.every((g) => labels.includes(g))) return labels;
  const speakers = [
    ...new Set(
      evidence.flatMap((p) =>
        p.text.split("\n").map((l) => /^([^:\n]{1,60}): /.exec(l)?.[1] ?? "")
      ),
    ),
  ].filter((x) => x);
  if (gold.length && gold.every((g) => speakers.includes(g))) return speakers;
  return undefined;
}

function finish(
  b: DraftBase,
  task: TaskType,
  dataSource: string,
  rewardMode: string,
  instruction: string,
  gt: Draft["ground_truth"],
): Draft {
  const ids = [...new Set(b.docs.map((d) => d.id))];
  const exclude = [...new Set([...ids, ...(b.exclude ?? [])])];
  return {
    task,
    data_source: dataSource,
    reward_mode: rewardMode,
    generator: b.generator,
    question: b.question,
    instruction,
    ground_truth: gt,
    evidence: b.evidence,
    source_docs: b.docs.filter((d, i) => ids.indexOf(d.id) === i).map(sourceRef),
    exclude_from_padding: exclude,
    exclude_kinds: b.excludeKinds ??
      [...new Set(b.docs.map((d) => d.kind))].filter((k) => k !== "book" && k !== "paper"),
    meta: { ...(b.meta ?? {}), ...(b.candidates ? { candidates: b.candidates } : {}) },
  };
}

const THINK = /<\/?think>/;

/** Instruction of EM drafts: the exact span and nothing else after the reasoning. */
export const EM_INSTRUCTION =
  "After your reasoning, answer with the exact text only, copied verbatim from the context " +
  "(same capitalisation and punctuation), with nothing before or after it.";

/** Precise retrieval (EM): `label` is the exact answer span. */
export function emDraft(b: DraftBase, label: string, instruction = EM_INSTRUCTION): Draft | null {
  const l = pyStrip(label);
  if (l.length === 0 || THINK.test(l) || l.length > 600) return null;
  const candidates = b.candidates ?? visibleCandidates(b.evidence, [l]);
  return finish({ ...b, candidates }, "precise_retrieval", "EM", "EM", instruction, {
    doc_ids: [],
    golden_label: l,
    summary: "",
  });
}

/** Instruction of multiple-choice drafts. */
export const SELECTION_INSTRUCTION =
  'Think it through, then end your response with the sentence "The correct answer is (X)", ' +
  "where X is the letter of the right option (A, B, C or D).";

/**
 * Comprehension (4-way multiple choice): `options` are appended to the question as "A. …" lines;
 * `correct` indexes the right one. Options must be four distinct strings.
 */
export function selectionDraft(b: DraftBase, options: string[], correct: number): Draft | null {
  if (options.length !== 4 || correct < 0 || correct > 3) return null;
  const norm = options.map((o) => pyCollapse(o));
  if (new Set(norm).size !== 4 || norm.some((o) => o.length === 0 || o.includes("\n"))) {
    return null;
  }
  const letters = ["A", "B", "C", "D"];
  const question = `${b.question}\n${norm.map((o, i) => `${letters[i]}. ${o}`).join("\n")}`;
  return finish(
    { ...b, question },
    "comprehension",
    "selection",
    "selection",
    SELECTION_INSTRUCTION,
    {
      doc_ids: [],
      golden_label: letters[correct],
      summary: "",
    },
  );
}

/**
 * The same multiple-choice draft with its right option moved to position `k` (0–3) by rotating
 * the options, so a build can spread right answers evenly over A–D. Other drafts unchanged.
 */
/**
 * The k-th position of a rotation over n slots that alternates halves (0, 3, 1, 4, 2, 5 for
 * n = 6), so even a few samples spread over the first and second half of the labels.
 */
export function spreadPosition(k: number, n: number): number {
  const half = Math.ceil(n / 2);
  const i = ((k % n) + n) % n;
  return ((i % 2) * half + Math.floor(i / 2)) % n;
}

export function withAnswerAt(d: Draft, k: number): Draft {
  if (d.data_source === "EM") return withLabelAt(d, k);
  const metric = lbpMetricOf(d.reward_mode);
  if (metric === "F1_Score" || metric === "SubEM") return withLabelAt(d, k);
  if (d.data_source !== "selection") return d;
  const lines = d.question.split("\n");
  const opts = lines.slice(-4);
  if (!opts.every((l, i) => l.startsWith(`${"ABCD"[i]}. `))) return d;
  const from = "ABCD".indexOf(d.ground_truth.golden_label);
  if (from < 0) return d;
  k = spreadPosition(k, 4);
  const shift = (((k - from) % 4) + 4) % 4;
  const texts = opts.map((l) => l.slice(3));
  const rotated = texts.map((_, i) => texts[(i - shift + 4) % 4]);
  const question = [...lines.slice(0, -4), ...rotated.map((t, i) => `${"ABCD"[i]}. ${t}`)].join(
    "\n",
  );
  return { ...d, question, ground_truth: { ...d.ground_truth, golden_label: "ABCD"[k] } };
}

/**
 * A draft whose answer is one or a set of numbered evidence labels ("Document 2" of
 * "Document 1..n"; EM, F1 or SubEM) with its passages shifted cyclically so the first answer
 * passage sits at position `k mod n`, relabelled by position; other drafts unchanged.
 */
function withLabelAt(d: Draft, k: number): Draft {
  const labels = d.evidence.map((p) => p.label);
  const m = /^(.*) (\d+)$/.exec(labels[0] ?? "");
  if (!m || !labels.every((l, i) => l === `${m[1]} ${i + 1}`)) return d;
  const gt = d.ground_truth;
  const gold = d.data_source === "EM" ? [gt.golden_label] : gt.doc_ids;
  const at = gold.map((g) => labels.indexOf(g));
  if (gold.length === 0 || at.some((i) => i < 0)) return d;
  const n = labels.length;
  const shift = (((spreadPosition(k, n) - Math.min(...at)) % n) + n) % n;
  const evidence = labels.map((label, i) => ({ ...d.evidence[(i - shift + n) % n], label }));
  const moved = at.map((i) => (i + shift) % n).sort((a, b) => a - b).map((i) => labels[i]);
  const ground_truth = d.data_source === "EM"
    ? { ...gt, golden_label: moved[0] }
    : { ...gt, doc_ids: moved };
  return { ...d, evidence, ground_truth };
}

/** Instruction of numerical drafts. */
export const MATH_INSTRUCTION =
  "Reason step by step, then put the final answer, a single number, in \\boxed{}.";

/** Numerical reasoning: `value` is a decimal literal. */
export function mathDraft(b: DraftBase, value: string): Draft | null {
  if (!/^-?\d+(\.\d+)?$/.test(value)) return null;
  return finish(
    b,
    "numerical_reasoning",
    "math_longcot_math_verify",
    "math_longcot_math_verify",
    MATH_INSTRUCTION,
    { doc_ids: [], golden_label: value, summary: "" },
  );
}

/** Instruction of table-extraction drafts with the column order stated. */
export function tableInstruction(columns: string[]): string {
  const example = `[${columns.map((c) => JSON.stringify(`<${c}>`)).join(", ")}]`;
  return "After your reasoning, give the answer as JSON inside answer tags, exactly like " +
    `<answer>{"data": [${example}, ...]}</answer> — one list per row, with the columns in this ` +
    `order: ${JSON.stringify(columns)}. Every cell is a string copied exactly from the context. ` +
    "Write the <answer> tags only once.";
}

/** Structured extraction (table IoU): `rows` of cell strings, one per gold row. */
export function tableDraft(b: DraftBase, columns: string[], rows: string[][]): Draft | null {
  if (rows.length === 0 || columns.length === 0) return null;
  if (rows.some((r) => r.length !== columns.length)) return null;
  if (rows.some((r) => r.some((c) => c.includes("<answer>") || c.includes("</answer>")))) {
    return null;
  }
  return finish(
    b,
    "structured_extraction",
    "multitableqa_pretraining",
    "multitableqa_pretraining",
    tableInstruction(columns),
    { doc_ids: [], golden_label: JSON.stringify({ data: rows }), summary: "" },
  );
}

const LBP_TASK: Record<string, TaskType> = {
  F1_Score: "exhaustive_retrieval",
  SubEM: "structured_matching",
  NDCG: "graded_ranking",
  Pairwise_Accuracy: "sequence_ordering",
  Summary: "summarization",
};

/** Instruction of list-answer LongBench-Pro drafts; `what` names the items and their order. */
export function listInstruction(what: string): string {
  return 'After your reasoning, write a line containing only "[Answer]", then ' + what +
    ", one per line, written exactly as in the context, with no numbering, bullets, blank lines " +
    "or any other text.";
}

/**
 * LongBench-Pro list metrics (F1, SubEM, NDCG, Pairwise): `items` in gold order. Items must be
 * distinct after the verifier's normalization (lowercase, whitespace collapse), single-line and
 * non-empty; Pairwise needs at least two.
 */
export function listDraft(
  b: DraftBase,
  subTask: string,
  items: string[],
  what: string,
): Draft | null {
  const metric = lbpMetricOf(subTask);
  if (metric === undefined || metric === "Summary" || metric === "Accuracy") return null;
  const clean = items.map((i) => pyCollapse(i));
  const norm = clean.map((i) => i.toLowerCase());
  if (clean.length === 0 || new Set(norm).size !== norm.length) return null;
  if (clean.some((i) => i.length === 0 || i.includes("[Answer]") || i.includes("[答案]"))) {
    return null;
  }
  if (metric === "Pairwise_Accuracy" && clean.length < 2) return null;
  const candidates = b.candidates ?? visibleCandidates(b.evidence, clean);
  return finish(
    { ...b, candidates },
    LBP_TASK[metric],
    "longbench_pro",
    subTask,
    listInstruction(what),
    {
      doc_ids: clean,
      golden_label: "",
      summary: "English",
    },
  );
}

/** Instruction of summary drafts: the whole response is scored, so no marker or headings. */
export function summaryInstruction(words: number): string {
  const n = Math.max(20, Math.round(words / 10) * 10);
  return `Keep your reasoning brief, then write the summary as plain prose of about ${n} words, ` +
    "with no headings, lists, labels or [Answer] marker (the whole response is compared with a " +
    "reference summary).";
}

/** Summarization (ROUGE-L): `refs` are the reference summaries. */
export function summaryDraft(b: DraftBase, subTask: string, refs: string[]): Draft | null {
  if (lbpMetricOf(subTask) !== "Summary") return null;
  const clean = refs.map((r) => pyCollapse(r)).filter((r) =>
    r.replace(/\./g, "").trim().length > 0
  );
  if (clean.length === 0 || clean.some((r) => r.includes("\n"))) return null;
  return finish(
    b,
    "summarization",
    "longbench_pro",
    subTask,
    summaryInstruction(wordCount(clean[0])),
    { doc_ids: clean, golden_label: "", summary: "English" },
  );
}

/** Reward of the summary gold response against itself: ROUGE-L F = 2PR/(P+R+1e-8) at P=R=1. */
export const SUMMARY_MAX_REWARD = 2 / (2 + 1e-8);

/**
 * The ideal response to a draft, in the format its instruction asks for:
 * EM `<think>ok</think>label`; selection `…The correct answer is (X)`; math `…\boxed{v}`;
 * table `…<answer>{"data": …}</answer>`; list metrics `…\n[Answer]\nitem\nitem`;
 * summaries the first reference alone (scored with `format: "none"`, see
 * {@link goldRewardOptions}).
 */
export function goldResponse(d: Draft): string {
  const gt = d.ground_truth;
  switch (d.data_source) {
    case "EM":
      return `<think>ok</think>${gt.golden_label}`;
    case "selection":
      return `<think>ok</think>The correct answer is (${gt.golden_label})`;
    case "math_longcot_math_verify":
      return `<think>ok</think>The answer is \\boxed{${gt.golden_label}}.`;
    case "multitableqa_pretraining":
      return `<think>ok</think><answer>${gt.golden_label}</answer>`;
    default:
      if (lbpMetricOf(d.reward_mode) === "Summary") return gt.doc_ids[0] ?? "";
      return `<think>ok</think>\n[Answer]\n${gt.doc_ids.join("\n")}`;
  }
}

/**
 * Reward options for scoring {@link goldResponse}. Summary is scored on the whole response, think
 * block included, so any `</think>` costs ROUGE precision: its gold is the bare reference, scored
 * with `format: "none"` (no gate). Everything else uses the default thinking gate.
 */
export function goldRewardOptions(d: Draft): RewardOptions {
  return lbpMetricOf(d.reward_mode) === "Summary" ? { format: "none" } : {};
}

/** The verifier's maximum for a draft's gold response: 1, or {@link SUMMARY_MAX_REWARD}. */
export function maxReward(d: Draft): number {
  return lbpMetricOf(d.reward_mode) === "Summary" ? SUMMARY_MAX_REWARD : 1;
}
