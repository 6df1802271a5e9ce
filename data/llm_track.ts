/**
 * The LLM track of P3 (recipe §2, synthetic track): QA pairs written by a strong LLM through an
 * OpenAI-compatible endpoint, then a separate QA-pair verification step that drops bad pairs.
 *
 *   1. excerpt     per (document, task type), `perDoc` seeded, paragraph-aligned excerpts of at
 *                  most `maxEvidenceChars` (for table extraction, a document table when it has one)
 *   2. generate    one request per excerpt with the task's prompt (llm_prompts.ts); the reply must
 *                  hold one JSON object of the task's contract; it becomes a Draft through the
 *                  rule-based track's factories (tasks/generators/formats.ts), so the instruction
 *                  and the ground-truth layout are exactly what the verifiers parse
 *   3. verify      (a) evidence: every quote occurs in the excerpt, and the answer is supported
 *                  (EM answers verbatim, list items and table cells in the text, …);
 *                  (c) the gold self-check (`selfCheck`) reaches the verifier's maximum;
 *                  (b) answerability: the verifier model answers the finished prompt (excerpt,
 *                  question, instruction) and its reply, scored by the draft's own verifier,
 *                  must reach a per-task threshold. (c) runs before (b) to save a request.
 *
 * Every reply is appended to a JSONL cache (core/chat/cache.ts) keyed by the model id, the messages
 * and the sampling parameters, so a rerun reuses every reply and sends nothing new. Failed
 * requests are not cached (a rerun retries them); retries within a run are the backend's job.
 * Output order follows the jobs (documents × tasks × excerpts), never completion order, so the
 * result is a function of the seed and the replies.
 *
 * @module
 */
import type { ChatBackend, ChatRequest } from "../core/chat/backend.ts";
import { hashKey, JsonlCache } from "../core/chat/cache.ts";
import type { TaskType } from "../tasks/types.ts";
import { postThink } from "../tasks/format.ts";
import {
  type DraftBase,
  emDraft,
  listDraft,
  mathDraft,
  selectionDraft,
  summaryDraft,
  tableDraft,
} from "../tasks/generators/formats.ts";
import { scoreResponse, selfCheck } from "../tasks/generators/mod.ts";
import { excerpt as excerptFrom, paragraphs } from "../tasks/generators/text.ts";
import { mulberry32, subSeed } from "../core/rng.ts";
import { renderPassage, renderPrompt } from "./assemble.ts";
import { GENERATION_SYSTEM, generationPrompt } from "./llm_prompts.ts";
import type { Document, Draft, Passage } from "../tasks/generators/types.ts";

/** Why a QA pair was dropped. */
export type RejectReason =
  /** The document has no excerpt of the minimum length (no request sent). */
  | "no_excerpt"
  /** The generation request failed for good (after the backend's retries). */
  | "request_failed"
  /** No JSON object could be parsed from the reply. */
  | "malformed_json"
  /** A JSON object, but a field is missing or of the wrong type or shape. */
  | "bad_contract"
  /** An evidence quote does not occur in the excerpt. */
  | "evidence_not_found"
  /** The answer (EM span, list items, table cells, summary words) is not in the excerpt. */
  | "unsupported_answer"
  /** The draft factory refused the gold (duplicate options or items, empty label, …). */
  | "draft_refused"
  /** The gold response does not reach the verifier's maximum. */
  | "gold_self_check"
  /** The same question was already accepted for this task. */
  | "duplicate_question"
  /** The verifier model's request failed for good. */
  | "verifier_request_failed"
  /** The verifier model's answer, scored by the draft's verifier, is below the threshold. */
  | "verifier_disagrees";

/** One dropped QA pair. */
export interface LlmRejection {
  docId: string;
  task: TaskType;
  reason: RejectReason;
  /** A short human-readable explanation (the missing quote, the verifier's score, …). */
  detail: string;
}

/** Sampling parameters of one request kind. */
export interface LlmSampling {
  maxTokens: number;
  temperature: number;
  topP: number;
}

