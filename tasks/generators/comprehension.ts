/**
 * Comprehension (4-way multiple choice, "The correct answer is (X)"). Distractors are real items
 * of the same document(s) — other chapters, other speakers, other presidents — so only reading
 * the right passage separates them.
 *
 * - `sections/which_section` (book, paper): which chapter/section holds a quoted sentence.
 * - `meetings/who_said` (meeting): who said a quoted remark, or who first used a word.
 * - `speeches/which_president` (speech; 4 documents): which president (or year) gave the address
 *   containing a quoted sentence.
 *
 * @module
 */
import type { Document } from "./types.ts";
import { type Generator, ofKind, perDoc, perGroup } from "./common.ts";
import { selectionDraft } from "./formats.ts";
import {
  contentWords,
  countWord,
  countWordExact,
  docTurns,
  excerpt,
  excerptSentences,
  meetingWith,
  names,
  occurrences,
  pick,
  randInt,
  randomTurnWindow,
  renderTurns,
  sample,
  shuffle,
  sortedIndices,
  wordCount,
} from "./text.ts";
import { contentSections, speechInfo } from "./sources.ts";
import { randomExcerpt } from "./precise_retrieval.ts";

/** Place `correct` among `others` at a random position; returns options and the index. */
function arrange(
  rng: () => number,
  correct: string,
  others: string[],
): { options: string[]; index: number } {
  const options = shuffle(rng, [correct, ...others.slice(0, 3)]);
  return { options, index: options.indexOf(correct) };
}

function sectionsOk(d: Document): boolean {
  const secs = contentSections(d).filter((s) => s.paras.join(" ").length >= 800);
  return new Set(secs.map((s) => s.title.toLowerCase())).size >= 4;
}

const whichSection: Generator = {
  name: "sections/which_section",
  task: "comprehension",
  kinds: ["book", "paper"],
  criteria: "a book or paper with 4+ distinctly titled content sections of 800+ characters",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["book", "paper"]) && sectionsOk(d),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const seen = new Set<string>();
      const secs = contentSections(doc).filter((s) => {
        const k = s.title.toLowerCase();
        if (s.paras.join(" ").length < 800 || !s.title || seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      if (secs.length < 4) return null;
      const chosen = sortedIndices(rng, secs.length, 4).map((i) => secs[i]);
      const per = Math.floor(o.maxEvidenceChars / 4);
      const texts = chosen.map((s) =>
        excerpt(s.paras, randInt(rng, Math.max(1, s.paras.length - 1)), per)
      );
      const all = texts.join("\n\n");
      const target = randInt(rng, 4);
      const quote = pick(
        rng,
        excerptSentences(texts[target]).filter((s) => {
          const n = wordCount(s);
          return n >= 8 && n <= 45 && occurrences(all, s) === 1;
        }),
      );
      if (!quote) return null;
      const unit = doc.kind === "book" ? "chapter" : "section";
      const { options, index } = arrange(
        rng,
        chosen[target].title,
        chosen.filter((_, i) => i !== target).map((s) => s.title),
      );
      const forms = [
        `Which ${unit} of "${doc.title}" contains the sentence "${quote}"?`,
        `In which ${unit} does the following sentence appear: "${quote}"?`,
        `The sentence "${quote}" is taken from one of the excerpts. Which ${unit} is it from?`,
      ];
      return selectionDraft(
        {
          generator: this.name,
          question: forms[randInt(rng, forms.length)],
          evidence: chosen.map((s, i) => ({
            docId: doc.id,
            label: `${doc.title}: ${s.title}`.slice(0, 200),
            text: texts[i],
          })),
          docs: [doc],
          meta: { section: chosen[target].title },
        },
        options,
        index,
      );
    });
  },
};

const whoSaid: Generator = {
  name: "meetings/who_said",
  task: "comprehension",
  kinds: ["meeting"],
  criteria: "a meeting transcript with 20+ turns and 4+ speakers",
  docsPerDraft: 1,
  accepts: (d) => meetingWith(d, 20, 4),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const turns = docTurns(doc);
      const win = randomTurnWindow(turns, rng, o.maxEvidenceChars);
      const speakers = [...new Set(win.map((t) => t.speaker))];
      if (speakers.length < 4) return null;
      const text = renderTurns(win);
      const evidence = [{
        docId: doc.id,
        // QMSum titles list the meeting's topics and roles: never in a label.
        label: "Meeting transcript",
        text,
      }];
      if (rng() < 0.65) {
        const cands = win.filter((t) =>
          wordCount(t.text) >= 10 && wordCount(t.text) <= 60 &&
          occurrences(text, t.text) === 1
        );
        const t = pick(rng, cands);
        if (!t) return null;
        const { options, index } = arrange(
          rng,
          t.speaker,
          sample(rng, speakers.filter((s) => s !== t.speaker), 3),
        );
        const forms = [
          `In the meeting, who said: "${t.text}"?`,
          `Which participant made the following remark: "${t.text}"?`,
        ];
        return selectionDraft(
          {
            generator: this.name,
            question: forms[randInt(rng, forms.length)],
            evidence,
            docs: [doc],
            meta: { form: "quote", turn: t.index },
          },
          options,
          index,
        );
      }
      // Who first used a word that at least two speakers use.
      const words = contentWords(text).filter((w) => {
        const users = new Set(win.filter((t) => countWord(t.text, w) > 0).map((t) => t.speaker));
        return users.size >= 2;
      });
      const w = pick(rng, words);
      if (!w) return null;
      const firstTurn = win.find((t) => countWord(t.text, w) > 0)!;
      const { options, index } = arrange(
        rng,
        firstTurn.speaker,
        sample(rng, speakers.filter((s) => s !== firstTurn.speaker), 3),
      );
      return selectionDraft(
        {
          generator: this.name,
          question: `In this meeting excerpt, which speaker is the first to use the word "${w}"?`,
          evidence,
          docs: [doc],
          meta: { form: "first_use", word: w },
        },
        options,
        index,
      );
    });
  },
};

