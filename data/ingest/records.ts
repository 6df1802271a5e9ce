/**
 * JSONL records that are documents or carry one: State of the Union speeches
 * (and other `text` records), NQ-Open questions with their gold Wikipedia
 * passage, and LongBench v1/v2 samples. Each reader takes one parsed record.
 */
import type { Document, Skipped } from "../../tasks/generators/types.ts";
import { paragraphize, skip, slug, stem } from "./common.ts";

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

/** Which record reader a JSONL file needs, judged from its first record's fields. */
export type RecordFormat = "qmsum" | "nq" | "longbench-v2" | "longbench-v1" | "text";

/** Sniffs a JSONL file's format from its first record; undefined when no reader fits. */
export function sniffRecord(r: Record<string, unknown>): RecordFormat | undefined {
  if (Array.isArray(r.meeting_transcripts)) return "qmsum";
  if (typeof r.question === "string" && Array.isArray(r.ctxs)) return "nq";
  if (typeof r.context === "string" && "choice_A" in r && "_id" in r) return "longbench-v2";
  if (typeof r.context === "string" && "input" in r && ("dataset" in r || "answers" in r)) {
    return "longbench-v1";
  }
  if (typeof r.text === "string") return "text";
  return undefined;
}

/** Texts longer than this with no paragraph breaks are re-paragraphed by sentences. */
const LONG_LINE = 3000;

/**
 * A record with a `text` field. With `president` or `year` it is a speech
 * (id `sotu:<year>`, or `sotu:<year>-<president>` when the year repeats, as
 * in 1953 and 1961); otherwise a passage with id `<file stem>:<line>`.
 * Fields other than `text` go to meta. Long one-line texts are split into
 * sentence-based paragraphs, which also become the sections.
 */
export function textRecordToDocument(
  r: Record<string, unknown>,
  path: string,
  line: number,
  seen: Set<string>,
): Document | Skipped {
  const source = `${path}:${line}`;
  const raw = str(r.text).replace(/\r\n?/g, "\n").trim();
  if (!raw) return skip(source, `field "text" is empty`);
  const isSpeech = "president" in r || /sotu|speech/i.test(stem(path));
  let paras = raw.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  if (paras.length === 1 && raw.length > LONG_LINE) paras = paragraphize(raw);
  const text = paras.join("\n\n");
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (k !== "text") meta[k] = v;
  const year = str(r.year);
  const president = str(r.president);
  let id: string;
  if (isSpeech && year) {
    id = `sotu:${year}`;
    if (seen.has(id)) id = `sotu:${year}-${slug(president) || line}`;
  } else id = `${stem(path)}:${line}`;
  seen.add(id);
  const sections = paras.map((p, i) => ({ title: `Paragraph ${i + 1}`, text: p }));
  const doc: Document = {
    id,
    title: isSpeech
      ? `State of the Union ${year}${president ? `, ${president}` : ""}`
      : str(r.title) || `${stem(path)} line ${line}`,
    kind: isSpeech ? "speech" : "passage",
    source,
    lang: "und",
    text,
    sections,
    meta,
  };
  if (president) doc.author = president;
  else if (r.author) doc.author = str(r.author);
  if (year) doc.date = year;
  if (isSpeech) doc.licence = "Public domain";
  return doc;
}

/**
 * An NQ-Open record: one passage Document per gold context (`isgold`, or
 * every context when none is marked), id `nq:<record index>` (with `:<k>`
 * when a record has several), meta {question, answers}.
 */
export function nqToDocuments(
  r: Record<string, unknown>,
  path: string,
  line: number,
  index: number,
): (Document | Skipped)[] {
  const source = `${path}:${line}`;
  const ctxs = (Array.isArray(r.ctxs) ? r.ctxs : []) as Record<string, unknown>[];
  const marked = ctxs.some((c) => c && "isgold" in c);
  const gold = ctxs.filter((c) =>
    c && typeof c.text === "string" && (!marked || c.isgold === true)
  );
  if (!gold.length) return [skip(source, 'no gold passage in "ctxs"')];
  return gold.map((c, k): Document | Skipped => {
    const text = str(c.text).trim();
    if (!text) return skip(source, `gold passage ${k} is empty`);
    return {
      id: gold.length === 1 ? `nq:${index}` : `nq:${index}:${k}`,
      title: str(c.title) || str(r.question),
      kind: "passage",
      source,
      licence: "CC BY-SA 3.0 (Wikipedia)",
      lang: "und",
      text,
      meta: {
        question: str(r.question),
        answers: Array.isArray(r.answers) ? r.answers : [r.answers],
        hasAnswer: c.hasanswer,
      },
    };
  });
}

/**
 * A LongBench v1 or v2 sample as a benchmark Document: the context is the
 * text and the rest of the record (question, choices, answer, ...) is meta.
 * Ids: `longbench-v2:<_id>`, `longbench:<dataset>:<_id>`.
 */
export function longbenchToDocument(
  r: Record<string, unknown>,
  path: string,
  line: number,
  v2: boolean,
): Document | Skipped {
  const source = `${path}:${line}`;
  const text = str(r.context).replace(/\r\n?/g, "\n").trim();
  if (!text) return skip(source, `field "context" is empty`);
  const meta: Record<string, unknown> = { longbench: v2 ? 2 : 1 };
  for (const [k, v] of Object.entries(r)) if (k !== "context") meta[k] = v;
  const rid = str(r._id) || String(line);
  const title = v2
    ? `LongBench v2 ${str(r.domain)} / ${str(r.sub_domain)}: ${str(r.question).slice(0, 80)}`
    : `LongBench ${str(r.dataset)}: ${str(r.input).slice(0, 80)}`;
  const doc: Document = {
    id: v2 ? `longbench-v2:${rid}` : `longbench:${str(r.dataset) || stem(path)}:${rid}`,
    title,
    kind: "benchmark",
    source,
    lang: "und",
    text,
    meta,
  };
  if (!v2 && r.language === "zh") doc.lang = "zh";
  return doc;
}
