/**
 * Validation and canonical JSONL I/O of {@link Sample} records.
 *
 * {@link validateSample} accepts our own JSONL records and the GoLongRL/verl layout that
 * others write (the released `Kwai-Klear/GoLongRL` data, pandas/HF exports):
 * - `prompt`: a list of `{role, content}`, or that list as a JSON string, or a bare string
 *   (one user message);
 * - `reward_model`: a dict or a JSON string; `style` defaults to "rule";
 * - `reward_model.ground_truth`: a dict `{doc_ids, golden_label, summary}`, a JSON string of
 *   one, a list (its last element is used, as every reference verifier does), or a plain string
 *   (taken as `golden_label`, as the math verifier reads it). Missing fields default to `[]`/`""`;
 *   numbers become strings; a dict/list `golden_label` becomes its JSON text (table IoU gold);
 * - `extra_info`: a dict or a JSON string; `reward_mode` defaults to `data_source` (the raw
 *   reward type, as the reference names non-LongBench-Pro samples); `question` to `""`;
 *   `index` to the caller's row number; `generator` to `"import:<data_source>"`;
 *   `source_docs` to `[]`; a numeric `index` becomes a string;
 * - `ability`: one of the 9 task types, or a known alias (metric name, reward type, spaced or
 *   capitalised capability name) mapped to it, the raw value kept in `extra_info.ability_raw`;
 *   an unknown name is kept verbatim (stats report it; the verifier still routes by
 *   `data_source`);
 * - `id`: defaults to `<idPrefix><index>`;
 * - other top-level keys (e.g. a top-level `reward_mode`, which TMN would read) move to
 *   `extra_info.top_level` so nothing is silently lost.
 *
 * Wrong types of present fields are errors ({@link InputError} naming file, line and field).
 *
 * Output is canonical: {@link canonicalSample} fixes the key order (known keys in a fixed
 * order, everything else sorted), so writing the same samples twice gives identical bytes.
 *
 * @module
 */
import { InputError } from "../core/errors.ts";
import { readJsonl } from "../core/jsonl.ts";
import { JsonlWriter } from "../core/jsonl_writer.ts";
import { type GroundTruth, TASK_TYPES, type TaskType } from "../tasks/types.ts";
import type { ChatMessage, Sample } from "../tasks/generators/types.ts";

/** Where a record came from, for error messages. */
export interface Where {
  file?: string;
  line?: number;
}

/** Options of {@link validateSample}. */
export interface ValidateOptions {
  /** Used when `extra_info.index` is missing (importers pass the row number). */
  defaultIndex?: number | string;
  /** Prefix of an id derived from the index (default ""). */
  idPrefix?: string;
}

const ROLES = new Set(["system", "user", "assistant"]);
const TOP_KEYS = new Set(["id", "data_source", "ability", "prompt", "reward_model", "extra_info"]);

/** Capability names, metric names and reward types → task type (keys normalized by {@link abilityKey}). */
const ABILITY_ALIASES: Readonly<Record<string, TaskType>> = Object.freeze({
  em: "precise_retrieval",
  exact_match: "precise_retrieval",
  retrieval: "precise_retrieval",
  accuracy: "comprehension",
  selection: "comprehension",
  multiple_choice: "comprehension",
  f1: "exhaustive_retrieval",
  f1_score: "exhaustive_retrieval",
  math: "numerical_reasoning",
  math_verify: "numerical_reasoning",
  math_longcot_math_verify: "numerical_reasoning",
  iou: "structured_extraction",
  table_iou: "structured_extraction",
  multitableqa: "structured_extraction",
  multitableqa_pretraining: "structured_extraction",
  subem: "structured_matching",
  ndcg: "graded_ranking",
  pairwise: "sequence_ordering",
  pairwise_accuracy: "sequence_ordering",
  summary: "summarization",
  rouge_l: "summarization",
  rougel: "summarization",
});

