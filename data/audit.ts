/**
 * `golongrl data audit`: can a task be solved without reading? Per task, no-reading baselines are
 * scored through the real verifiers and set beside the score of a random answer:
 *
 * - **label order**: the candidates (options, excerpt labels, speakers…) as they are listed;
 *   for set answers the first half of them; for multiple choice always (A);
 * - **every candidate**: all candidates listed (over-listing);
 * - **common gold**: the most common gold answer of the sample's generator, learned from the
 *   *other* samples (leave one out, as a constant guess learned from training data would be);
 * - **question alone**: an answer read off the question only (the question itself, its first
 *   number, the option or candidates it shares most words with);
 * - **random**: the expected score of a random answer: a random option; a random permutation or
 *   a random subset (each candidate with probability 1/2) of the candidates; the gold of another
 *   sample of the same generator, for free-form answers.
 *
 * A task whose best baseline beats random by more than {@link MARGIN} is flagged, and so are a
 * generator whose most common gold is half its samples or more, a gold answer written inside its
 * question, and repeated questions. Deterministic: no clock, no global randomness.
 *
 * @module
 */
import { computeReward, routeVerifier } from "../tasks/registry.ts";
import type { RewardOptions } from "../tasks/types.ts";
import { mulberry32 } from "../core/rng.ts";
import { saysValue } from "../tasks/generators/text.ts";
import type { Sample } from "../tasks/generators/types.ts";

/** A shortcut this much above random is flagged. */
export const MARGIN = 0.05;
const THINK = "<think>\n</think>\n";
const DRAWS = 16;
const MAX_OTHERS = 24;
export const BASELINES = [
  "label_order",
  "every_candidate",
  "common_gold",
  "question_alone",
] as const;
export type Baseline = typeof BASELINES[number];

/** One task's audit. */
export interface TaskAudit {
  task: string;
  samples: number;
  random: number;
  /** Mean score of each baseline over the samples where it applies, with random on the same samples. */
  baselines: Partial<Record<Baseline, { score: number; random: number; n: number }>>;
  /** The largest (baseline − random) over the baselines. */
  worstMargin: number;
  flagged: boolean;
}

/** The whole audit. */
export interface Audit {
  samples: number;
  tasks: TaskAudit[];
  /** generator → share of its samples with its most common gold, and that gold. */
  commonGold: Record<string, { n: number; share: number; gold: string }>;
  /** Samples whose gold is written inside their question. */
  answerInQuestion: string[];
  /** Share of samples whose (question, gold) occurs in another sample. */
  repeated: number;
  flags: string[];
}

type Answer =
  | { kind: "text"; text: string }
  | { kind: "letter"; letter: string }
  | { kind: "items"; items: string[] };

function route(s: Sample): string {
  const r = routeVerifier(s.data_source, s.extra_info);
  return "error" in r ? "none" : r.name;
}

function render(v: string, a: Answer): { response: string; opts: RewardOptions } {
  const body = a.kind === "items" ? a.items.join("\n") : a.kind === "letter" ? a.letter : a.text;
  switch (v) {
    case "selection":
      return { response: `${THINK}The correct answer is (${body})`, opts: {} };
    case "math":
      return { response: `${THINK}\\boxed{${body}}`, opts: {} };
    case "table_iou":
      return { response: `${THINK}<answer>${body}</answer>`, opts: {} };
    case "summary":
      return { response: body, opts: { format: "none" } };
    case "em":
      return { response: THINK + body, opts: {} };
    default:
      return { response: `${THINK}[Answer]\n${body}`, opts: {} };
  }
}

function score(s: Sample, a: Answer): number {
  const v = route(s);
  const { response, opts } = render(v, a);
  try {
    return computeReward({
      dataSource: s.data_source,
      response,
      groundTruth: s.reward_model.ground_truth,
      extraInfo: s.extra_info,
    }, opts).reward;
  } catch {
    return 0;
  }
}

/** The gold of a sample as an answer. */
function goldAnswer(s: Sample): Answer {
  const v = route(s);
  const gt = s.reward_model.ground_truth;
  if (v === "selection") return { kind: "letter", letter: gt.golden_label };
  if (gt.doc_ids.length > 0 && v !== "summary") return { kind: "items", items: gt.doc_ids };
  if (v === "summary") return { kind: "text", text: gt.doc_ids[0] ?? "" };
  return { kind: "text", text: gt.golden_label };
}

function answerKey(a: Answer): string {
  return a.kind === "items" ? a.items.join("\n") : a.kind === "letter" ? a.letter : a.text;
}

function candidates(s: Sample): string[] {
  const c = s.extra_info.candidates;
  return Array.isArray(c) ? c.filter((x): x is string => typeof x === "string") : [];
}

/** The multiple-choice options of a question ("A. …" lines). */
function options(question: string): { stem: string; opts: string[] } {
  const lines = question.split("\n");
  const opts: string[] = [];
  while (lines.length && /^[A-D]\. /.test(lines[lines.length - 1])) {
    opts.unshift(lines.pop()!.slice(3));
  }
  return { stem: lines.join("\n"), opts };
}

