/**
 * 13-gram decontamination of training questions against evaluation benchmarks (recipe §2, P4;
 * reference `Eval/QwenLong-Benchmarks/evalscope/n_gram.py`).
 *
 * Tokens: NFKC, lowercase, then words = runs of letters/digits/marks, with every Han or kana
 * character a token of its own (the reference uses an in-house subword
 * tokenizer; any fixed tokenizer applied to both sides works). Punctuation and whitespace only
 * separate tokens, so case, punctuation and spacing changes do not hide a copy.
 *
 * Benchmark side: for each record (JSONL line, element of a JSON array, parquet row) the
 * question-like fields are indexed, each on its own (no n-gram spans two fields), each cut to
 * its first 4,000 characters as the reference cuts its `text`:
 * `question` (LongBench v2, NQ-Open, LongMemEval, generic), `input` (LongBench v1,
 * InfiniteBench), `query`; the choices `choice_A`…`choice_D` (LongBench v2), `choices`/`options`
 * (a list or a dict of strings); and `text` only when none of question/input/query is present
 * (the reference's field). Long contexts (`context`, `ctxs`, …) are never indexed: as in the
 * reference, only questions are checked, not documents.
 *
 * A training question (`extra_info.question`) is contaminated when:
 * 1. ("ngram") any window of n = 13 of its tokens equals a 13-token window of a benchmark field,
 *    unless that window matches an ignore pattern (the reference's stop patterns: the window
 *    contains the pattern or the pattern contains the window);
 * 2. ("exact") it has fewer than 13 tokens and equals a whole benchmark field. The reference
 *    instead flags a short question that is a substring of any stored 13-gram — far more
 *    aggressive (a 3-word question matches almost anything); we use exact match;
 * 3. ("contains") it contains, as consecutive tokens, a whole benchmark field shorter than 13
 *    tokens but at least `minContained` (default 8) tokens long. This catches a short benchmark
 *    question (NQ-Open questions are ~9 words and have no 13-gram) pasted into a longer
 *    question; the reference misses those. Set `minContained` to 0 to turn it off.
 *
 * Questions that are empty are not checked (kept; counted in the report).
 *
 * @module
 */
import { InputError } from "../core/errors.ts";
import { readJsonl } from "../core/jsonl.ts";
import { readParquetRecords } from "../core/parquet.ts";
import type { Sample } from "../tasks/generators/types.ts";

/** Options of {@link buildBenchmarkIndex}. */
export interface IndexOptions {
  /** n-gram length (default 13). */
  n?: number;
  /** Characters of a field that are indexed (default 4000, as the reference). */
  maxChars?: number;
  /** Shortest benchmark field (in tokens) looked for inside longer questions (default 8; 0 = off). */
  minContained?: number;
  /** Stop patterns: n-grams containing one, or contained in one, never count (case-insensitive). */
  ignore?: string[];
}

/** A benchmark n-gram index. */
export interface BenchmarkIndex {
  n: number;
  maxChars: number;
  minContained: number;
  /** n-gram (tokens joined by one space) → where it first occurs ("file:line field"). */
  grams: Map<string, string>;
  /** Whole fields shorter than n tokens (joined) → where. */
  short: Map<string, string>;
  /** Token lengths present in `short` that are ≥ minContained. */
  containLengths: number[];
  ignore: string[];
  files: string[];
  records: number;
  fields: number;
}

/** The outcome of {@link isContaminated}. */
export interface ContaminationHit {
  hit: boolean;
  /** The matching tokens, joined by spaces. */
  ngram?: string;
  /** Where in the benchmark files ("file:line field"). */
  source?: string;
  rule?: "ngram" | "exact" | "contains";
}

const TOKEN_RE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])[\p{L}\p{N}\p{M}])+/gu;

/** The decontamination tokens of a text (see the module doc). */
export function decontamTokens(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(TOKEN_RE) ?? [];
}

const QUESTION_FIELDS = ["question", "input", "query"];
const CHOICE_FIELDS = ["choice_A", "choice_B", "choice_C", "choice_D"];

/** The question-like texts of one benchmark record, with their field names. */
export function benchmarkTexts(rec: Record<string, unknown>): { field: string; text: string }[] {
  const out: { field: string; text: string }[] = [];
  const add = (field: string, v: unknown) => {
    if (typeof v === "string" && v.trim() !== "") out.push({ field, text: v });
  };
  for (const f of QUESTION_FIELDS) add(f, rec[f]);
  if (out.length === 0) add("text", rec.text);
  for (const f of CHOICE_FIELDS) add(f, rec[f]);
  for (const f of ["choices", "options"]) {
    const v = rec[f];
    if (Array.isArray(v)) v.forEach((x, i) => add(`${f}[${i}]`, x));
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) add(`${f}.${k}`, x);
    }
  }
  return out;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

async function* benchmarkRecords(
  path: string,
): AsyncGenerator<{ line: number; value: Record<string, unknown> }> {
  if (path.endsWith(".parquet")) {
    for await (const { row, value } of readParquetRecords(path)) yield { line: row + 1, value };
    return;
  }
  if (path.endsWith(".json")) {
    const text = await Deno.readTextFile(path).catch((e) => {
      throw new InputError(`cannot read: ${(e as Error).message}`, path);
    });
    if (text.trimStart().startsWith("[")) {
      let arr: unknown[];
      try {
        arr = JSON.parse(text);
      } catch (e) {
        throw new InputError(`invalid JSON: ${(e as Error).message}`, path);
      }
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (v !== null && typeof v === "object" && !Array.isArray(v)) {
          yield { line: i + 1, value: v as Record<string, unknown> };
        }
      }
      return;
    }
  }
  yield* readJsonl(path);
}

