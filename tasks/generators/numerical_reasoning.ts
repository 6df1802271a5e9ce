/**
 * Numerical reasoning (math_verify, `\boxed{}`): counts and arithmetic over facts stated in the
 * context, computed exactly (decimal arithmetic on the cell strings, never floats).
 *
 * - `speeches/arithmetic` (speech; 5 documents): addresses by a party, the span of years, years
 *   between two addresses, occurrences of a word in one address, addresses using a word.
 * - `papers/table_arithmetic` (paper): sum or difference of two cells, a column total, max − min,
 *   rows above a threshold.
 * - `meetings/turn_count` (meeting, dialogue): turns by a speaker, or the difference between two.
 *
 * @module
 */
import { type Generator, ofKind, perDoc, perGroup } from "./common.ts";
import { mathDraft } from "./formats.ts";
import {
  contentWords,
  countWord,
  DECIMAL,
  decimalCompare,
  decimalSum,
  docTurns,
  keywordChecker,
  pick,
  randInt,
  randomTurnWindow,
  renderTurns,
  sample,
} from "./text.ts";
import {
  contentSections,
  paperTables,
  renderTable,
  speechInfo,
  spreadExcerpts,
  uniqueKeyRows,
} from "./sources.ts";
import { randomExcerpt } from "./precise_retrieval.ts";

const speechArithmetic: Generator = {
  name: "speeches/arithmetic",
  task: "numerical_reasoning",
  kinds: ["speech"],
  criteria: "5 State of the Union speeches with distinct years and known presidents",
  docsPerDraft: 5,
  accepts: (d) => ofKind(d, ["speech"]) && speechInfo(d) !== null && d.text.length >= 1000,
  make(docs, rng, opts) {
    const seen = new Map<number, number>();
    return perGroup(docs, rng, opts, this.accepts, 5, (group, rng, o) => {
      const info = group.map((d) => speechInfo(d)!);
      if (new Set(info.map((i) => i.year)).size < 5) return null;
      const exs = group.map((d) => randomExcerpt(d, rng, Math.floor(o.maxEvidenceChars / 5), 600));
      if (exs.some((e) => !e)) return null;
      const texts = exs.map((e) => e!.text);
      const all = texts.join("\n\n");
      const clean = keywordChecker(all);
      // One form: a word's count in one excerpt. Party counts and year spans read only the labels,
      // and "in how many excerpts" was 2 on most drafts.
      const t = randInt(rng, 5);
      const ws = contentWords(texts[t]).filter((w) => {
        const n = countWord(texts[t], w);
        return n >= 2 && n <= 12 && clean(w) && !/^(state|union|address)$/.test(w);
      });
      // A count used least so far, then a word with that count.
      const counts = [...new Set(ws.map((w) => countWord(texts[t], w)))];
      const least = Math.min(...counts.map((n) => seen.get(n) ?? 0));
      const n = pick(rng, counts.filter((x) => (seen.get(x) ?? 0) === least));
      const w = pick(rng, ws.filter((x) => countWord(texts[t], x) === n));
      // Short excerpts may offer only small counts: none above about a quarter of the drafts.
      const made = [...seen.values()].reduce((a, b) => a + b, 0);
      if (!w || n === undefined || (seen.get(n) ?? 0) > 1 + made / 4) return null;
      seen.set(n, (seen.get(n) ?? 0) + 1);
      const question =
        `How many times does the word "${w}" (whole word, any capitalisation) occur in the excerpt of the ${
          info[t].year
        } address?`;
      const value = String(n);
      return mathDraft({
        generator: this.name,
        question,
        evidence: group.map((d, i) => ({
          docId: d.id,
          label: `State of the Union address, ${info[i].year}`,
          text: texts[i],
        })),
        docs: group,
        meta: { form: "word_count", word: w },
      }, value);
    });
  },
};