function overlap(a: string, b: string): number {
  const wa = new Set(a.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  let n = 0;
  for (const w of new Set(b.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])) if (wa.has(w)) n++;
  return n;
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const isRanking = (v: string) => v === "ndcg" || v === "pairwise";
const isSet = (v: string) => v === "f1" || v === "subem" || v === "accuracy";

/** The expected score of a random answer to `s`. */
function randomScore(s: Sample, others: Sample[]): number {
  const v = route(s);
  if (v === "selection") {
    return ["A", "B", "C", "D"].reduce((a, l) => a + score(s, { kind: "letter", letter: l }), 0) /
      4;
  }
  const cands = candidates(s);
  const rand = mulberry32(hash(`audit:${s.id}`));
  if ((isRanking(v) || isSet(v)) && cands.length > 0) {
    let total = 0;
    for (let k = 0; k < DRAWS; k++) {
      let items: string[];
      if (isRanking(v)) {
        items = cands.slice();
        for (let i = items.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [items[i], items[j]] = [items[j], items[i]];
        }
      } else {
        items = cands.filter(() => rand() < 0.5);
        if (items.length === 0) items = [cands[Math.floor(rand() * cands.length)]];
      }
      total += score(s, { kind: "items", items });
    }
    return total / DRAWS;
  }
  if (v === "em" && cands.length > 0) {
    return cands.reduce((a, c) => a + score(s, { kind: "text", text: c }), 0) / cands.length;
  }
  if (others.length === 0) return 0;
  return others.reduce((a, o) => a + score(s, goldAnswer(o)), 0) / others.length;
}

/** The most common gold among `others` (first seen wins ties), or undefined. */
function commonGold(others: Sample[]): Answer | undefined {
  const counts = new Map<string, { n: number; a: Answer }>();
  for (const o of others) {
    const a = goldAnswer(o);
    const k = answerKey(a);
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { n: 1, a });
  }
  let best: { n: number; a: Answer } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return best?.a;
}

function baselineAnswers(s: Sample, others: Sample[]): Partial<Record<Baseline, Answer>> {
  const v = route(s);
  const cands = candidates(s);
  const q = s.extra_info.question ?? "";
  const out: Partial<Record<Baseline, Answer>> = {};
  const common = commonGold(others);
  if (common) out.common_gold = common;
  if (v === "selection") {
    out.label_order = { kind: "letter", letter: "A" };
    const { stem, opts } = options(q);
    if (opts.length === 4) {
      let best = 0;
      opts.forEach((o, i) => {
        if (overlap(stem, o) > overlap(stem, opts[best])) best = i;
      });
      out.question_alone = { kind: "letter", letter: "ABCD"[best] };
    }
    return out;
  }
  if (isRanking(v) || isSet(v)) {
    if (cands.length > 0) {
      out.label_order = {
        kind: "items",
        items: isSet(v) ? cands.slice(0, Math.ceil(cands.length / 2)) : cands,
      };
      out.every_candidate = { kind: "items", items: cands };
      const inQ = cands.filter((c) => saysValue(q, c));
      out.question_alone = { kind: "items", items: inQ.length ? inQ : [q.split("\n")[0]] };
    } else {
      out.question_alone = { kind: "items", items: q.split("\n") };
    }
    return out;
  }
  if (v === "math") {
    out.question_alone = { kind: "text", text: q.match(/-?\d+(\.\d+)?/)?.[0] ?? "0" };
    return out;
  }
  if (v === "em" && cands.length > 0) out.label_order = { kind: "text", text: cands[0] };
  if (v !== "table_iou") out.question_alone = { kind: "text", text: q };
  return out;
}

/** Whether the gold answer of `s` is written in its question (whole words, normalized). */
export function answerInQuestion(s: Sample): boolean {
  const v = route(s);
  const q = s.extra_info.question ?? "";
  const gt = s.reward_model.ground_truth;
  if (v === "selection") {
    const { stem, opts } = options(q);
    const right = opts["ABCD".indexOf(gt.golden_label)];
    return right !== undefined && saysValue(stem, right);
  }
  if (v === "em") return saysValue(q, gt.golden_label);
  if (v === "math" || v === "summary" || v === "table_iou") return false;
  // Set answers: every gold item in the question would give the answer away.
  return gt.doc_ids.length > 0 && isSet(v) && gt.doc_ids.every((d) => saysValue(q, d));
}