/** Options of {@link generateLlmDrafts}. */
export interface LlmTrackOptions {
  /** Task types to generate. */
  tasks: TaskType[];
  /** Excerpts (requests) per document and task type. */
  perDoc: number;
  /** Fixes the excerpt choice, the order of listed items and the request seeds. */
  seed: number;
  /** Longest excerpt, in characters. */
  maxEvidenceChars: number;
  /** Shortest prose excerpt (default min(400, maxEvidenceChars / 2)). */
  minEvidenceChars?: number;
  /** JSONL cache of replies; a rerun with the same file sends no request it has a reply for. */
  cachePath?: string;
  /** Answers the verification requests (default: the generating backend). */
  verifier?: ChatBackend;
  /** QA pairs in flight at once (each is one generation and at most one verification). */
  concurrency: number;
  /** Generation sampling (default 4096 tokens, temperature 0.7, top-p 0.95). */
  generation?: Partial<LlmSampling>;
  /** Verification sampling (default 4096 tokens, temperature 0, top-p 1). */
  verification?: Partial<LlmSampling>;
  /** Lowest verifier-model reward that passes, per task (defaults: {@link MIN_VERIFIER_REWARD}). */
  minVerifierReward?: Partial<Record<TaskType, number>>;
  /** Called after each QA pair is finished. */
  onProgress?: (done: number, total: number) => void;
}

/** Counters of one run. */
export interface LlmTrackStats {
  /** QA-pair jobs (excerpts found). */
  jobs: number;
  /** Requests sent to a backend (generation + verification). */
  requests: number;
  /** Replies taken from the cache instead. */
  cacheHits: number;
  accepted: number;
  rejected: Partial<Record<RejectReason, number>>;
}

/** What {@link generateLlmDrafts} returns. */
export interface LlmTrackResult {
  drafts: Draft[];
  rejected: LlmRejection[];
  stats: LlmTrackStats;
}

/**
 * Default answerability thresholds: an exact answer for EM, multiple choice, math, SubEM and
 * tables; 0.8 for the graded list metrics (F1, NDCG, pairwise order), where one slip of a
 * strong model is tolerated; 0.2 ROUGE-L F for summaries (two good summaries of one text rarely
 * share much more).
 */
export const MIN_VERIFIER_REWARD: Readonly<Record<TaskType, number>> = {
  precise_retrieval: 1,
  comprehension: 1,
  numerical_reasoning: 1,
  structured_extraction: 1,
  structured_matching: 1,
  exhaustive_retrieval: 0.8,
  graded_ranking: 0.8,
  sequence_ordering: 0.8,
  summarization: 0.2,
};

/** LongBench-Pro sub-task of each list or summary task (routes the metric). */
export const LLM_SUBTASKS = {
  exhaustive_retrieval: "T6.2 Targeted Subset Cluster Identification",
  structured_matching: "T8.2 Single-Source Targeted Aggregation",
  graded_ranking: "T1.1 Global Cohesive Retrieval",
  sequence_ordering: "T2.2 Local Causal Chain Sorting",
  summarization: "T4.2 Query-Focused Summary",
} as const;

// ---------------------------------------------------------------------------------------------
// Excerpts

/** One evidence excerpt of a document. */
export interface Excerpt {
  /** Shown as the passage header. */
  label: string;
  text: string;
  /** Where it came from: the first paragraph index, or the table index. */
  from: { paragraph: number } | { table: number };
}

/** A document table as text: caption line, header row, body rows, cells joined by " | ". */
export function renderTable(t: NonNullable<Document["tables"]>[number]): string {
  const head = `${t.label ? `${t.label}. ` : ""}${t.caption}`.trim();
  const rows = [t.header, ...t.rows].map((r) => r.map((c) => c.replace(/\s+/g, " ").trim()))
    .filter((r) => r.some((c) => c.length > 0)).map((r) => r.join(" | "));
  return [head, ...rows].filter((l) => l.length > 0).join("\n");
}

function shuffled<T>(rand: () => number, xs: readonly T[]): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Up to `n` distinct, non-overlapping excerpts of a document for a task, in a seeded order:
 * runs of whole paragraphs (from `tasks/generators/text.ts`) of at most `maxChars` and at least
 * `minChars`; for table extraction, the document's tables that fit come first.
 */
