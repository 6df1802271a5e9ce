/**
 * Precise retrieval (EM): one exact span of the context, copied verbatim. The gold is cut from
 * the very evidence text the model sees, so it is right by construction.
 *
 * - `text/next_sentence` (book, speech): the sentence right after (or before) a quoted one.
 * - `dialogue/slot_value` (dialogue): a slot value (a time, a phone number, a name) from SGD acts.
 * - `papers/table_cell` (paper): a table cell by row key and column, or a row key by a cell.
 * - `passages/nq_answer` (passage): an NQ-Open answer as spelled in its passage.
 * - `multi/quote_source` (book, speech; 4 documents): which "Document N" holds a quoted sentence.
 *
 * @module
 */
import type { Document } from "./types.ts";
import { type Generator, ofKind, perDoc, perGroup } from "./common.ts";
import { emDraft } from "./formats.ts";
import {
  collapse,
  docTurns,
  excerpt,
  excerptSentences,
  occurrences,
  pick,
  randInt,
  renderTurns,
  type Rng,
  turnWindow,
  wordCount,
} from "./text.ts";
import {
  contentSections,
  guessableValue,
  humanService,
  humanSlot,
  isUser,
  paperTables,
  renderTable,
  sgdFrames,
  speechInfo,
  uniqueKeyRows,
} from "./sources.ts";
import { docSections, saysVerbatim } from "./text.ts";

/** A passage label for an excerpt of a document (never `Passage from "…"`, the padding form). */
export function excerptLabel(doc: Document, sectionTitle?: string): string {
  const sp = doc.kind === "speech" ? speechInfo(doc) : null;
  if (sp) return `State of the Union address, ${sp.year}`;
  const t = collapse(doc.title || doc.id);
  const s = sectionTitle ? collapse(sectionTitle) : "";
  return s && s !== t ? `Excerpt of ${t}, ${s}` : `Excerpt of ${t}`;
}

/** A random excerpt of one section (paragraph-aligned), or null when the doc is too short. */
export function randomExcerpt(
  doc: Document,
  rng: Rng,
  maxChars: number,
  minChars = 1500,
): { text: string; section: string } | null {
  const secs = contentSections(doc).filter((s) => s.paras.join(" ").length >= minChars);
  const s = pick(rng, secs);
  if (!s) return null;
  const start = randInt(rng, Math.max(1, s.paras.length - 2));
  const text = excerpt(s.paras, start, maxChars);
  return text.length >= Math.min(minChars, maxChars / 2) ? { text, section: s.title } : null;
}

/** A sentence fit to quote: 6–50 words, occurring once in `context`. */
function quotable(s: string, context: string, minWords = 6): boolean {
  const n = wordCount(s);
  return n >= minWords && n <= 50 && occurrences(context, s) === 1;
}

const nextSentence: Generator = {
  name: "text/next_sentence",
  task: "precise_retrieval",
  kinds: ["book", "speech"],
  criteria: "a book or speech with a section of at least 1,500 characters of prose",
  docsPerDraft: 1,
  accepts: (d) =>
    ofKind(d, ["book", "speech"]) && docSections(d).some((s) => s.text.length >= 1500),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const ex = randomExcerpt(doc, rng, Math.min(o.maxEvidenceChars, 6000));
      if (!ex) return null;
      const ss = excerptSentences(ex.text);
      const cands: number[] = [];
      for (let i = 0; i + 1 < ss.length; i++) {
        if (quotable(ss[i], ex.text) && quotable(ss[i + 1], ex.text, 3)) cands.push(i);
      }
      if (cands.length === 0) return null;
      const i = cands[randInt(rng, cands.length)];
      const label = excerptLabel(doc, ex.section);
      const before = rng() < 0.3;
      const [quote, answer] = before ? [ss[i + 1], ss[i]] : [ss[i], ss[i + 1]];
      const rel = before ? "immediately precedes" : "immediately follows";
      const forms = [
        `In the ${
          label.startsWith("State") ? "address" : "excerpt"
        } headed "${label}", which sentence ${rel} the sentence "${quote}"?`,
        `What is the exact sentence that ${rel} "${quote}" in "${label}"?`,
        `Quote the sentence that ${rel} this one in "${label}": "${quote}"`,
      ];
      return emDraft({
        generator: this.name,
        question: forms[randInt(rng, forms.length)],
        evidence: [{ docId: doc.id, label, text: ex.text }],
        docs: [doc],
        meta: { section: ex.section, direction: before ? "previous" : "next" },
      }, answer);
    });
  },
};