/**
 * Builds the n-gram index of benchmark files (JSONL, a JSON array, or parquet; see the module
 * doc for which fields). Each record's fields are streamed; only their n-grams are kept.
 */
export async function buildBenchmarkIndex(
  paths: string[],
  opts: IndexOptions = {},
): Promise<BenchmarkIndex> {
  const n = opts.n ?? 13;
  const idx: BenchmarkIndex = {
    n,
    maxChars: opts.maxChars ?? 4000,
    minContained: opts.minContained ?? 8,
    grams: new Map(),
    short: new Map(),
    containLengths: [],
    ignore: (opts.ignore ?? []).map((p) => decontamTokens(p).join(" ")).filter((p) => p !== ""),
    files: [],
    records: 0,
    fields: 0,
  };
  const lengths = new Set<number>();
  for (const path of paths) {
    idx.files.push(path);
    const name = baseName(path);
    for await (const { line, value } of benchmarkRecords(path)) {
      idx.records++;
      for (const { field, text } of benchmarkTexts(value)) {
        const toks = decontamTokens(text.slice(0, idx.maxChars));
        if (toks.length === 0) continue;
        idx.fields++;
        const where = `${name}:${line} ${field}`;
        if (toks.length < n) {
          const key = toks.join(" ");
          if (!idx.short.has(key)) idx.short.set(key, where);
          if (idx.minContained > 0 && toks.length >= idx.minContained) lengths.add(toks.length);
          continue;
        }
        for (let i = 0; i + n <= toks.length; i++) {
          const g = toks.slice(i, i + n).join(" ");
          if (!idx.grams.has(g)) idx.grams.set(g, where);
        }
      }
    }
  }
  idx.containLengths = [...lengths].sort((a, b) => a - b);
  return idx;
}

function ignored(span: string, index: BenchmarkIndex): boolean {
  return index.ignore.some((p) => span.includes(p) || p.includes(span));
}

/** Whether a training question overlaps the benchmarks (see the module doc for the rules). */
export function isContaminated(question: string, index: BenchmarkIndex): ContaminationHit {
  const toks = decontamTokens(question);
  const n = index.n;
  if (toks.length === 0) return { hit: false };
  if (toks.length < n) {
    const key = toks.join(" ");
    const src = index.short.get(key);
    if (src !== undefined) return { hit: true, ngram: key, source: src, rule: "exact" };
  } else {
    for (let i = 0; i + n <= toks.length; i++) {
      const g = toks.slice(i, i + n).join(" ");
      const src = index.grams.get(g);
      if (src !== undefined && !ignored(g, index)) {
        return { hit: true, ngram: g, source: src, rule: "ngram" };
      }
    }
  }
  for (const len of index.containLengths) {
    if (len > toks.length) break;
    for (let i = 0; i + len <= toks.length; i++) {
      const g = toks.slice(i, i + len).join(" ");
      const src = index.short.get(g);
      if (src !== undefined && !ignored(g, index)) {
        return { hit: true, ngram: g, source: src, rule: "contains" };
      }
    }
  }
  return { hit: false };
}

/** The outcome of {@link decontaminate}. */
export interface DecontamResult {
  kept: Sample[];
  removed: { sample: Sample; reason: string; hit: ContaminationHit }[];
  report: {
    checked: number;
    removed: number;
    /** removed / checked. */
    rate: number;
    /** Samples with an empty `extra_info.question` (not checked, kept). */
    noQuestion: number;
    /** Distinct benchmark records hit. */
    benchmarkRecordsHit: number;
  };
}

/** Splits samples into kept and removed (with the reason) by {@link isContaminated}. */
export function decontaminate(samples: Iterable<Sample>, index: BenchmarkIndex): DecontamResult {
  const kept: Sample[] = [];
  const removed: DecontamResult["removed"] = [];
  const hitRecords = new Set<string>();
  let checked = 0;
  let noQuestion = 0;
  for (const s of samples) {
    const q = typeof s.extra_info.question === "string" ? s.extra_info.question : "";
    if (q.trim() === "") {
      noQuestion++;
      kept.push(s);
      continue;
    }
    checked++;
    const hit = isContaminated(q, index);
    if (!hit.hit) {
      kept.push(s);
      continue;
    }
    hitRecords.add(hit.source!.split(" ")[0]);
    const what = hit.rule === "ngram"
      ? `${index.n}-gram`
      : hit.rule === "exact"
      ? "exact match of a short benchmark text"
      : "contains a short benchmark text";
    removed.push({ sample: s, reason: `${what} "${hit.ngram}" (${hit.source})`, hit });
  }
  return {
    kept,
    removed,
    report: {
      checked,
      removed: removed.length,
      rate: checked === 0 ? 0 : removed.length / checked,
      noQuestion,
      benchmarkRecordsHit: hitRecords.size,
    },
  };
}