export function pickExcerpts(
  doc: Document,
  task: TaskType,
  n: number,
  seed: number,
  maxChars: number,
  minChars = Math.min(400, Math.floor(maxChars / 2)),
): Excerpt[] {
  const rand = mulberry32(subSeed(seed, `llm:excerpt:${doc.id}:${task}`));
  const out: Excerpt[] = [];
  const title = doc.title || doc.id;
  if (task === "structured_extraction" && Array.isArray(doc.tables)) {
    const fit = doc.tables.map((t, i) => ({ i, text: renderTable(t) }))
      .filter((t) => t.text.length <= maxChars && t.text.includes("\n"));
    for (const t of shuffled(rand, fit)) {
      if (out.length >= n) return out;
      out.push({ label: `Table from "${title}"`, text: t.text, from: { table: t.i } });
    }
  }
  const paras = typeof doc.text === "string" ? paragraphs(doc.text) : [];
  const used = new Set<number>();
  for (const start of shuffled(rand, [...paras.keys()])) {
    if (out.length >= n) break;
    if (used.has(start)) continue;
    const text = excerptFrom(paras, start, maxChars);
    if (text.length < minChars || text.length > maxChars) continue;
    const span = text.split("\n\n").length;
    let clash = false;
    for (let i = start; i < start + span; i++) clash ||= used.has(i);
    if (clash) continue;
    for (let i = start; i < start + span; i++) used.add(i);
    out.push({ label: `Excerpt from "${title}"`, text, from: { paragraph: start } });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing and evidence checks

/** End index of the balanced `{…}` starting at `i` (JSON string-aware), or -1. */
function braceEnd(t: string, i: number): number {
  let depth = 0, inStr = false;
  for (let k = i; k < t.length; k++) {
    const c = t[k];
    if (inStr) {
      if (c === "\\") k++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return k;
  }
  return -1;
}

/**
 * The first JSON object in a model reply, or undefined: reasoning up to the last `</think>` and
 * code fences are dropped, then each `{` in turn is tried as the start of a balanced object that
 * `JSON.parse` accepts. Never evaluates anything.
 */
export function parseJsonObject(reply: string): Record<string, unknown> | undefined {
  const t = postThink(reply).replace(/```[A-Za-z]*[ \t]*/g, "").slice(0, 200_000);
  for (let i = t.indexOf("{"); i !== -1; i = t.indexOf("{", i + 1)) {
    const end = braceEnd(t, i);
    if (end < 0) continue;
    try {
      const v = JSON.parse(t.slice(i, end + 1));
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch { /* not this one */ }
  }
  return undefined;
}

/** Text as evidence matching compares it: NFC, typographic quotes straightened, whitespace
 * collapsed, lowercase. */
export function normalizeEvidence(s: string): string {
  return s.normalize("NFC").replace(/[\u2018\u2019\u201B\u2032]/g, "'")
    .replace(/[\u201C\u201D\u201F\u2033]/g, '"').replace(/\s+/g, " ").trim().toLowerCase();
}

/**
 * Whether a quote occurs in a text (both {@link normalizeEvidence}d). A quote elided with "..."
 * or "…" matches when every piece occurs, in order.
 */
export function quoteInText(quote: string, text: string): boolean {
  const hay = normalizeEvidence(text);
  const pieces = normalizeEvidence(quote).split(/\s*(?:\.\.\.|…)\s*/)
    .map((p) => p.replace(/^["']+|["']+$/g, "").trim()).filter((p) => p.length > 0);
  if (pieces.length === 0) return false;
  let from = 0;
  for (const p of pieces) {
    const i = hay.indexOf(p, from);
    if (i < 0) return false;
    from = i + p.length;
  }
  return true;
}

function contentWords(s: string): string[] {
  return (s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) =>
    w.length >= 3 || /\d/.test(w)
  );
}

/** Share of a text's content words (3+ letters, or any number) that occur in `text`. */
export function wordSupport(s: string, text: string): number {
  const words = contentWords(s);
  if (words.length === 0) return 0;
  const have = new Set(contentWords(text));
  return words.filter((w) => have.has(w)).length / words.length;
}

/** Minimum {@link wordSupport} of paraphrased items (matching, ranking, ordering). */
export const ITEM_SUPPORT = 0.8;
/** Minimum {@link wordSupport} of a summary. */
export const SUMMARY_SUPPORT = 0.6;

class Reject extends Error {
  constructor(readonly reason: RejectReason, detail: string) {
    super(detail);
  }
}

const clip = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n)}…` : s);

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== "string" || v.trim().length === 0) {
    throw new Reject("bad_contract", `"${key}" must be a non-empty string`);
  }
  return v.replace(/\s+/g, " ").trim();
}

function strList(o: Record<string, unknown>, key: string, min: number, max: number): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length < min || v.length > max) {
    throw new Reject("bad_contract", `"${key}" must be a list of ${min} to ${max} strings`);
  }
  return v.map((x) => {
    if (typeof x !== "string" && typeof x !== "number") {
      throw new Reject("bad_contract", `"${key}" must hold strings`);
    }
    return String(x).replace(/\s+/g, " ").trim();
  });
}