const SKIP_SLOTS = new Set(["intent", "count"]);

const slotValue: Generator = {
  name: "dialogue/slot_value",
  task: "precise_retrieval",
  kinds: ["dialogue"],
  criteria: "a dialogue with SGD frames holding a slot whose only value is stated verbatim",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["dialogue"]) && sgdFrames(d).some((f) => f.length > 0),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const turns = docTurns(doc);
      const frames = sgdFrames(doc);
      const win = turnWindow(turns, 0, o.maxEvidenceChars);
      if (win.length < 2) return null;
      const text = renderTurns(win);
      // slot → distinct values across the window, and where each was first stated.
      const values = new Map<string, Set<string>>();
      const first = new Map<string, { value: string; service: string; user: boolean }>();
      for (const t of win) {
        for (const f of frames[t.index] ?? []) {
          for (const a of f.actions) {
            if (SKIP_SLOTS.has(a.slot) || a.values.length === 0) continue;
            const set = values.get(a.slot) ?? new Set();
            a.values.forEach((v) => set.add(v));
            values.set(a.slot, set);
            const v = a.values[0];
            if (!first.has(a.slot) && saysVerbatim(t.text, v)) {
              first.set(a.slot, { value: v, service: f.service, user: isUser(t.speaker) });
            }
          }
        }
      }
      const cands = [...first.entries()].filter(([slot, f]) =>
        values.get(slot)!.size === 1 && !guessableValue(f.value) &&
        f.value.length >= 2
      );
      const c = pick(rng, cands);
      if (!c) return null;
      const [slot, f] = c;
      const who = f.user ? "the user" : "the assistant";
      const forms = [
        `In this ${humanService(f.service)} conversation, what ${
          humanSlot(slot)
        } did ${who} mention?`,
        `What is the ${humanSlot(slot)} given by ${who} in the conversation about ${
          humanService(f.service)
        }?`,
        `According to the dialogue, which ${humanSlot(slot)} was stated by ${who}?`,
      ];
      return emDraft({
        generator: this.name,
        question: forms[randInt(rng, forms.length)],
        evidence: [{ docId: doc.id, label: `Conversation ${doc.id}`, text }],
        docs: [doc],
        meta: { service: f.service, slot },
      }, f.value);
    });
  },
};

const tableCell: Generator = {
  name: "papers/table_cell",
  task: "precise_retrieval",
  kinds: ["paper"],
  criteria: "a paper with a table of 2+ columns and 2+ rows with distinct headers",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["paper"]) && paperTables(d).length > 0,
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const t = pick(rng, paperTables(doc));
      if (!t) return null;
      const { text, kept } = renderTable(t, o.maxEvidenceChars);
      const rows = t.rows.slice(0, kept);
      const keyRows = uniqueKeyRows(rows);
      const r = pick(rng, keyRows);
      if (r === undefined) return null;
      const cols = t.header.map((_, c) => c).filter((c) =>
        c > 0 && rows[r][c] && rows[r][c] !== "-" && rows[r][c].length <= 80
      );
      const c = pick(rng, cols);
      if (c === undefined) return null;
      const key = rows[r][0];
      const cell = rows[r][c];
      const colUnique = rows.filter((x) => x[c] === cell).length === 1;
      const reverse = colUnique && rng() < 0.3;
      const forms = reverse
        ? [
          `In ${t.label} of the paper "${doc.title}", which ${t.header[0]} has ${
            t.header[c]
          } equal to "${cell}"?`,
          `Which entry of the column "${
            t.header[0]
          }" in ${t.label} has the value "${cell}" under "${t.header[c]}"?`,
        ]
        : [
          `In ${t.label} of the paper "${doc.title}", what is the value of "${t.header[c]}" for ${
            t.header[0]
          } "${key}"?`,
          `What does ${t.label} report under "${t.header[c]}" in the row "${key}"?`,
          `According to ${t.label}, what is the "${t.header[c]}" entry for "${key}"?`,
        ];
      return emDraft({
        generator: this.name,
        question: forms[randInt(rng, forms.length)],
        evidence: [{ docId: doc.id, label: `${t.label} of "${doc.title}"`.slice(0, 200), text }],
        docs: [doc],
        meta: { table: t.label, row: r, column: t.header[c], reverse },
      }, reverse ? key : cell);
    });
  },
};