const tableArithmetic: Generator = {
  name: "papers/table_arithmetic",
  task: "numerical_reasoning",
  kinds: ["paper"],
  criteria: "a paper with a table holding a column of 3+ plain decimal numbers",
  docsPerDraft: 1,
  accepts: (d) =>
    ofKind(d, ["paper"]) &&
    paperTables(d).some((t) =>
      t.header.some((_, c) => c > 0 && t.rows.filter((r) => DECIMAL.test(r[c])).length >= 3)
    ),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const t = pick(rng, paperTables(doc));
      if (!t) return null;
      const { text, kept } = renderTable(t, o.maxEvidenceChars);
      const rows = t.rows.slice(0, kept);
      const keys = uniqueKeyRows(rows);
      const numCols = t.header.map((_, c) => c).filter((c) =>
        c > 0 && keys.filter((r) => DECIMAL.test(rows[r][c])).length >= 3
      );
      const c = pick(rng, numCols);
      if (c === undefined) return null;
      const numRows = keys.filter((r) => DECIMAL.test(rows[r][c]));
      const col = t.header[c];
      const key = t.header[0];
      const form = randInt(rng, 5);
      let question = "";
      let value = "";
      if (form === 0 || form === 1) {
        const [a, b] = sample(rng, numRows, 2);
        const sum = form === 0;
        value = decimalSum([{ value: rows[a][c], sign: 1 }, {
          value: rows[b][c],
          sign: sum ? 1 : -1,
        }]);
        question = sum
          ? `In ${t.label}, what is the sum of the "${col}" values for ${key} "${
            rows[a][0]
          }" and "${rows[b][0]}"?`
          : `In ${t.label}, what is the "${col}" value for ${key} "${rows[a][0]}" minus that for "${
            rows[b][0]
          }"?`;
      } else if (form === 2) {
        const all = rows.every((r) => DECIMAL.test(r[c]));
        if (!all || rows.length > 12) return null;
        value = decimalSum(rows.map((r) => ({ value: r[c], sign: 1 as const })));
        question = `What is the total of the "${col}" column over all rows of ${t.label}?`;
      } else if (form === 3) {
        const vals = numRows.map((r) => rows[r][c]).sort(decimalCompare);
        value = decimalSum([{ value: vals[vals.length - 1], sign: 1 }, {
          value: vals[0],
          sign: -1,
        }]);
        question =
          `In ${t.label}, what is the largest "${col}" value minus the smallest, over the rows with a plain number in that column?`;
      } else {
        const vals = numRows.map((r) => rows[r][c]).sort(decimalCompare);
        const th = vals[1 + randInt(rng, Math.max(1, vals.length - 2))];
        value = String(numRows.filter((r) => decimalCompare(rows[r][c], th) > 0).length);
        question = `How many rows of ${t.label} have a "${col}" value strictly greater than ${th}?`;
      }
      return mathDraft({
        generator: this.name,
        question,
        evidence: [{ docId: doc.id, label: `${t.label} of "${doc.title}"`.slice(0, 200), text }],
        docs: [doc],
        meta: { table: t.label, column: col, form },
      }, value);
    });
  },
};

const turnCount: Generator = {
  name: "meetings/turn_count",
  task: "numerical_reasoning",
  // Not dialogues: SGD turns strictly alternate USER/SYSTEM, so every count is half the lines
  // and every difference 0 or 1.
  kinds: ["meeting"],
  criteria: "a meeting with 8+ turns and 3+ speakers",
  docsPerDraft: 1,
  accepts: (d) => {
    const ts = docTurns(d);
    return ofKind(d, ["meeting"]) && ts.length >= 8 &&
      new Set(ts.map((t) => t.speaker)).size >= 3;
  },
  make(docs, rng, opts) {
    // Counts of a short window cluster on small numbers: ask for the least used value so far.
    const seen = new Map<number, number>();
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const turns = docTurns(doc);
      const cap = Math.min(o.maxEvidenceChars, 6000);
      const win = randomTurnWindow(turns, rng, cap, 20);
      const counts = new Map<string, number>();
      for (const t of win) counts.set(t.speaker, (counts.get(t.speaker) ?? 0) + 1);
      const speakers = [...counts.keys()];
      if (win.length < 6 || speakers.length < 3) return null;
      let question: string;
      let value: number;
      if (rng() < 0.6) {
        // Two or more turns (a single turn is spotted, not counted).
        const many = speakers.filter((x) => counts.get(x)! >= 2);
        if (many.length === 0) return null;
        const least = Math.min(...many.map((x) => seen.get(counts.get(x)!) ?? 0));
        const s = pick(rng, many.filter((x) => (seen.get(counts.get(x)!) ?? 0) === least))!;
        question = `How many turns (lines) does ${s} have in this ${
          doc.kind === "meeting" ? "meeting" : "conversation"
        } excerpt?`;
        value = counts.get(s)!;
      } else {
        const [a, b] = sample(rng, speakers, 2).sort((x, y) => counts.get(y)! - counts.get(x)!);
        if (counts.get(a) === counts.get(b)) return null;
        question = `How many more turns (lines) does ${a} have than ${b} in this excerpt?`;
        value = counts.get(a)! - counts.get(b)!;
      }
      const made = [...seen.values()].reduce((a, b) => a + b, 0);
      if ((seen.get(value) ?? 0) > 1 + made / 4) return null;
      seen.set(value, (seen.get(value) ?? 0) + 1);
      return mathDraft({
        generator: this.name,
        question,
        evidence: [{
          docId: doc.id,
          label: "Meeting transcript (one turn per line)",
          text: renderTurns(win),
        }],
        docs: [doc],
        meta: { turns: win.length },
      }, String(value));
    });
  },
};

