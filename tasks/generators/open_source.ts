/**
 * The open-source track (P3): existing corpora's own questions, converted into the verifier
 * formats, with their native contexts as evidence.
 *
 * - `opensource/longbench_v2` (benchmark: LongBench v2 records): the record's question and four
 *   choices → comprehension (multiple choice, "The correct answer is (X)"). The whole native
 *   context is the evidence, so only length buckets large enough to hold it get these samples
 *   (LongBench v2 contexts run from 8K to 2M words).
 * - `opensource/babi` (qa: bAbI stories): each question with the story up to it → precise
 *   retrieval (EM on the one-word answer).
 *
 * QMSum queries and NQ-Open questions are converted by `meetings/query_summary` and
 * `passages/nq_answer`. LongBench v1 QA answers are free-form (scored by F1 in LongBench), so
 * they are not converted to EM, which would punish paraphrases.
 *
 * Converting a benchmark into training data contaminates that benchmark: build with
 * `--benchmarks` pointing at its files, or keep such sources out of training sets.
 *
 * @module
 */
import type { Document } from "./types.ts";
import { type Generator, ofKind, perDoc } from "./common.ts";
import { emDraft, selectionDraft } from "./formats.ts";
import { collapse, randInt } from "./text.ts";

const str = (v: unknown) => (typeof v === "string" ? v : "");

function lbv2(doc: Document): { question: string; choices: string[]; answer: number } | null {
  const m = doc.meta ?? {};
  if (m.longbench !== 2) return null;
  const choices = ["choice_A", "choice_B", "choice_C", "choice_D"].map((k) => collapse(str(m[k])));
  const answer = "ABCD".indexOf(str(m.answer).trim());
  if (answer < 0 || choices.some((c) => !c) || !str(m.question).trim()) return null;
  return { question: collapse(str(m.question)), choices, answer };
}

const longbenchV2: Generator = {
  name: "opensource/longbench_v2",
  task: "comprehension",
  kinds: ["benchmark"],
  criteria: "a LongBench v2 record with a question, four choices and an answer letter",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["benchmark"]) && lbv2(d) !== null,
  make(docs, rng, opts) {
    // One draft per record: its own question, whatever the evidence budget (the native context
    // is kept whole; length bucketing skips buckets it does not fit).
    return perDoc(docs, rng, { ...opts, perDoc: 1 }, this.accepts, (doc) => {
      const r = lbv2(doc);
      if (!r) return null;
      return selectionDraft(
        {
          generator: this.name,
          question: r.question,
          evidence: [{ docId: doc.id, label: "Document", text: doc.text }],
          docs: [doc],
          meta: { difficulty_native: doc.meta?.difficulty, length_native: doc.meta?.length },
        },
        r.choices,
        r.answer,
      );
    });
  },
};

interface BabiQ {
  q: string;
  answer: string;
  after: number;
}

function babiQuestions(doc: Document): BabiQ[] {
  const qs = doc.meta?.questions;
  if (!Array.isArray(qs)) return [];
  return qs.filter((q): q is BabiQ =>
    !!q && typeof q.q === "string" && typeof q.answer === "string" && q.answer.trim() !== "" &&
    Number.isInteger(q.after)
  );
}

const babi: Generator = {
  name: "opensource/babi",
  task: "precise_retrieval",
  kinds: ["qa"],
  criteria: "a bAbI story with at least one question whose answer is a single token",
  docsPerDraft: 1,
  accepts: (d) => ofKind(d, ["qa"]) && babiQuestions(d).some((q) => !/[\s,]/.test(q.answer.trim())),
  make(docs, rng, opts) {
    return perDoc(docs, rng, opts, this.accepts, (doc, rng) => {
      const qs = babiQuestions(doc).filter((q) => !/[\s,]/.test(q.answer.trim()));
      if (!qs.length) return null;
      const q = qs[randInt(rng, qs.length)];
      // The story as it stood when the question was asked (later statements can change facts).
      const ids = (doc.meta?.lineIds as number[] | undefined) ?? [];
      const lines = doc.text.split("\n");
      const upto = ids.length === lines.length ? lines.filter((_, i) => ids[i] <= q.after) : lines;
      return emDraft({
        generator: this.name,
        question: `${q.q.trim()} Answer with one word.`,
        evidence: [{ docId: doc.id, label: "Story", text: upto.join("\n") }],
        docs: [doc],
      }, q.answer.trim());
    });
  },
};

export const OPEN_SOURCE: Generator[] = [longbenchV2, babi];