function nqAnswer(doc: Document): { question: string; answer: string } | null {
  const q = doc.meta?.question;
  const answers = doc.meta?.answers;
  if (typeof q !== "string" || !q.trim() || !Array.isArray(answers)) return null;
  const text = collapse(doc.text ?? "");
  const lower = text.toLowerCase();
  for (const a of answers) {
    if (typeof a !== "string" || !a.trim()) continue;
    const la = collapse(a).toLowerCase();
    const re = new RegExp(
      `(?<![\\p{L}\\p{N}])${la.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\p{L}\\p{N}])`,
      "u",
    );
    const m = re.exec(lower);
    if (!m) continue;
    const surface = text.slice(m.index, m.index + la.length);
    if (surface.toLowerCase() !== la) continue; // length-changing case maps: skip
    const qq = collapse(q);
    return { question: /[?]$/.test(qq) ? qq : `${qq}?`, answer: surface };
  }
  return null;
}

const nq: Generator = {
  name: "passages/nq_answer",
  task: "precise_retrieval",
  kinds: ["passage"],
  criteria: "an NQ-Open passage containing one of its gold answers as a whole phrase",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["passage"]) && nqAnswer(d) !== null,
  make(docs, rng, opts) {
    return perDoc(
      docs,
      rng,
      { ...opts, perDoc: Math.min(1, opts?.perDoc ?? 1) },
      this.accepts,
      (doc, rng, o) => {
        const qa = nqAnswer(doc);
        if (!qa) return null;
        const text = collapse(doc.text).slice(0, o.maxEvidenceChars);
        if (!text.includes(qa.answer)) return null;
        const forms = [qa.question, `${qa.question} Answer with the phrase used in the passage.`];
        return emDraft({
          generator: this.name,
          question: forms[randInt(rng, forms.length)],
          evidence: [{ docId: doc.id, label: `Document: ${collapse(doc.title || doc.id)}`, text }],
          docs: [doc],
          meta: { nq_question: qa.question },
        }, qa.answer);
      },
    );
  },
};

const quoteSource: Generator = {
  name: "multi/quote_source",
  task: "precise_retrieval",
  kinds: ["book", "speech"],
  criteria: "4 books or speeches, each with a 1,000-character prose section",
  docsPerDraft: 4,
  accepts: (d) =>
    ofKind(d, ["book", "speech"]) && docSections(d).some((s) => s.text.length >= 1000),
  make(docs, rng, opts) {
    return perGroup(docs, rng, opts, this.accepts, 4, (group, rng, o) => {
      const per = Math.floor(o.maxEvidenceChars / 4);
      const exs = group.map((d) => randomExcerpt(d, rng, per, 800));
      if (exs.some((e) => !e)) return null;
      const all = exs.map((e) => e!.text).join("\n\n");
      const target = randInt(rng, 4);
      const cands = excerptSentences(exs[target]!.text).filter((s) => quotable(s, all, 8));
      const quote = pick(rng, cands);
      if (!quote) return null;
      const evidence = group.map((d, i) => ({
        docId: d.id,
        label: `Document ${i + 1}`,
        text: exs[i]!.text,
      }));
      const forms = [
        `Which document contains the sentence "${quote}"? Give its label: the word "Document" and its number.`,
        `The sentence "${quote}" appears in one of the numbered documents. Which one? Answer with its label: the word "Document" and its number.`,
      ];
      return emDraft({
        generator: this.name,
        question: forms[randInt(rng, forms.length)],
        evidence,
        docs: [group[target], ...group.filter((_, i) => i !== target)],
        meta: { target: target + 1 },
      }, `Document ${target + 1}`);
    });
  },
};

/** The precise-retrieval generators. */
export const PRECISE_RETRIEVAL: Generator[] = [nextSentence, slotValue, tableCell, nq, quoteSource];