/** The quotes of a reply: `evidence_quotes` (list) or `evidence_quote` (string). */
function quotes(o: Record<string, unknown>): string[] {
  if (Array.isArray(o.evidence_quotes)) return strList(o, "evidence_quotes", 1, 32);
  return [str(o, "evidence_quote")];
}

function checkQuotes(qs: string[], text: string): void {
  for (const q of qs) {
    if (!quoteInText(q, text)) {
      throw new Reject("evidence_not_found", `quote not in the excerpt: "${clip(q)}"`);
    }
  }
}

function checkItemsVerbatim(items: string[], text: string, what: string): void {
  const hay = normalizeEvidence(text);
  for (const it of items) {
    if (!hay.includes(normalizeEvidence(it))) {
      throw new Reject("unsupported_answer", `${what} not in the excerpt: "${clip(it)}"`);
    }
  }
}

function checkItemsSupported(items: string[], text: string): void {
  for (const it of items) {
    const s = wordSupport(it, text);
    if (s < ITEM_SUPPORT) {
      throw new Reject(
        "unsupported_answer",
        `item "${clip(it)}": ${Math.round(s * 100)}% of its words are in the excerpt`,
      );
    }
  }
}

/** "A", "(b)", "C." → 0..3; anything else undefined. */
function letterIndex(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 3) return v;
  if (typeof v !== "string") return undefined;
  const m = /^\s*\(?([A-Da-d])\)?\.?\s*$/.exec(v);
  return m ? "ABCD".indexOf(m[1].toUpperCase()) : undefined;
}

/** A reply's numeric answer as a decimal literal, or undefined. */
function decimal(v: unknown): string | undefined {
  let s: string;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return undefined;
    s = String(v);
  } else if (typeof v === "string") s = v.trim().replace(/^\+/, "").replace(/[,\s]/g, "");
  else return undefined;
  return /^-?\d+(\.\d+)?$/.test(s) ? s : undefined;
}

/** Where a reply came from, for {@link draftFromReply}. */
export interface ReplyContext {
  doc: Document;
  task: TaskType;
  excerpt: Excerpt;
  /** Orders the shuffled item list of ranking and ordering questions. */
  rand: () => number;
  /** Extra provenance merged into `meta.llm`. */
  meta?: Record<string, unknown>;
}

/**
 * Turns a parsed reply into a Draft (generator `llm/<task>`) after the evidence checks (a), or
 * says why not. Ranking and ordering questions get their items appended in a seeded order that
 * differs from the gold order.
 */
export function draftFromReply(
  o: Record<string, unknown>,
  ctx: ReplyContext,
): Draft | { reason: RejectReason; detail: string } {
  try {
    return build(o, ctx);
  } catch (e) {
    if (e instanceof Reject) return { reason: e.reason, detail: e.message };
    throw e;
  }
}

