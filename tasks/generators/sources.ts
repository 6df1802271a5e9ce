/**
 * Source-specific readers on top of {@link Document}: paper tables, SGD frames, speech metadata,
 * QMSum queries and paper abstracts. Each validates what ingestion gave and returns only
 * well-formed pieces, so generators never see a ragged table or a frame without a service.
 *
 * @module
 */
import type { Document } from "./types.ts";
import {
  APPARATUS,
  collapse,
  docSections,
  docTurns,
  excerpt,
  metaString,
  normWords,
  paragraphs,
} from "./text.ts";

/** A clean table: distinct non-empty headers, rectangular rows of collapsed cells. */
export interface CleanTable {
  label: string;
  caption: string;
  header: string[];
  rows: string[][];
  index: number;
}

const TABLES_CACHE = new WeakMap<Document, CleanTable[]>();

/** The usable tables of a paper (at least 2 columns and 2 rows); cached per document object. */
export function paperTables(doc: Document): CleanTable[] {
  const hit = TABLES_CACHE.get(doc);
  if (hit) return hit;
  const v = computeTables(doc);
  TABLES_CACHE.set(doc, v);
  return v;
}

function computeTables(doc: Document): CleanTable[] {
  const out: CleanTable[] = [];
  const ts = Array.isArray(doc.tables) ? doc.tables : [];
  ts.forEach((t, index) => {
    if (!t || !Array.isArray(t.header) || !Array.isArray(t.rows)) return;
    const header = t.header.map((h) => collapse(String(h ?? "")));
    if (header.length < 2 || header.some((h) => !h) || new Set(header).size !== header.length) {
      return;
    }
    const rows = t.rows
      .filter((r) => Array.isArray(r) && r.length === header.length)
      .map((r) => r.map((c) => collapse(String(c ?? ""))))
      .filter((r) => r.some((c) => c.length > 0) && !r.every((c, i) => c === header[i]));
    if (rows.length < 2) return;
    const label = collapse(String(t.label ?? "")) || `Table ${index + 1}`;
    out.push({ label, caption: collapse(String(t.caption ?? "")), header, rows, index });
  });
  return out;
}

/** Render a table as pipe rows, keeping as many rows as fit `maxChars`; returns the kept count. */
export function renderTable(t: CleanTable, maxChars: number): { text: string; kept: number } {
  const head = `${t.label}${t.caption ? `. ${t.caption.slice(0, 400)}` : ""}`;
  const line = (r: string[]) => `| ${r.join(" | ")} |`;
  let text = `${head}\n${line(t.header)}`;
  let kept = 0;
  for (const r of t.rows) {
    const l = line(r);
    if (text.length + l.length + 1 > maxChars) break;
    text += `\n${l}`;
    kept++;
  }
  return { text, kept };
}

/** Row indices whose first cell is non-empty and unique within `rows`. */
export function uniqueKeyRows(rows: string[][]): number[] {
  const count = new Map<string, number>();
  for (const r of rows) count.set(r[0], (count.get(r[0]) ?? 0) + 1);
  return rows.map((_, i) => i).filter((i) => rows[i][0] && count.get(rows[i][0]) === 1);
}

/** One SGD dialogue act with its surface values. */
export interface SgdAction {
  act: string;
  slot: string;
  values: string[];
}

/** One SGD frame (service) of a turn. */
export interface SgdFrame {
  service: string;
  actions: SgdAction[];
  /** Dialogue state after a user turn: slot → values. */
  state?: Record<string, string[]>;
}

