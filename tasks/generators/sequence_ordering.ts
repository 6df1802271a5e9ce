/**
 * Sequence ordering (LongBench-Pro Pairwise_Accuracy): shuffled, labelled pieces to put back in
 * their true order, which is known because we cut them from the source in order.
 *
 * - `books/excerpt_order` (book, paper; T2.1 Global Timeline Reconstruction): excerpts spread over
 *   the whole text, shown shuffled; restore the order of the text.
 * - `speeches/chronology` (speech; 5 documents; T2.1): addresses with their dates stated in the
 *   passage; order them by date (oldest or newest first).
 * - `meetings/segment_order` (meeting, dialogue; T2.2 Local Causal Chain Sorting): consecutive
 *   segments of one conversation, shuffled; restore the order.
 *
 * @module
 */
import type { Document, Passage } from "./types.ts";
import { type Generator, ofKind, perDoc, perGroup } from "./common.ts";
import { listDraft } from "./formats.ts";
import {
  docTurns,
  randInt,
  randomTurnWindow,
  renderTurns,
  sentencePieces,
  shuffle,
} from "./text.ts";
import { contentSections, speechInfo, spreadExcerpts } from "./sources.ts";
import { randomExcerpt } from "./precise_retrieval.ts";

/**
 * Show `pieces` (in true order) under shuffled labels `${prefix} 1..n`: returns the passages in
 * label order and the labels in true order. The shuffle is redrawn until it is not the identity.
 */
export function shuffledPieces(
  rng: () => number,
  prefix: string,
  pieces: { docId: string; text: string }[],
): { evidence: Passage[]; gold: string[] } {
  const n = pieces.length;
  let perm = shuffle(rng, [...Array(n).keys()]);
  for (let k = 0; k < 5 && perm.every((p, i) => p === i); k++) perm = shuffle(rng, perm);
  // perm[labelIndex] = true position of the piece shown under that label.
  const evidence = perm.map((pos, li) => ({
    docId: pieces[pos].docId,
    label: `${prefix} ${li + 1}`,
    text: pieces[pos].text,
  }));
  const gold = [...Array(n).keys()].map((pos) => `${prefix} ${perm.indexOf(pos) + 1}`);
  return { evidence, gold };
}

function paraCount(d: Document): number {
  return contentSections(d).reduce((a, s) => a + s.paras.length, 0);
}

const excerptOrder: Generator = {
  name: "books/excerpt_order",
  task: "sequence_ordering",
  kinds: ["book", "paper"],
  criteria: "a book or paper with 10+ prose paragraphs",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["book", "paper"]) && paraCount(d) >= 10,
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const n = 4 + randInt(rng, 3);
      const per = Math.floor(o.maxEvidenceChars / n);
      // Too little room for n spread excerpts (short buckets): consecutive sentences of a passage.
      const exs = spreadExcerpts(doc, rng, n, per, Math.min(300, Math.floor(per * 0.6))) ??
        sentencePieces(randomExcerpt(doc, rng, o.maxEvidenceChars, 300)?.text ?? "", n);
      if (!exs) return null;
      const { evidence, gold } = shuffledPieces(
        rng,
        "Fragment",
        exs.map((e) => ({ docId: doc.id, text: e.text })),
      );
      const unit = doc.kind === "book" ? "book" : "paper";
      const forms = [
        `The fragments below come from "${doc.title}" but are shuffled. List them in the order in which they appear in the ${unit}.`,
        `Put the ${n} fragments of "${doc.title}" back into their original order, first to last.`,
      ];
      return listDraft(
        {
          generator: this.name,
          question: forms[randInt(rng, forms.length)],
          evidence,
          docs: [doc],
          meta: { positions: exs.map((e, i) => "para" in e ? e.para : i) },
        },
        "T2.1 Global Timeline Reconstruction",
        gold,
        "all fragment labels in order",
      );
    });
  },
};

const chronology: Generator = {
  name: "speeches/chronology",
  task: "sequence_ordering",
  kinds: ["speech"],
  criteria: "5 State of the Union speeches with distinct years",
  docsPerDraft: 5,
  accepts: (d) => ofKind(d, ["speech"]) && speechInfo(d) !== null && d.text.length >= 1000,
  make(docs, rng, opts) {
    return perGroup(docs, rng, opts, this.accepts, 5, (group, rng, o) => {
      const info = group.map((d) => speechInfo(d)!);
      if (new Set(info.map((i) => i.year)).size < 5) return null;
      const newestFirst = rng() < 0.3;
      const order = info.map((_, i) => i).sort((a, b) =>
        (Number(info[a].year) - Number(info[b].year)) * (newestFirst ? -1 : 1)
      );
      const exs = order.map((i) =>
        randomExcerpt(group[i], rng, Math.floor(o.maxEvidenceChars / 5) - 60, 400)
      );
      if (exs.some((e) => !e)) return null;
      const pieces = order.map((i, k) => ({
        docId: group[i].id,
        text: `(Delivered by ${info[i].president} in ${info[i].year}.)\n\n${exs[k]!.text}`,
      }));
      const { evidence, gold } = shuffledPieces(rng, "Address", pieces);
      return listDraft(
        {
          generator: this.name,
          question: [
            `Order the State of the Union addresses given here chronologically, ${
              newestFirst ? "most recent" : "earliest"
            } first.`,
            `Arrange the numbered addresses by the year they were delivered, ${
              newestFirst
                ? "from the most recent to the earliest"
                : "from the earliest to the most recent"
            }.`,
          ][randInt(rng, 2)],
          evidence,
          docs: order.map((i) => group[i]),
          meta: { newestFirst },
        },
        "T2.1 Global Timeline Reconstruction",
        gold,
        "all address labels in order",
      );
    });
  },
};

const segmentOrder: Generator = {
  name: "meetings/segment_order",
  task: "sequence_ordering",
  kinds: ["meeting", "dialogue"],
  criteria: "a meeting or dialogue with 12+ turns",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["meeting", "dialogue"]) && docTurns(d).length >= 12,
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const turns = docTurns(doc);
      const win = randomTurnWindow(turns, rng, o.maxEvidenceChars, 40);
      const n = 4 + randInt(rng, 2);
      if (win.length < 3 * n) return null;
      const pieces: { docId: string; text: string }[] = [];
      for (let k = 0; k < n; k++) {
        const seg = win.slice(
          Math.floor((k * win.length) / n),
          Math.floor(((k + 1) * win.length) / n),
        );
        pieces.push({ docId: doc.id, text: renderTurns(seg) });
      }
      if (new Set(pieces.map((p) => p.text)).size < n) return null;
      const { evidence, gold } = shuffledPieces(rng, "Segment", pieces);
      const what = doc.kind === "meeting" ? "meeting" : "conversation";
      return listDraft(
        {
          generator: this.name,
          question:
            `The ${what} below has been cut into ${n} consecutive segments, which are shown shuffled. ` +
            "List the segments in the order in which they were spoken.",
          evidence,
          docs: [doc],
          meta: { turns: win.length },
        },
        "T2.2 Local Causal Chain Sorting",
        gold,
        "all segment labels in order",
      );
    });
  },
};

/** The sequence-ordering generators. */
// `speeches/chronology` stated each address's year in its passage, so sorting needed no reading;
// without the year it needs outside knowledge. It stays exported for reference, unregistered.
export const SEQUENCE_ORDERING: Generator[] = [excerptOrder, segmentOrder];
export const RETIRED_SEQUENCE_ORDERING: Generator[] = [chronology];