const whichPresident: Generator = {
  name: "speeches/which_president",
  task: "comprehension",
  kinds: ["speech"],
  criteria: "4 State of the Union speeches with year and president, by 4 different presidents",
  docsPerDraft: 4,
  accepts: (d) => ofKind(d, ["speech"]) && speechInfo(d) !== null && d.text.length >= 1000,
  make(docs, rng, opts) {
    return perGroup(docs, rng, opts, this.accepts, 4, (group, rng, o) => {
      const info = group.map((d) => speechInfo(d)!);
      if (new Set(info.map((i) => i.president)).size < 4) return null;
      if (new Set(info.map((i) => i.year)).size < 4) return null;
      const exs = group.map((d) => randomExcerpt(d, rng, Math.floor(o.maxEvidenceChars / 4), 800));
      if (exs.some((e) => !e)) return null;
      const all = exs.map((e) => e!.text).join("\n\n");
      const target = randInt(rng, 4);
      const quote = pick(
        rng,
        excerptSentences(exs[target]!.text).filter((s) =>
          wordCount(s) >= 8 && wordCount(s) <= 45 && occurrences(all, s) === 1
        ),
      );
      if (!quote) return null;
      const byYear = rng() < 0.35;
      const opts4 = byYear ? info.map((i) => i.year) : info.map((i) => i.president);
      const { options, index } = arrange(rng, opts4[target], opts4.filter((_, i) => i !== target));
      const question = byYear
        ? `In which year was the State of the Union address containing the sentence "${quote}" delivered?`
        : `Which president delivered the State of the Union address containing the sentence "${quote}"?`;
      return selectionDraft(
        {
          generator: this.name,
          question,
          evidence: group.map((d, i) => ({
            docId: d.id,
            label: `State of the Union address by ${info[i].president}, ${info[i].year}`,
            text: exs[i]!.text,
          })),
          docs: [group[target], ...group.filter((_, i) => i !== target)],
          meta: { form: byYear ? "year" : "president" },
        },
        options,
        index,
      );
    });
  },
};

/**
 * `passages/entity_cloze`: a sentence of the passage with one name blanked; the options are four
 * names of the same document, those of the passage first, so only finding and reading the
 * sentence in context tells them apart. Works on one short passage, so it fits 512-token buckets.
 */
const entityCloze: Generator = {
  name: "passages/entity_cloze",
  task: "comprehension",
  kinds: ["book", "speech", "paper"],
  criteria: "a book, speech or paper with a section of 600+ characters naming 4+ people or places",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["book", "speech", "paper"]) && d.text.length >= 2000,
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const ex = randomExcerpt(doc, rng, Math.min(o.maxEvidenceChars, 4000), 600);
      if (!ex) return null;
      // Names of the passage, then of a wider stretch of the same document (the distractors).
      const wide = randomExcerpt(doc, rng, 20_000, 600)?.text ?? "";
      const inPassage = names(ex.text);
      const pool = [...new Set([...inPassage, ...names(`${ex.text}\n\n${wide}`)])];
      if (pool.length < 4) return null;
      const cands = excerptSentences(ex.text).flatMap((sent) => {
        const n = wordCount(sent);
        if (n < 8 || n > 45 || occurrences(ex.text, sent) !== 1) return [];
        const here = pool.filter((p) => countWordExact(sent, p) > 0);
        // Exactly one pool name in the sentence, once: the blank has one filler among the options.
        return here.length === 1 && countWordExact(sent, here[0]) === 1
          ? [{ sent, name: here[0] }]
          : [];
      });
      const c = pick(rng, cands);
      if (!c) return null;
      const others = pool.filter((p) => p !== c.name);
      const near = others.filter((p) => inPassage.includes(p));
      const far = others.filter((p) => !inPassage.includes(p));
      const distractors = [...sample(rng, near, 3), ...sample(rng, far, 3)].slice(0, 3);
      if (distractors.length < 3) return null;
      const blanked = c.sent.replace(
        new RegExp(`(?<![\\p{L}\\p{N}])${c.name}(?![\\p{L}\\p{N}])`, "u"),
        "____",
      );
      const { options, index } = arrange(rng, c.name, distractors);
      const forms = [
        `Which name fills the blank in this sentence of the passage: "${blanked}"?`,
        `In the passage, one name has been replaced by "____" in the sentence "${blanked}". Which name is it?`,
      ];
      return selectionDraft(
        {
          generator: this.name,
          question: forms[randInt(rng, forms.length)],
          evidence: [{ docId: doc.id, label: "Passage", text: ex.text }],
          docs: [doc],
          meta: { name: c.name },
        },
        options,
        index,
      );
    });
  },
};

/** The comprehension generators. */
// `speeches/which_president` and `sections/which_section` labelled each passage with its answer
// (president and year, chapter title), so the answer was the label of the passage holding the
// quote; they stay exported, unregistered.
export const COMPREHENSION: Generator[] = [whoSaid, entityCloze];
export const RETIRED_COMPREHENSION: Generator[] = [whichSection, whichPresident];