function asFrame(f: unknown): SgdFrame | null {
  if (!f || typeof f !== "object") return null;
  const o = f as Record<string, unknown>;
  if (typeof o.service !== "string" || !o.service) return null;
  const actions: SgdAction[] = [];
  if (Array.isArray(o.actions)) {
    for (const a of o.actions) {
      if (!a || typeof a !== "object") continue;
      const x = a as Record<string, unknown>;
      if (typeof x.act !== "string" || typeof x.slot !== "string") continue;
      const values = Array.isArray(x.values)
        ? x.values.filter((v): v is string => typeof v === "string").map(collapse)
        : [];
      actions.push({ act: x.act, slot: x.slot, values });
    }
  }
  let state: Record<string, string[]> | undefined;
  const st = o.state as Record<string, unknown> | undefined;
  if (st && typeof st === "object" && st.slot_values && typeof st.slot_values === "object") {
    state = {};
    for (const [k, v] of Object.entries(st.slot_values as Record<string, unknown>)) {
      if (Array.isArray(v)) {
        state[k] = v.filter((s): s is string => typeof s === "string").map(collapse);
      }
    }
  }
  return { service: o.service, actions, state };
}

/** Frames per turn of an SGD dialogue (`meta.frames[i]` for turn i; empty when absent). */
export function sgdFrames(doc: Document): SgdFrame[][] {
  const raw = doc.meta?.frames;
  const n = Array.isArray(doc.turns) ? doc.turns.length : 0;
  const out: SgdFrame[][] = [];
  for (let i = 0; i < n; i++) {
    const f = Array.isArray(raw) ? raw[i] : undefined;
    const list = Array.isArray(f) ? f : f ? [f] : [];
    out.push(list.map(asFrame).filter((x): x is SgdFrame => x !== null));
  }
  return out;
}

/** "Restaurants_2" → "Restaurants"; "RideSharing" → "Ride Sharing". */
export function humanService(s: string): string {
  return s.replace(/_\d+$/, "").replace(/([a-z])([A-Z])/g, "$1 $2");
}

/** "number_of_seats" → "number of seats". */
export function humanSlot(s: string): string {
  return s.replace(/_/g, " ");
}

/** Is the dialogue speaker the user (SGD "USER")? */
export function isUser(speaker: string): boolean {
  return /^user$/i.test(speaker);
}

/** Metadata of a State of the Union speech, or null when year or president is missing. */
export function speechInfo(
  doc: Document,
): { year: string; president: string; party?: string } | null {
  const year = metaString(doc, "year") ?? (doc.date ? doc.date.slice(0, 4) : undefined);
  const president = metaString(doc, "president") ?? doc.author;
  if (!year || !/^\d{4}$/.test(year) || !president) return null;
  const party = metaString(doc, "party");
  return {
    year,
    president: collapse(president),
    party: party && party !== "none" ? party : undefined,
  };
}

/** A QMSum query with its gold answer and (when given) the turn spans it is about. */
export interface MeetingQuery {
  query: string;
  answer: string;
  spans: [number, number][];
  general: boolean;
}