/**
 * `excerpts/word_count`: how often a keyword occurs over 2–3 labelled excerpts of one document,
 * in total or as the difference between two excerpts (never 0), so the count needs every excerpt.
 */
const wordCount: Generator = {
  name: "excerpts/word_count",
  task: "numerical_reasoning",
  kinds: ["book", "paper", "speech"],
  criteria: "a book, paper or speech with 8+ prose paragraphs",
  docsPerDraft: 1,
  accepts: (d) =>
    ofKind(d, ["book", "paper", "speech"]) &&
    contentSections(d).reduce((a, s) => a + s.paras.length, 0) >= 8,
  make(docs, rng, opts) {
    // No value above about a quarter of the drafts: short excerpts favour small counts.
    const seen = new Map<number, number>();
    let made = 0;
    const drafts = perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const n = 2 + randInt(rng, 2);
      const per = Math.floor(o.maxEvidenceChars / n);
      const exs = spreadExcerpts(doc, rng, n, per, Math.min(300, Math.floor(per * 0.6)));
      if (!exs) return null;
      const texts = exs.map((e) => e.text);
      const all = texts.join("\n\n");
      const clean = keywordChecker(all);
      // Differences (signed) spread over more values than totals of short excerpts.
      const total = rng() < 0.35;
      const [a, b] = sample(rng, [...texts.keys()], 2).sort((x, y) => x - y);
      const ok = contentWords(all).filter((w) => {
        if (!clean(w) || w === "excerpt") return false;
        const cs = texts.map((t) => countWord(t, w));
        const sum = cs.reduce((x, y) => x + y, 0);
        return total
          ? sum >= 3 && cs.filter((c) => c > 0).length >= 2
          : cs[a] !== cs[b] && cs[a] + cs[b] >= 3;
      });
      // A value first, then a word with that value: small counts would otherwise dominate.
      const value0 = (w: string) => {
        const c = texts.map((t) => countWord(t, w));
        return total ? c.reduce((x, y) => x + y, 0) : c[a] - c[b];
      };
      // Of the values this excerpt set offers, one used least so far.
      const values = [...new Set(ok.map(value0))].sort((x, y) => x - y);
      const least = Math.min(...values.map((x) => seen.get(x) ?? 0));
      const v = pick(rng, values.filter((x) => (seen.get(x) ?? 0) === least));
      const w = pick(rng, ok.filter((x) => value0(x) === v));
      if (!w) return null;
      const cs = texts.map((t) => countWord(t, w));
      const question = total
        ? `How many times in all does the word "${w}" (whole word, any capitalisation) occur in the ${n} excerpts?`
        : `How many more times does the word "${w}" (whole word, any capitalisation) occur in Excerpt ${
          a + 1
        } than in Excerpt ${b + 1}? (Give a negative number if it occurs fewer times.)`;
      const value = total ? cs.reduce((x, y) => x + y, 0) : cs[a] - cs[b];
      if ((seen.get(value) ?? 0) > 1 + made / 4) return null;
      seen.set(value, (seen.get(value) ?? 0) + 1);
      made++;
      return mathDraft({
        generator: this.name,
        question,
        evidence: exs.map((e, i) => ({ docId: doc.id, label: `Excerpt ${i + 1}`, text: e.text })),
        docs: [doc],
        meta: { keyword: w, counts: cs, form: total ? "total" : "difference" },
      }, String(value));
    });
    return drafts;
  },
};

/** The numerical-reasoning generators. */
export const NUMERICAL_REASONING: Generator[] = [
  speechArithmetic,
  tableArithmetic,
  turnCount,
  wordCount,
];