/** Lowercase, spaces/hyphens/dots → "_" ("Precise Retrieval" → "precise_retrieval"). */
function abilityKey(raw: string): string {
  return raw.trim().toLowerCase().replace(/[\s\-.]+/g, "_");
}

/** The task type a raw `ability` names (a task type or a known alias), or undefined. */
export function normalizeAbility(raw: string): TaskType | undefined {
  const k = abilityKey(raw);
  if ((TASK_TYPES as readonly string[]).includes(k)) return k as TaskType;
  return Object.hasOwn(ABILITY_ALIASES, k) ? ABILITY_ALIASES[k] : undefined;
}

/** True when `v` is a plain object (not an array, not null). */
function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses `v` when it is a JSON string of the wanted kind; returns `v` otherwise. */
function maybeJson(v: unknown, want: "object" | "array"): unknown {
  if (typeof v !== "string") return v;
  const t = v.trim();
  if (!(want === "object" ? t.startsWith("{") : t.startsWith("["))) return v;
  try {
    return JSON.parse(t);
  } catch {
    return v;
  }
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** Validates one record (see the module doc for what is accepted) and returns a canonical Sample. */
export function validateSample(v: unknown, where: Where, opts: ValidateOptions = {}): Sample {
  const fail = (field: string, msg: string): never => {
    throw new InputError(msg, where.file, where.line, field);
  };
  if (!isObj(v)) return fail("", `expected a JSON object, got ${kind(v)}`);

  const dataSource = v.data_source;
  if (typeof dataSource !== "string" || dataSource === "") {
    fail("data_source", `expected a non-empty string, got ${kind(dataSource)}`);
  }
  const ds = dataSource as string;

  // ---- prompt
  let prompt = maybeJson(v.prompt, "array");
  if (typeof prompt === "string") prompt = [{ role: "user", content: prompt }];
  if (!Array.isArray(prompt)) {
    return fail("prompt", `expected a list of messages, got ${kind(prompt)}`);
  }
  const messages: ChatMessage[] = prompt.map((m, i) => {
    if (!isObj(m)) return fail(`prompt[${i}]`, `expected {role, content}, got ${kind(m)}`);
    if (typeof m.role !== "string" || !ROLES.has(m.role)) {
      fail(`prompt[${i}].role`, `expected system|user|assistant, got ${JSON.stringify(m.role)}`);
    }
    if (typeof m.content !== "string") {
      fail(`prompt[${i}].content`, `expected a string, got ${kind(m.content)}`);
    }
    return { role: m.role as ChatMessage["role"], content: m.content as string };
  });

  // ---- reward_model
  const rm = maybeJson(v.reward_model, "object");
  if (!isObj(rm)) return fail("reward_model", `expected an object, got ${kind(rm)}`);
  const style = rm.style ?? "rule";
  if (style !== "rule") fail("reward_model.style", `expected "rule", got ${JSON.stringify(style)}`);
  const groundTruth = normalizeGroundTruth(rm.ground_truth, fail);

  // ---- extra_info
  let ei = maybeJson(v.extra_info ?? {}, "object");
  if (!isObj(ei)) return fail("extra_info", `expected an object, got ${kind(ei)}`);
  ei = { ...ei };
  const extra = ei as Record<string, unknown>;
  const str = (key: string, dflt: string | undefined): string => {
    const x = extra[key];
    if (x === undefined || x === null) {
      if (dflt === undefined) return fail(`extra_info.${key}`, "missing");
      return dflt;
    }
    if (typeof x === "number" && key === "index") return String(x);
    if (typeof x !== "string") {
      return fail(`extra_info.${key}`, `expected a string, got ${kind(x)}`);
    }
    return x;
  };
  if (ds === "longbench_pro" && typeof extra.reward_mode !== "string") {
    fail("extra_info.reward_mode", "longbench_pro samples need the sub-task name");
  }
  extra.reward_mode = str("reward_mode", ds);
  extra.question = str("question", "");
  extra.index = str(
    "index",
    opts.defaultIndex === undefined ? undefined : String(opts.defaultIndex),
  );
  extra.generator = str("generator", `import:${ds}`);
  const docs = maybeJson(extra.source_docs ?? [], "array");
  if (!Array.isArray(docs)) fail("extra_info.source_docs", `expected a list, got ${kind(docs)}`);
  (docs as unknown[]).forEach((d, i) => {
    if (!isObj(d) || typeof d.id !== "string") {
      fail(`extra_info.source_docs[${i}]`, "expected {id, title, kind}");
    }
  });
  extra.source_docs = docs;
  if (extra.length_bucket !== undefined && typeof extra.length_bucket !== "string") {
    fail("extra_info.length_bucket", `expected a string, got ${kind(extra.length_bucket)}`);
  }
  if (extra.tokens !== undefined && typeof extra.tokens !== "number") {
    fail("extra_info.tokens", `expected a number, got ${kind(extra.tokens)}`);
  }
  if (extra.needle_depth !== undefined && typeof extra.needle_depth !== "number") {
    fail("extra_info.needle_depth", `expected a number, got ${kind(extra.needle_depth)}`);
  }
  if (extra.difficulty !== undefined && !isObj(extra.difficulty)) {
    fail("extra_info.difficulty", `expected an object, got ${kind(extra.difficulty)}`);
  }

  // ---- ability
  const rawAbility = v.ability;
  if (typeof rawAbility !== "string" || rawAbility === "") {
    fail("ability", `expected a non-empty string, got ${kind(rawAbility)}`);
  }
  let ability = rawAbility as string;
  const mapped = normalizeAbility(ability);
  if (mapped !== undefined && mapped !== ability) {
    if (extra.ability_raw === undefined) extra.ability_raw = ability;
    ability = mapped;
  }

  // ---- id
  let id = v.id;
  if (id === undefined || id === null) id = `${opts.idPrefix ?? ""}${extra.index}`;
  if (typeof id === "number") id = String(id);
  if (typeof id !== "string" || id === "") {
    fail("id", `expected a non-empty string, got ${kind(id)}`);
  }

  // ---- unknown top-level keys are kept, not dropped
  const top: Record<string, unknown> = {};
  for (const k of Object.keys(v)) if (!TOP_KEYS.has(k)) top[k] = v[k];
  if (Object.keys(top).length > 0) {
    extra.top_level = isObj(extra.top_level) ? { ...extra.top_level, ...top } : top;
  }

  return canonicalSample({
    id: id as string,
    data_source: ds,
    ability: ability as TaskType,
    prompt: messages,
    reward_model: { style: "rule", ground_truth: groundTruth },
    extra_info: extra as Sample["extra_info"],
  });
}

/** The ground-truth normalization of the module doc. */
function normalizeGroundTruth(
  raw: unknown,
  fail: (field: string, msg: string) => never,
): Required<GroundTruth> {
  const F = "reward_model.ground_truth";
  let gt = raw;
  if (typeof gt === "string") {
    const parsed = maybeJson(gt, gt.trim().startsWith("[") ? "array" : "object");
    const looksGt = Array.isArray(parsed) ||
      (isObj(parsed) &&
        ["doc_ids", "golden_label", "summary"].some((k) => Object.hasOwn(parsed, k)));
    gt = looksGt ? parsed : { golden_label: gt };
  }
  if (Array.isArray(gt)) {
    if (gt.length === 0) return fail(F, "an empty list (the reference uses its last element)");
    gt = gt[gt.length - 1];
    if (typeof gt === "string") gt = { golden_label: gt };
  }
  if (gt === undefined || gt === null) return fail(F, "missing");
  if (!isObj(gt)) return fail(F, `expected an object, got ${kind(gt)}`);
  let docIds = maybeJson(gt.doc_ids ?? [], "array");
  if (typeof docIds === "string") docIds = [docIds];
  if (!Array.isArray(docIds)) return fail(`${F}.doc_ids`, `expected a list, got ${kind(docIds)}`);
  const ids = docIds.map((d, i) => {
    if (typeof d === "string") return d;
    if (typeof d === "number" || typeof d === "boolean") return String(d);
    if (d === null) return "";
    return fail(`${F}.doc_ids[${i}]`, `expected a string, got ${kind(d)}`);
  });
  const label = gt.golden_label;
  let golden: string;
  if (label === undefined || label === null) golden = "";
  else if (typeof label === "string") golden = label;
  else if (typeof label === "number" || typeof label === "boolean") golden = String(label);
  else golden = JSON.stringify(label);
  const summary = gt.summary;
  if (summary !== undefined && summary !== null && typeof summary !== "string") {
    fail(`${F}.summary`, `expected a string, got ${kind(summary)}`);
  }
  return { doc_ids: ids, golden_label: golden, summary: (summary as string | undefined) ?? "" };
}

// ==================== Canonical key order ====================

const EXTRA_ORDER = [
  "reward_mode",
  "question",
  "index",
  "generator",
  "source_docs",
  "length_bucket",
  "tokens",
  "needle_depth",
  "difficulty",
];
const DOC_ORDER = ["id", "title", "kind", "licence"];
const DIFFICULTY_ORDER = ["pass_rate", "band", "k", "policy"];

/** Deep copy with object keys sorted (arrays keep their order). */
export function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (!isObj(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep(v[k]);
  return out;
}

/** `v` with the keys in `order` first (in that order), then the rest sorted, values deep-sorted. */
function ordered(v: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (Object.hasOwn(v, k) && v[k] !== undefined) out[k] = v[k];
  for (const k of Object.keys(v).sort()) {
    if (!order.includes(k) && v[k] !== undefined) out[k] = sortKeysDeep(v[k]);
  }
  return out;
}

/** A copy of `s` with the canonical key order (see the module doc). */
export function canonicalSample(s: Sample): Sample {
  const ei = { ...s.extra_info } as Record<string, unknown>;
  if (Array.isArray(ei.source_docs)) {
    ei.source_docs = ei.source_docs.map((d) => isObj(d) ? ordered(d, DOC_ORDER) : d);
  }
  if (isObj(ei.difficulty)) ei.difficulty = ordered(ei.difficulty, DIFFICULTY_ORDER);
  const gt = s.reward_model.ground_truth;
  return {
    id: s.id,
    data_source: s.data_source,
    ability: s.ability,
    prompt: s.prompt.map((m) => ({ role: m.role, content: m.content })),
    reward_model: {
      style: s.reward_model.style,
      ground_truth: {
        doc_ids: [...gt.doc_ids],
        golden_label: gt.golden_label,
        summary: gt.summary,
      },
    },
    extra_info: ordered(ei, EXTRA_ORDER) as Sample["extra_info"],
  };
}

/** One canonical JSONL line (no trailing newline). */
export function sampleToJsonLine(s: Sample): string {
  return JSON.stringify(canonicalSample(s));
}

// ==================== Streaming JSONL I/O ====================

/**
 * Reads samples from a JSONL file one line at a time (validated; a missing `extra_info.index`
 * becomes the record's 0-based position among non-blank lines).
 */
export async function* readSamples(
  path: string,
  opts: Omit<ValidateOptions, "defaultIndex"> = {},
): AsyncGenerator<Sample> {
  let n = 0;
  for await (const { line, value } of readJsonl(path)) {
    yield validateSample(value, { file: path, line }, { ...opts, defaultIndex: n++ });
  }
}

/**
 * Writes samples as canonical JSONL through a temporary file renamed into place, streaming
 * (a killed run leaves no partial file). Returns the number of samples written.
 */
export async function writeSamplesJsonl(
  path: string,
  samples: Iterable<Sample> | AsyncIterable<Sample>,
): Promise<number> {
  return await JsonlWriter.with(path, () => {}, async (w) => {
    let n = 0;
    for await (const s of samples) {
      await w.writeLine(sampleToJsonLine(s));
      n++;
    }
    return n;
  });
}
