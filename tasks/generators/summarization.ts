/**
 * Summarization (LongBench-Pro Summary, ROUGE-L against real human references).
 *
 * - `meetings/query_summary` (meeting; T4.2 Query-Focused Summary): a QMSum query over the turns
 *   its annotators marked relevant, with their gold answer as the reference. Queries without
 *   spans are used only when the whole meeting fits the evidence budget.
 * - `papers/abstract_summary` (paper; T4.1 Global-Coverage Constrained Summary): the paper body
 *   (the opening paragraphs of each content section, within the budget; the abstract itself is
 *   left out) with the author abstract as the reference.
 *
 * @module
 */
import type { Passage } from "./types.ts";
import { type Generator, ofKind, perDoc } from "./common.ts";
import { summaryDraft } from "./formats.ts";
import { docTurns, randInt, renderTurns, shuffle, wordCount } from "./text.ts";
import { contentSections, meetingQueries, paperAbstract } from "./sources.ts";

const querySummary: Generator = {
  name: "meetings/query_summary",
  task: "summarization",
  kinds: ["meeting"],
  criteria: "a QMSum meeting with a query whose relevant turns fit the evidence budget",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["meeting"]) && meetingQueries(d).length > 0 && docTurns(d).length > 0,
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const turns = docTurns(doc);
      const byIndex = new Map(turns.map((t) => [t.index, t]));
      const qs = shuffle(rng, meetingQueries(doc));
      for (const q of qs) {
        const passages: Passage[] = [];
        if (q.spans.length > 0) {
          const spans = q.spans.slice().sort((a, b) => a[0] - b[0]);
          for (const [a, b] of spans) {
            const seg = [];
            for (let i = a; i <= b; i++) if (byIndex.has(i)) seg.push(byIndex.get(i)!);
            if (seg.length > 0) {
              passages.push({
                docId: doc.id,
                label: `Meeting transcript: ${doc.title}, turns ${a}–${b}`.slice(0, 200),
                text: renderTurns(seg),
              });
            }
          }
        } else {
          passages.push({
            docId: doc.id,
            label: `Meeting transcript: ${doc.title}`.slice(0, 200),
            text: renderTurns(turns),
          });
        }
        const len = passages.reduce((a, p) => a + p.text.length, 0);
        if (passages.length === 0 || len > o.maxEvidenceChars || len < 200) continue;
        const forms = [q.query, `Based on the meeting transcript: ${q.query}`];
        return summaryDraft(
          {
            generator: this.name,
            question: forms[randInt(rng, forms.length)],
            evidence: passages,
            docs: [doc],
            meta: { query: q.query, general: q.general, reference_words: wordCount(q.answer) },
          },
          "T4.2 Query-Focused Summary",
          [q.answer],
        );
      }
      return null;
    });
  },
};

const abstractSummary: Generator = {
  name: "papers/abstract_summary",
  task: "summarization",
  kinds: ["paper"],
  criteria: "a paper with an abstract of 40+ words and 3+ content sections",
  docsPerDraft: 1,
  accepts: (d) => {
    const a = ofKind(d, ["paper"]) ? paperAbstract(d) : undefined;
    return !!a && wordCount(a) >= 40 && contentSections(d).length >= 3;
  },
  make(docs, rng, opts) {
    // One reference per paper: a second draft would repeat it, so perDoc is capped at 1.
    return perDoc(
      docs,
      rng,
      { ...opts, perDoc: Math.min(1, opts?.perDoc ?? 1) },
      this.accepts,
      (doc, rng, o) => {
        const abs = paperAbstract(doc);
        if (!abs) return null;
        const secs = contentSections(doc);
        const per = Math.floor(o.maxEvidenceChars / secs.length);
        const passages: Passage[] = [];
        let total = 0;
        for (const s of secs) {
          let text = "";
          for (const p of s.paras) {
            if (text && text.length + p.length + 2 > Math.max(per, 600)) break;
            text = text ? `${text}\n\n${p}` : p;
          }
          if (text.length > Math.max(per, 600)) {
            text = text.slice(0, Math.max(per, 600)).replace(
              /\s\S*$/,
              " …",
            );
          }
          if (total + text.length > o.maxEvidenceChars) break;
          total += text.length;
          passages.push({ docId: doc.id, label: `${doc.title}: ${s.title}`.slice(0, 200), text });
        }
        if (passages.length < 2) return null;
        const forms = [
          `Write an abstract for the paper "${doc.title}", covering its objective, methods, main results and conclusion.`,
          `Summarize the paper "${doc.title}" as its abstract would: aim, approach, key findings and conclusions.`,
        ];
        return summaryDraft(
          {
            generator: this.name,
            question: forms[randInt(rng, forms.length)],
            evidence: passages,
            docs: [doc],
            meta: { sections: passages.length, reference_words: wordCount(abs) },
          },
          "T4.1 Global-Coverage Constrained Summary",
          [abs],
        );
      },
    );
  },
};

/** The summarization generators. */
export const SUMMARIZATION: Generator[] = [querySummary, abstractSummary];