function build(o: Record<string, unknown>, ctx: ReplyContext): Draft {
  const { doc, task, excerpt } = ctx;
  const text = excerpt.text;
  let question = str(o, "question");
  const passage: Passage = { docId: doc.id, label: excerpt.label, text };
  const llm: Record<string, unknown> = { excerpt: excerpt.from, ...ctx.meta };
  const base = (q: string, evidenceQuotes?: string[]): DraftBase => ({
    generator: `llm/${task}`,
    question: q,
    evidence: [passage],
    docs: [doc],
    meta: { llm: evidenceQuotes ? { ...llm, evidence_quotes: evidenceQuotes } : llm },
  });
  let d: Draft | null;
  switch (task) {
    case "precise_retrieval": {
      const answer = str(o, "answer");
      const qs = [str(o, "evidence_quote")];
      checkQuotes(qs, text);
      if (!text.includes(answer)) {
        throw new Reject(
          "unsupported_answer",
          `answer not verbatim in the excerpt: "${clip(answer)}"`,
        );
      }
      d = emDraft(base(question, qs), answer);
      break;
    }
    case "comprehension": {
      const options = strList(o, "options", 4, 4);
      const correct = letterIndex(o.correct);
      if (correct === undefined) throw new Reject("bad_contract", `"correct" must be A, B, C or D`);
      const qs = quotes(o);
      checkQuotes(qs, text);
      d = selectionDraft(base(question, qs), options, correct);
      break;
    }
    case "numerical_reasoning": {
      const value = decimal(o.answer);
      if (value === undefined) throw new Reject("bad_contract", `"answer" must be one number`);
      const qs = quotes(o);
      checkQuotes(qs, text);
      d = mathDraft(base(question, qs), value);
      break;
    }
    case "exhaustive_retrieval": {
      const items = strList(o, "items", 1, 20);
      const qs = quotes(o);
      checkQuotes(qs, text);
      checkItemsVerbatim(items, text, "item");
      d = listDraft(
        base(question, qs),
        LLM_SUBTASKS.exhaustive_retrieval,
        items,
        "every answer",
      );
      break;
    }
    case "structured_matching": {
      const items = strList(o, "items", 1, 12);
      if (items.some((i) => !/^[^:]+:\s*\S/.test(i))) {
        throw new Reject("bad_contract", `"items" must be "key: value" lines`);
      }
      const qs = quotes(o);
      checkQuotes(qs, text);
      checkItemsSupported(items, text);
      d = listDraft(
        base(question, qs),
        LLM_SUBTASKS.structured_matching,
        items,
        'each requested value as a "key: value" line, keys worded as in the question',
      );
      break;
    }
    case "graded_ranking":
    case "sequence_ordering": {
      const items = strList(o, "items", 2, 8);
      const qs = quotes(o);
      checkQuotes(qs, text);
      checkItemsSupported(items, text);
      let shown = shuffled(ctx.rand, items);
      if (shown.every((x, i) => x === items[i])) shown = [...shown.slice(1), shown[0]];
      const ranking = task === "graded_ranking";
      question = `${question}\n${ranking ? "The items" : "The events"}, in no particular order:\n${
        shown.join("\n")
      }`;
      d = listDraft(
        base(question, qs),
        LLM_SUBTASKS[task],
        items,
        ranking ? "all the items in ranked order, first to last" : "all the events in order, " +
          "earliest first",
      );
      break;
    }
    case "summarization": {
      const summary = str(o, "summary");
      const s = wordSupport(summary, text);
      if (s < SUMMARY_SUPPORT) {
        throw new Reject(
          "unsupported_answer",
          `summary: ${Math.round(s * 100)}% of its words are in the excerpt`,
        );
      }
      d = summaryDraft(base(question), LLM_SUBTASKS.summarization, [summary]);
      break;
    }
    case "structured_extraction": {
      const columns = strList(o, "columns", 1, 12);
      const rawRows = o.rows;
      if (!Array.isArray(rawRows) || rawRows.length === 0) {
        throw new Reject("bad_contract", `"rows" must be a non-empty list of lists`);
      }
      const rows = rawRows.map((r) => {
        if (!Array.isArray(r) || r.length !== columns.length) {
          throw new Reject("bad_contract", "every row needs one cell per column");
        }
        return strList({ r }, "r", columns.length, columns.length);
      });
      checkItemsVerbatim(rows.flat().filter((c) => c.length > 0), text, "cell");
      d = tableDraft(base(question), columns, rows);
      break;
    }
  }
  if (!d) throw new Reject("draft_refused", "the draft factory refused the gold answer");
  return d;
}

