/**
 * Graded ranking (LongBench-Pro NDCG): rank labelled items by a graded relevance that is known by
 * construction — a keyword's frequency, or a speaker's share of turns — with the tie-break stated
 * in the question, so the gold order is unique.
 *
 * - `excerpts/keyword_rank` (book, paper, speech; T1.2 Key-Snippet Retrieval): rank the excerpts
 *   by how often a keyword occurs, ties by excerpt number.
 * - `meetings/speaker_rank` (meeting; T1.1 Global Cohesive Retrieval): rank the speakers by
 *   number of turns, ties alphabetically.
 *
 * @module
 */
import type { Document } from "./types.ts";
import { type Generator, ofKind, perDoc } from "./common.ts";
import { listDraft } from "./formats.ts";
import {
  contentWords,
  docTurns,
  keywordChecker,
  meetingWith,
  pick,
  randInt,
  randomTurnWindow,
  renderTurns,
  sentencePieces,
  wordCount,
  wordCounts,
} from "./text.ts";
import { contentSections, spreadExcerpts } from "./sources.ts";
import { randomExcerpt } from "./precise_retrieval.ts";

/** Indices sorted by score descending, ties by index ascending. */
export function rankByScore(scores: number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
}

function paraCount(d: Document): number {
  return contentSections(d).reduce((a, s) => a + s.paras.length, 0);
}

const keywordRank: Generator = {
  name: "excerpts/keyword_rank",
  task: "graded_ranking",
  kinds: ["book", "paper", "speech"],
  criteria: "a book, paper or speech with 10+ prose paragraphs",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["book", "paper", "speech"]) && paraCount(d) >= 10,
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const n = 3 + randInt(rng, 3);
      const per = Math.floor(o.maxEvidenceChars / n);
      const exs = spreadExcerpts(doc, rng, n, per, Math.min(300, Math.floor(per * 0.6))) ??
        sentencePieces(randomExcerpt(doc, rng, o.maxEvidenceChars, 300)?.text ?? "", n);
      if (!exs) return null;
      const texts = exs.map((e) => e.text);
      const all = texts.join("\n\n");
      const clean = keywordChecker(all);
      const maps = texts.map(wordCounts);
      const cands = contentWords(all).filter((w) => w !== "excerpt" && clean(w)).map((w) => {
        const counts = maps.map((m) => m.get(w) ?? 0);
        return { w, counts, distinct: new Set(counts).size };
        // Every excerpt has the word and no two counts tie: the graded order is read, not
        // defaulted to excerpt numbers (ties and zeros let label order score NDCG 0.87).
      }).filter((c) => c.distinct === n && Math.min(...c.counts) > 0);
      const c = pick(rng, cands);
      if (!c) {
        // Short excerpts rarely repeat a word at n distinct rates: rank by length instead, with
        // lengths at least 3 words apart so a miscount of one word cannot flip two excerpts.
        const lens = texts.map(wordCount);
        const sorted = [...lens].sort((x, y) => x - y);
        if (sorted.some((v, i) => i > 0 && v - sorted[i - 1] < 3)) return null;
        return listDraft(
          {
            generator: this.name,
            question:
              `Rank all ${n} excerpts by their length in words, the longest first; include every excerpt.`,
            evidence: exs.map((e, i) => ({
              docId: doc.id,
              label: `Excerpt ${i + 1}`,
              text: e.text,
            })),
            docs: [doc],
            meta: { form: "length", counts: lens },
          },
          "T1.2 Key-Snippet Retrieval",
          rankByScore(lens).map((i) => `Excerpt ${i + 1}`),
          "all excerpt labels in ranked order",
        );
      }
      const order = rankByScore(c.counts);
      const forms = [
        `Rank all ${n} excerpts by how many times the word "${c.w}" occurs in them (whole word, any capitalisation), most occurrences first.`,
        `Order the excerpts from most to fewest occurrences of the word "${c.w}" (whole word, case-insensitive); include every excerpt.`,
      ];
      return listDraft(
        {
          generator: this.name,
          question: forms[randInt(rng, forms.length)],
          evidence: exs.map((e, i) => ({ docId: doc.id, label: `Excerpt ${i + 1}`, text: e.text })),
          docs: [doc],
          meta: { keyword: c.w, counts: c.counts },
        },
        "T1.2 Key-Snippet Retrieval",
        order.map((i) => `Excerpt ${i + 1}`),
        "all excerpt labels in ranked order",
      );
    });
  },
};

const speakerRank: Generator = {
  name: "meetings/speaker_rank",
  task: "graded_ranking",
  kinds: ["meeting"],
  criteria: "a meeting transcript with 20+ turns and 3+ speakers",
  docsPerDraft: 1,
  accepts: (d) => meetingWith(d, 20, 3),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const turns = docTurns(doc);
      const win = randomTurnWindow(turns, rng, Math.min(o.maxEvidenceChars, 8000));
      const counts = new Map<string, number>();
      for (const t of win) counts.set(t.speaker, (counts.get(t.speaker) ?? 0) + 1);
      const speakers = [...counts.keys()];
      if (speakers.length < 3) return null;
      // No ties: a tie broken alphabetically could be ranked without counting.
      if (new Set(counts.values()).size !== speakers.length) return null;
      const key = (s: string) => s.toLowerCase();
      const order = speakers.slice().sort((a, b) =>
        counts.get(b)! - counts.get(a)! || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)
      );
      return listDraft(
        {
          generator: this.name,
          question: [
            "Rank every speaker of this meeting excerpt by the number of turns (lines) they take, " +
            "most first; break ties alphabetically by name.",
            "Who dominates this part of the meeting? Order all speakers from the most to the fewest " +
            "turns (lines); speakers with equal counts go in alphabetical order of their names.",
          ][randInt(rng, 2)],
          evidence: [{
            docId: doc.id,
            label: "Meeting transcript (one turn per line)",
            text: renderTurns(win),
          }],
          docs: [doc],
          meta: { counts: Object.fromEntries(counts) },
        },
        "T1.1 Global Cohesive Retrieval",
        order,
        "all speaker names in ranked order",
      );
    });
  },
};

/** The graded-ranking generators. */
export const GRADED_RANKING: Generator[] = [keywordRank, speakerRank];