/** Audits samples (in file order). */
export function auditSamples(samples: readonly Sample[]): Audit {
  const byGen = new Map<string, Sample[]>();
  for (const s of samples) {
    const g = String(s.extra_info.generator ?? s.ability);
    byGen.set(g, [...(byGen.get(g) ?? []), s]);
  }
  const othersOf = (s: Sample) => {
    const list = byGen.get(String(s.extra_info.generator ?? s.ability)) ?? [];
    const i = list.indexOf(s);
    // The nearest others in file order, so the cost stays bounded on big datasets.
    const out: Sample[] = [];
    for (let d = 1; out.length < MAX_OTHERS && (i - d >= 0 || i + d < list.length); d++) {
      if (i - d >= 0) out.push(list[i - d]);
      if (i + d < list.length && out.length < MAX_OTHERS) out.push(list[i + d]);
    }
    return out;
  };
  const byTask = new Map<string, Sample[]>();
  for (const s of samples) byTask.set(s.ability, [...(byTask.get(s.ability) ?? []), s]);
  const tasks: TaskAudit[] = [];
  for (const [task, list] of [...byTask].sort(([a], [b]) => a.localeCompare(b))) {
    const acc: Partial<Record<Baseline, { score: number; random: number; n: number }>> = {};
    let rTotal = 0;
    for (const s of list) {
      const others = othersOf(s);
      const r = randomScore(s, others);
      rTotal += r;
      for (const [b, a] of Object.entries(baselineAnswers(s, others)) as [Baseline, Answer][]) {
        const e = acc[b] ??= { score: 0, random: 0, n: 0 };
        e.score += score(s, a);
        e.random += r;
        e.n++;
      }
    }
    let worst = -Infinity;
    for (const e of Object.values(acc)) {
      e.score /= e.n;
      e.random /= e.n;
      worst = Math.max(worst, e.score - e.random);
    }
    tasks.push({
      task,
      samples: list.length,
      random: rTotal / list.length,
      baselines: acc,
      worstMargin: Number.isFinite(worst) ? worst : 0,
      flagged: worst > MARGIN,
    });
  }
  const common: Audit["commonGold"] = {};
  for (const [g, list] of [...byGen].sort(([a], [b]) => a.localeCompare(b))) {
    const counts = new Map<string, number>();
    for (const s of list) {
      const k = answerKey(goldAnswer(s));
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let gold = "", n = 0;
    for (const [k, c] of counts) if (c > n) [gold, n] = [k, c];
    common[g] = { n: list.length, share: n / list.length, gold: gold.slice(0, 60) };
  }
  const inQ = samples.filter(answerInQuestion).map((s) => s.id);
  const keyCount = new Map<string, number>();
  const key = (s: Sample) =>
    `${s.extra_info.question}\u0000${JSON.stringify(s.reward_model.ground_truth)}`;
  for (const s of samples) keyCount.set(key(s), (keyCount.get(key(s)) ?? 0) + 1);
  const repeated = samples.length
    ? samples.filter((s) => keyCount.get(key(s))! > 1).length / samples.length
    : 0;
  const flags = [
    ...tasks.filter((t) => t.flagged).map((t) =>
      `${t.task}: a no-reading baseline beats random by ${t.worstMargin.toFixed(3)}`
    ),
    ...Object.entries(common).filter(([, c]) => c.n >= 4 && c.share >= 0.5).map(([g, c]) =>
      `${g}: ${Math.round(c.share * 100)}% of its ${c.n} samples have the gold "${c.gold}"`
    ),
    ...(inQ.length ? [`${inQ.length} samples have their answer inside the question`] : []),
    ...(repeated >= 0.1 ? [`${(repeated * 100).toFixed(1)}% of samples repeat a question`] : []),
  ];
  return {
    samples: samples.length,
    tasks,
    commonGold: common,
    answerInQuestion: inQ,
    repeated,
    flags,
  };
}

const f = (x: number | undefined) => x === undefined ? "–" : x.toFixed(3);
/** A baseline's score and its margin over random on the same samples. */
const cell = (e: { score: number; random: number } | undefined) =>
  e
    ? `${f(e.score)} (${e.score - e.random >= 0 ? "+" : ""}${(e.score - e.random).toFixed(3)})`
    : "–";

/** The audit as Markdown (the stats.md section and `data audit`'s output). */
export function auditMarkdown(a: Audit): string {
  const lines = [
    "## Shortcut audit (no-reading baselines through the verifiers)",
    "",
    `Each baseline's score, and in brackets its margin over a random answer on the same samples ` +
    `(it applies to some samples only); a margin above ${MARGIN} is flagged. Common gold is learned ` +
    "from the other samples of the same generator (leave one out).",
    "",
    "| task | n | random | label order | every candidate | common gold | question alone | flag |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...a.tasks.map((t) =>
      `| ${t.task} | ${t.samples} | ${f(t.random)} | ${
        BASELINES.map((b) => cell(t.baselines[b])).join(" | ")
      } | ${t.flagged ? `**+${t.worstMargin.toFixed(3)}**` : "ok"} |`
    ),
    "",
    "| generator | n | most common gold | share |",
    "| --- | ---: | --- | ---: |",
    ...Object.entries(a.commonGold).map(([g, c]) =>
      `| ${g} | ${c.n} | ${JSON.stringify(c.gold).replace(/\|/g, "\\|")} | ${
        (c.share * 100).toFixed(0)
      }% |`
    ),
    "",
    `Answers inside their question: ${a.answerInQuestion.length}` +
    (a.answerInQuestion.length ? ` (${a.answerInQuestion.slice(0, 10).join(", ")})` : "") + ".",
    `Repeated samples: ${(a.repeated * 100).toFixed(1)}%.`,
    "",
    a.flags.length ? `Flags:\n${a.flags.map((x) => `- ${x}`).join("\n")}` : "Flags: none.",
    "",
  ];
  return lines.join("\n");
}