// ---------------------------------------------------------------------------------------------
// Requests, cache, verification

/** One cached reply (a line of the cache file). */
export interface LlmCacheEntry {
  key: string;
  kind: "generate" | "verify";
  model: string;
  doc: string;
  task: TaskType;
  text: string;
  reasoning?: string;
  finish_reason: string;
}

interface ReplyStore {
  get(key: string): LlmCacheEntry | undefined;
  put(e: LlmCacheEntry): Promise<void>;
}

const THINK_GATE = "<think>\n</think>\n";

/** Sampling defaults of generation and verification. */
export const DEFAULT_GENERATION: LlmSampling = { maxTokens: 4096, temperature: 0.7, topP: 0.95 };
/** Verification samples greedily: the check should not depend on luck. */
export const DEFAULT_VERIFICATION: LlmSampling = { maxTokens: 4096, temperature: 0, topP: 1 };

/** The request a verifier model answers for a draft: the training prompt at excerpt length. */
export function verificationRequest(draft: Draft, s: LlmSampling, seed: number): ChatRequest {
  const context = draft.evidence.map(renderPassage).join("\n\n");
  return {
    messages: [{ role: "user", content: renderPrompt(context, draft) }],
    maxTokens: s.maxTokens,
    temperature: s.temperature,
    topP: s.topP,
    seed,
  };
}

/**
 * The draft verifier's reward for a model's reply: the text after any reasoning is scored as the
 * gold response would be (behind an empty think block; summaries bare, without the gate), so a
 * non-thinking verifier model is not failed on format.
 */
export function scoreVerifierReply(draft: Draft, reply: string): number {
  const answer = postThink(reply);
  return draft.task === "summarization"
    ? scoreResponse(draft, answer.trim(), "none").reward
    : scoreResponse(draft, THINK_GATE + answer).reward;
}

/** A bounded pool: runs `jobs` with at most `n` in flight; results in job order. */
async function pool<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, jobs.length)) }, worker));
  return out;
}

/**
 * P3 LLM track: generates QA pairs for `docs` × `opts.tasks` with `backend`, verifies them and
 * returns the accepted Drafts and the rejections (in job order), with counters.
 */