/** The queries of a QMSum meeting (specific ones first). */
export function meetingQueries(doc: Document): MeetingQuery[] {
  const out: MeetingQuery[] = [];
  const read = (list: unknown, general: boolean) => {
    if (!Array.isArray(list)) return;
    for (const q of list) {
      if (!q || typeof q !== "object") continue;
      const o = q as Record<string, unknown>;
      if (typeof o.query !== "string" || typeof o.answer !== "string") continue;
      const spans: [number, number][] = [];
      if (Array.isArray(o.relevant_text_span)) {
        for (const s of o.relevant_text_span) {
          if (Array.isArray(s) && s.length === 2) {
            const a = Number(s[0]);
            const b = Number(s[1]);
            if (Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= a) spans.push([a, b]);
          }
        }
      }
      const query = collapse(o.query);
      const answer = collapse(o.answer);
      if (query && answer) out.push({ query, answer, spans, general });
    }
  };
  // Ingestion names them specificQueries/generalQueries; the raw QMSum names also work.
  read(doc.meta?.specificQueries ?? doc.meta?.specific_query_list, false);
  read(doc.meta?.generalQueries ?? doc.meta?.general_query_list, true);
  // Spans index the source transcript; ingestion drops empty turns and records where each
  // kept turn came from (meta.turnIndex), so map the spans onto kept turns.
  const ti = doc.meta?.turnIndex;
  if (Array.isArray(ti) && ti.every((x) => Number.isInteger(x))) {
    const idx = ti as number[];
    const firstAtOrAfter = (src: number) => {
      let lo = 0, hi = idx.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (idx[mid] < src) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (const q of out) {
      q.spans = q.spans
        .map(([a, b]) => [firstAtOrAfter(a), firstAtOrAfter(b + 1) - 1] as [number, number])
        .filter(([a, b]) => b >= a);
    }
  }
  return out;
}

/** The abstract of a paper: meta.abstract, else a section titled "Abstract". Markdown headings go. */
export function paperAbstract(doc: Document): string | undefined {
  const m = doc.meta?.abstract;
  let text: string | undefined = typeof m === "string" && m.trim() ? m : undefined;
  if (!text) {
    const s = (Array.isArray(doc.sections) ? doc.sections : []).find((s) =>
      s && typeof s.title === "string" && /^abstract\b/i.test(s.title.trim())
    );
    if (s && typeof s.text === "string") text = s.text;
  }
  if (!text) return undefined;
  const t = collapse(paragraphs(text).join(" "));
  return t.length > 0 ? t : undefined;
}

const SECTIONS_CACHE = new WeakMap<Document, { title: string; paras: string[] }[]>();

/**
 * Content sections of a paper or book (apparatus such as references and the abstract excluded),
 * as paragraphs. Cached per document object: documents are treated as immutable.
 */
export function contentSections(doc: Document): { title: string; paras: string[] }[] {
  const hit = SECTIONS_CACHE.get(doc);
  if (hit) return hit;
  const v = computeSections(doc);
  SECTIONS_CACHE.set(doc, v);
  return v;
}

function computeSections(doc: Document): { title: string; paras: string[] }[] {
  const secs = docSections(doc);
  const real = Array.isArray(doc.sections) && doc.sections.length > 0;
  return secs
    .filter((s) => !real || !APPARATUS.test(collapse(s.title)))
    .map((s) => ({ title: collapse(s.title), paras: paragraphs(s.text) }))
    .filter((s) => s.paras.length > 0);
}

/** Valid turns (re-exported for generators that only need this module). */
export { docTurns };

/**
 * `n` non-overlapping excerpts of one document, in document order, each from its own stratum of
 * the paragraph list (so they spread over the whole text) and at most `perChars` long; null when
 * the document has too few paragraphs or an excerpt would be shorter than `minChars`.
 */
export function spreadExcerpts(
  doc: Document,
  rng: () => number,
  n: number,
  perChars: number,
  minChars = 300,
): { text: string; section: string; para: number }[] | null {
  const flat: { p: string; section: string }[] = [];
  for (const s of contentSections(doc)) for (const p of s.paras) flat.push({ p, section: s.title });
  if (flat.length < n * 2) return null;
  const out: { text: string; section: string; para: number }[] = [];
  for (let k = 0; k < n; k++) {
    const lo = Math.floor((k * flat.length) / n);
    const hi = Math.floor(((k + 1) * flat.length) / n);
    const start = lo + Math.floor(rng() * Math.max(1, hi - lo - 1));
    const paras = flat.slice(start, hi).map((x) => x.p);
    const text = excerptParas(paras, perChars);
    if (text.length < minChars) return null;
    out.push({ text, section: flat[start].section, para: start });
  }
  return out;
}

function excerptParas(paras: string[], maxChars: number): string {
  return excerpt(paras, 0, maxChars);
}

const GUESSABLE = /^(today|tomorrow|yes|no|none|any|true|false|dontcare|economy|standard)$/i;

/**
 * A slot value a reader could guess without reading: a small number (0–10, in digits or words)
 * or a stock word ("today", "yes"). Dialogue questions skip them: a constant guess would score
 * on many conversations, and SubEM rewards listing every small number.
 */
export function guessableValue(v: string): boolean {
  const w = normWords(v);
  if (w.length === 1 && /^\d+$/.test(w[0]) && Number(w[0]) <= 10) return true;
  return GUESSABLE.test(v.trim());
}
