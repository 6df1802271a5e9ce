/**
 * Structured extraction (table IoU, `<answer>{"data": [[…], …]}</answer>`): rows of cell strings
 * copied from the context. Every cell is a string, so Python `str()` of the gold and of a correct
 * prediction agree.
 *
 * - `papers/table_filter` (paper): the rows of a table meeting a numeric or categorical condition,
 *   projected onto two stated columns.
 * - `dialogue/slot_table` (dialogue): the (slot, value) pairs the user (or the assistant) stated,
 *   from the SGD acts, restricted to values said verbatim.
 *
 * @module
 */
import { type Generator, ofKind, perDoc } from "./common.ts";
import { tableDraft } from "./formats.ts";
import {
  DECIMAL,
  decimalCompare,
  docTurns,
  pick,
  randInt,
  renderTurns,
  saysVerbatim,
  turnWindow,
} from "./text.ts";
import { humanService, isUser, paperTables, renderTable, sgdFrames } from "./sources.ts";

/** A row condition of a table: its words and the rows that meet it. */
export interface RowCondition {
  text: string;
  rows: number[];
  column: number;
}

/**
 * A random condition on one column that 1..n−1 rows meet: "greater than t" / "less than t" for a
 * numeric column, "equal to v" for a categorical one.
 */
export function rowCondition(
  rng: () => number,
  header: string[],
  rows: string[][],
): RowCondition | null {
  const conds: RowCondition[] = [];
  for (let c = 1; c < header.length; c++) {
    const nums = rows.map((_r, i) => i).filter((i) => DECIMAL.test(rows[i][c]));
    if (nums.length === rows.length && rows.length >= 3) {
      const vals = [...new Set(nums.map((i) => rows[i][c]))].sort(decimalCompare);
      if (vals.length >= 3) {
        const th = vals[1 + randInt(rng, vals.length - 2)];
        const gt = rng() < 0.5;
        const sel = nums.filter((i) => decimalCompare(rows[i][c], th) * (gt ? 1 : -1) > 0);
        if (sel.length > 0 && sel.length < rows.length) {
          conds.push({
            text: `"${header[c]}" is ${gt ? "greater" : "less"} than ${th}`,
            rows: sel,
            column: c,
          });
        }
      }
    } else {
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r[c], (counts.get(r[c]) ?? 0) + 1);
      for (const [v, n] of counts) {
        if (v && v.length <= 40 && n >= 1 && n < rows.length && !DECIMAL.test(v) && n <= 8) {
          conds.push({
            text: `"${header[c]}" is "${v}"`,
            rows: rows.map((_, i) => i).filter((i) => rows[i][c] === v),
            column: c,
          });
        }
      }
    }
  }
  return pick(rng, conds) ?? null;
}

const tableFilter: Generator = {
  name: "papers/table_filter",
  task: "structured_extraction",
  kinds: ["paper"],
  criteria: "a paper with a table of 3+ rows and 2+ columns",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["paper"]) && paperTables(d).some((t) => t.rows.length >= 3),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const t = pick(rng, paperTables(doc).filter((t) => t.rows.length >= 3));
      if (!t) return null;
      const { text, kept } = renderTable(t, o.maxEvidenceChars);
      const rows = t.rows.slice(0, kept);
      if (rows.length < 3) return null;
      const cond = rowCondition(rng, t.header, rows);
      if (!cond) return null;
      const others = t.header.map((_, c) => c).filter((c) => c > 0 && c !== cond.column);
      const second = rng() < 0.5 || others.length === 0 ? cond.column : pick(rng, others)!;
      const cols = [0, second];
      const columns = cols.map((c) => t.header[c]);
      const data = cond.rows.map((i) => cols.map((c) => rows[i][c]));
      const forms = [
        `From ${t.label}, extract every row in which ${cond.text}, giving its "${
          columns[0]
        }" and "${columns[1]}".`,
        `List the rows of ${t.label} whose ${cond.text} as a table with the columns "${
          columns[0]
        }" and "${columns[1]}".`,
      ];
      return tableDraft(
        {
          generator: this.name,
          question: forms[randInt(rng, forms.length)],
          evidence: [{ docId: doc.id, label: `${t.label} of "${doc.title}"`.slice(0, 200), text }],
          docs: [doc],
          meta: { table: t.label, condition: cond.text },
        },
        columns,
        data,
      );
    });
  },
};

const slotTable: Generator = {
  name: "dialogue/slot_table",
  task: "structured_extraction",
  kinds: ["dialogue"],
  criteria: "an SGD dialogue whose user (or assistant) states 2+ slot values verbatim",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["dialogue"]) && sgdFrames(d).some((f) => f.length > 0),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng, o) => {
      const turns = docTurns(doc);
      const frames = sgdFrames(doc);
      const win = turnWindow(turns, 0, o.maxEvidenceChars);
      const user = rng() < 0.6;
      const acts = user ? ["INFORM"] : ["INFORM", "OFFER", "CONFIRM"];
      const rows: string[][] = [];
      const seen = new Set<string>();
      const services = new Set<string>();
      for (const t of win) {
        if (isUser(t.speaker) !== user) continue;
        for (const f of frames[t.index] ?? []) {
          for (const a of f.actions) {
            if (!acts.includes(a.act) || a.slot === "intent" || a.values.length === 0) continue;
            const v = a.values[0];
            if (!saysVerbatim(t.text, v)) continue;
            const k = JSON.stringify([a.slot, v]);
            if (seen.has(k)) continue;
            seen.add(k);
            services.add(humanService(f.service));
            rows.push([a.slot, v]);
          }
        }
      }
      if (rows.length < 2) return null;
      const slots = [...new Set(rows.map((r) => r[0]))];
      const who = user ? "the user" : "the assistant";
      const verb = user ? "specified" : "offered, confirmed or informed";
      return tableDraft(
        {
          generator: this.name,
          question:
            `Extract every (slot, value) pair that ${who} ${verb} in this ${
              [...services].join(" / ")
            } conversation, ` +
            `one row per distinct pair (a changed value gives another row). Use these slot names: ${
              slots.join(", ")
            }; ` +
            `copy each value exactly as ${who} worded it.`,
          evidence: [{ docId: doc.id, label: `Conversation ${doc.id}`, text: renderTurns(win) }],
          docs: [doc],
          meta: { speaker: user ? "USER" : "SYSTEM" },
        },
        ["slot", "value"],
        rows,
      );
    });
  },
};

/** The structured-extraction generators. */
export const STRUCTURED_EXTRACTION: Generator[] = [tableFilter, slotTable];