export async function generateLlmDrafts(
  docs: Document[],
  backend: ChatBackend,
  opts: LlmTrackOptions,
): Promise<LlmTrackResult> {
  const verifier = opts.verifier ?? backend;
  const gen = { ...DEFAULT_GENERATION, ...opts.generation };
  const ver = { ...DEFAULT_VERIFICATION, ...opts.verification };
  const minReward = { ...MIN_VERIFIER_REWARD, ...opts.minVerifierReward };
  const stats: LlmTrackStats = { jobs: 0, requests: 0, cacheHits: 0, accepted: 0, rejected: {} };
  const file = opts.cachePath ? await new JsonlCache<LlmCacheEntry>(opts.cachePath).open() : null;
  const memory = new Map<string, LlmCacheEntry>();
  const store: ReplyStore = file ?? {
    get: (k) => memory.get(k),
    put: (e) => (memory.set(e.key, e), Promise.resolve()),
  };

  /** One reply, from the cache or the backend (which then goes into the cache). */
  const ask = async (
    b: ChatBackend,
    req: ChatRequest,
    kind: LlmCacheEntry["kind"],
    doc: string,
    task: TaskType,
  ): Promise<LlmCacheEntry> => {
    const params = {
      maxTokens: req.maxTokens,
      temperature: req.temperature,
      topP: req.topP,
      seed: req.seed,
    };
    const key = await hashKey({ model: b.id, messages: req.messages, params });
    const hit = store.get(key);
    if (hit) {
      stats.cacheHits++;
      return hit;
    }
    stats.requests++;
    const [r] = await b.complete(req);
    const e: LlmCacheEntry = {
      key,
      kind,
      model: b.id,
      doc,
      task,
      text: r?.text ?? "",
      finish_reason: r?.finishReason ?? "unknown",
    };
    if (r?.reasoning !== undefined) e.reasoning = r.reasoning;
    await store.put(e);
    return e;
  };

  type Outcome = { draft: Draft } | LlmRejection;
  const jobs: (() => Promise<Outcome>)[] = [];
  const early: { at: number; r: LlmRejection }[] = [];
  for (const doc of docs) {
    for (const task of opts.tasks) {
      const exs = pickExcerpts(
        doc,
        task,
        opts.perDoc,
        opts.seed,
        opts.maxEvidenceChars,
        opts.minEvidenceChars,
      );
      if (exs.length === 0) {
        early.push({
          at: jobs.length,
          r: {
            docId: doc.id,
            task,
            reason: "no_excerpt",
            detail: "no excerpt of the minimum size",
          },
        });
      }
      for (const [k, ex] of exs.entries()) {
        const name = `${doc.id}:${task}:${k}`;
        jobs.push(async () => {
          const reject = (reason: RejectReason, detail: string): LlmRejection => ({
            docId: doc.id,
            task,
            reason,
            detail,
          });
          const req: ChatRequest = {
            messages: [
              { role: "system", content: GENERATION_SYSTEM },
              { role: "user", content: generationPrompt(task, doc.title || doc.id, ex.text) },
            ],
            ...gen,
            seed: subSeed(opts.seed, `llm:gen:${name}`),
          };
          let reply: LlmCacheEntry;
          try {
            reply = await ask(backend, req, "generate", doc.id, task);
          } catch (e) {
            return reject("request_failed", (e as Error).message);
          }
          const obj = parseJsonObject(reply.text);
          if (!obj) {
            return reject("malformed_json", `no JSON object in the reply: "${clip(reply.text)}"`);
          }
          const d = draftFromReply(obj, {
            doc,
            task,
            excerpt: ex,
            rand: mulberry32(subSeed(opts.seed, `llm:order:${name}`)),
            meta: { model: backend.id },
          });
          if ("reason" in d) return reject(d.reason, d.detail);
          const gold = selfCheck(d);
          if (!gold.ok) return reject("gold_self_check", `gold scores ${gold.reward}`);
          let check: LlmCacheEntry;
          try {
            check = await ask(
              verifier,
              verificationRequest(d, ver, subSeed(opts.seed, `llm:verify:${name}`)),
              "verify",
              doc.id,
              task,
            );
          } catch (e) {
            return reject("verifier_request_failed", (e as Error).message);
          }
          const reward = scoreVerifierReply(d, check.text);
          const llm = d.meta!.llm as Record<string, unknown>;
          llm.verifier = verifier.id;
          llm.verifier_reward = Number(reward.toFixed(4));
          if (reward < minReward[task] - 1e-9) {
            return reject(
              "verifier_disagrees",
              `verifier reply scores ${reward.toFixed(3)} < ${minReward[task]} ` +
                `(finish ${check.finish_reason}): "${clip(postThink(check.text).trim())}"`,
            );
          }
          return { draft: d };
        });
      }
    }
  }
  stats.jobs = jobs.length;
  let done = 0;
  const outcomes = await pool(
    opts.concurrency,
    jobs.map((j) => async () => {
      const r = await j();
      opts.onProgress?.(++done, jobs.length);
      return r;
    }),
  );
  file?.close();

  const drafts: Draft[] = [];
  const rejected: LlmRejection[] = [];
  const seen = new Set<string>();
  const add = (r: LlmRejection) => {
    rejected.push(r);
    stats.rejected[r.reason] = (stats.rejected[r.reason] ?? 0) + 1;
  };
  let e = 0;
  for (const [i, o] of outcomes.entries()) {
    while (e < early.length && early[e].at <= i) add(early[e++].r);
    if (!("draft" in o)) {
      add(o);
      continue;
    }
    const q = `${o.draft.task}\u0000${normalizeEvidence(o.draft.question)}`;
    if (seen.has(q)) {
      add({
        docId: o.draft.source_docs[0].id,
        task: o.draft.task,
        reason: "duplicate_question",
        detail: clip(o.draft.question),
      });
      continue;
    }
    seen.add(q);
    drafts.push(o.draft);
  }
  while (e < early.length) add(early[e++].r);
  stats.accepted = drafts.length;
  return { drafts, rejected, stats };
}
