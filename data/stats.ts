/**
 * Dataset diagnostics: counts per task × length bucket × source kind, gold-answer length
 * histograms per task, token-length summaries (`extra_info.tokens`), difficulty bands, and the
 * gold self-check.
 *
 * Gold self-check: every sample's reference answer, written the way the verifier parses it,
 * must score the verifier's maximum (1, within 1e-6: ROUGE-L F of a text with itself is
 * 2/(2+1e-8)). A failure means the sample cannot be learned (a pairwise sample with one gold
 * item, a doc id containing a newline, a math gold Math-Verify cannot parse, an unknown
 * LongBench-Pro sub-task...). The ideal response per verifier ({@link goldResponse}):
 * - em: the `golden_label`; selection: "The correct answer is (X)"; math: `\boxed{golden_label}`;
 *   table IoU: `<answer>golden_label</answer>`;
 * - LongBench-Pro NDCG/Pairwise/Accuracy/F1/SubEM: "[Answer]\n" + `doc_ids` joined by newlines
 *   (gold order, which is the ideal ranking and ordering);
 *   each prefixed with "<think>\n</think>\n" so the format gate passes;
 * - Summary: the first reference alone, scored with format "none" (the Summary verifier reads
 *   the whole response, thinking included).
 *
 * Everything is accumulated one sample at a time ({@link StatsCollector}); only token counts are
 * kept per sample (for percentiles). Output key order is deterministic.
 *
 * @module
 */
import { computeReward, getVerifier, routeVerifier } from "../tasks/registry.ts";
import { extractChoice } from "../tasks/selection.ts";
import { TASK_TYPES } from "../tasks/types.ts";
import type { RewardOptions } from "../tasks/types.ts";
import type { Sample } from "../tasks/generators/types.ts";

/** Summary of a list of numbers. */
export interface NumberSummary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  max: number;
  mean: number;
}

/** One failing gold self-check. */
export interface GoldFailure {
  id: string;
  task: string;
  verifier: string;
  reward: number;
  reason: string;
}

/** The diagnostics of a dataset (JSON-ready). */
export interface DatasetStats {
  total: number;
  /** Task keys in display order (the 9 task types first, then others sorted). */
  tasks: string[];
  byTask: Record<string, number>;
  /** task → length bucket → source kind → count ("none" when unset). */
  counts: Record<string, Record<string, Record<string, number>>>;
  /** data_source → count. */
  dataSources: Record<string, number>;
  /** verifier name ("none" when unroutable) → count. */
  verifiers: Record<string, number>;
  /** Abilities that are not one of the 9 task types → count. */
  unknownAbilities: Record<string, number>;
  /** Samples whose ability differs from the task of the verifier they route to. */
  abilityMismatch: { count: number; examples: string[] };
  /** Samples with an empty extra_info.question (decontamination cannot check them). */
  noQuestion: number;
  /** task → bucket label → count: characters of the gold answer (golden_label, or doc_ids joined by "\n"). */
  answerChars: Record<string, Record<string, number>>;
  /** task → bucket label → count: number of doc_ids items (LongBench-Pro-metric samples only). */
  answerItems: Record<string, Record<string, number>>;
  tokens: { overall: NumberSummary | null; byTask: Record<string, NumberSummary>; missing: number };
  /** task → band → count (samples with extra_info.difficulty). */
  difficulty: Record<string, Record<string, number>>;
  gold: {
    checked: number;
    pass: number;
    fail: number;
    byTask: Record<string, { pass: number; fail: number }>;
    failing: GoldFailure[];
  };
}

const CHAR_BUCKETS: [number, string][] = [
  [0, "0"],
  [8, "1-8"],
  [32, "9-32"],
  [128, "33-128"],
  [512, "129-512"],
  [2048, "513-2048"],
  [Infinity, ">2048"],
];
const ITEM_BUCKETS: [number, string][] = [
  [0, "0"],
  [1, "1"],
  [2, "2"],
  [5, "3-5"],
  [10, "6-10"],
  [20, "11-20"],
  [Infinity, ">20"],
];
const LBP_VERIFIERS = new Set(["ndcg", "pairwise", "accuracy", "f1", "subem", "summary"]);
const THINK = "<think>\n</think>\n";
const MAX_TOL = 1e-6;

function bucketOf(x: number, buckets: [number, string][]): string {
  for (const [hi, label] of buckets) if (x <= hi) return label;
  return buckets[buckets.length - 1][1];
}

function bump(m: Record<string, number>, k: string, by = 1): void {
  m[k] = (m[k] ?? 0) + by;
}

/**
 * The response that should score the verifier's maximum for `s`, with the reward options to
 * score it under, or an error when the sample cannot be routed.
 */
export function goldResponse(
  s: Sample,
): { verifier: string; response: string; opts: RewardOptions } | { error: string } {
  const route = routeVerifier(s.data_source, s.extra_info);
  if ("error" in route) return { error: route.error };
  const gt = s.reward_model.ground_truth;
  const v = route.name;
  const think = (body: string) => ({ verifier: v, response: THINK + body, opts: {} });
  switch (v) {
    case "em":
      return think(gt.golden_label);
    case "selection":
      return think(`The correct answer is (${extractChoice(gt.golden_label) ?? gt.golden_label})`);
    case "math":
      return think(`\\boxed{${gt.golden_label}}`);
    case "table_iou":
      return think(`<answer>${gt.golden_label}</answer>`);
    case "summary":
      return { verifier: v, response: gt.doc_ids[0] ?? "", opts: { format: "none" } };
    default:
      if (LBP_VERIFIERS.has(v)) return think("[Answer]\n" + gt.doc_ids.join("\n"));
      return { error: `no gold response known for verifier "${v}"` };
  }
}

/** Runs the gold self-check of one sample. */
export function goldCheck(
  s: Sample,
): { pass: boolean; verifier: string; reward: number; reason: string } {
  const g = goldResponse(s);
  if ("error" in g) return { pass: false, verifier: "none", reward: 0, reason: g.error };
  const r = computeReward({
    dataSource: s.data_source,
    response: g.response,
    groundTruth: s.reward_model.ground_truth,
    extraInfo: s.extra_info,
  }, g.opts);
  const pass = r.reward >= 1 - MAX_TOL;
  let reason = "";
  if (!pass) {
    reason = r.error ?? `gold answer scores ${r.reward} < 1` +
        (Object.keys(r.details).length ? ` (${JSON.stringify(r.details).slice(0, 200)})` : "");
  }
  return { pass, verifier: g.verifier, reward: r.reward, reason };
}

function summarize(xs: number[]): NumberSummary | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, min: s[0], p50: q(0.5), p90: q(0.9), max: s[s.length - 1], mean };
}

function taskOrder(keys: Iterable<string>): string[] {
  const set = new Set(keys);
  const known = TASK_TYPES.filter((t) => set.has(t));
  const rest = [...set].filter((k) => !(TASK_TYPES as readonly string[]).includes(k)).sort();
  return [...known, ...rest];
}

function sortRecord<T>(m: Record<string, T>, order?: string[]): Record<string, T> {
  const keys = order ?? Object.keys(m).sort();
  const out: Record<string, T> = {};
  for (const k of keys) if (Object.hasOwn(m, k)) out[k] = m[k];
  return out;
}

function sortBuckets(
  m: Record<string, number>,
  buckets: [number, string][],
): Record<string, number> {
  return sortRecord(m, buckets.map(([, l]) => l));
}

/** Accumulates {@link DatasetStats} one sample at a time. */
export class StatsCollector {
  private total = 0;
  private byTask: Record<string, number> = {};
  private counts: Record<string, Record<string, Record<string, number>>> = {};
  private dataSources: Record<string, number> = {};
  private verifiers: Record<string, number> = {};
  private unknownAbilities: Record<string, number> = {};
  private mismatch = { count: 0, examples: [] as string[] };
  private noQuestion = 0;
  private answerChars: Record<string, Record<string, number>> = {};
  private answerItems: Record<string, Record<string, number>> = {};
  private tokens: Record<string, number[]> = {};
  private tokensMissing = 0;
  private difficulty: Record<string, Record<string, number>> = {};
  private gold = {
    checked: 0,
    pass: 0,
    fail: 0,
    byTask: {} as Record<string, { pass: number; fail: number }>,
    failing: [] as GoldFailure[],
  };

  /** Adds one sample. */
  add(s: Sample): void {
    this.total++;
    const task = s.ability;
    const ei = s.extra_info;
    bump(this.byTask, task);
    if (!(TASK_TYPES as readonly string[]).includes(task)) bump(this.unknownAbilities, task);
    const bucket = typeof ei.length_bucket === "string" ? ei.length_bucket : "none";
    const docs = Array.isArray(ei.source_docs) ? ei.source_docs : [];
    const kind = typeof docs[0]?.kind === "string" ? docs[0].kind : "none";
    ((this.counts[task] ??= {})[bucket] ??= {})[kind] = (this.counts[task][bucket][kind] ?? 0) + 1;
    bump(this.dataSources, s.data_source);
    if (typeof ei.question !== "string" || ei.question.trim() === "") this.noQuestion++;

    const route = routeVerifier(s.data_source, ei);
    const verifier = "error" in route ? "none" : route.name;
    bump(this.verifiers, verifier);

    const gt = s.reward_model.ground_truth;
    const lbp = LBP_VERIFIERS.has(verifier);
    const chars = lbp ? gt.doc_ids.join("\n").length : gt.golden_label.length;
    bump(this.answerChars[task] ??= {}, bucketOf(chars, CHAR_BUCKETS));
    if (lbp) bump(this.answerItems[task] ??= {}, bucketOf(gt.doc_ids.length, ITEM_BUCKETS));

    if (typeof ei.tokens === "number" && Number.isFinite(ei.tokens)) {
      (this.tokens[task] ??= []).push(ei.tokens);
    } else this.tokensMissing++;
    const band = ei.difficulty?.band;
    if (typeof band === "string") bump(this.difficulty[task] ??= {}, band);

    // The verifier's task is what the reward measures; a different ability mislabels the sample.
    const vTask = getVerifier(verifier)?.task;
    if (vTask !== undefined && vTask !== task) {
      this.mismatch.count++;
      if (this.mismatch.examples.length < 20) this.mismatch.examples.push(s.id);
    }
    const g = goldCheck(s);
    this.gold.checked++;
    const bt = this.gold.byTask[task] ??= { pass: 0, fail: 0 };
    if (g.pass) {
      this.gold.pass++;
      bt.pass++;
    } else {
      this.gold.fail++;
      bt.fail++;
      this.gold.failing.push({
        id: s.id,
        task,
        verifier: g.verifier,
        reward: g.reward,
        reason: g.reason,
      });
    }
  }

  /** The statistics so far. */
  result(): DatasetStats {
    const tasks = taskOrder(Object.keys(this.byTask));
    const all = Object.values(this.tokens).flat();
    const byTaskTokens: Record<string, NumberSummary> = {};
    for (const t of tasks) {
      const sm = summarize(this.tokens[t] ?? []);
      if (sm) byTaskTokens[t] = sm;
    }
    const counts: DatasetStats["counts"] = {};
    for (const t of tasks) {
      if (!this.counts[t]) continue;
      counts[t] = {};
      for (const b of Object.keys(this.counts[t]).sort()) {
        counts[t][b] = sortRecord(this.counts[t][b]);
      }
    }
    const perTask = <T>(m: Record<string, T>, f: (x: T) => T): Record<string, T> => {
      const out: Record<string, T> = {};
      for (const t of tasks) if (m[t] !== undefined) out[t] = f(m[t]);
      return out;
    };
    return {
      total: this.total,
      tasks,
      byTask: sortRecord(this.byTask, tasks),
      counts,
      dataSources: sortRecord(this.dataSources),
      verifiers: sortRecord(this.verifiers),
      unknownAbilities: sortRecord(this.unknownAbilities),
      abilityMismatch: { count: this.mismatch.count, examples: [...this.mismatch.examples] },
      noQuestion: this.noQuestion,
      answerChars: perTask(this.answerChars, (m) => sortBuckets(m, CHAR_BUCKETS)),
      answerItems: perTask(this.answerItems, (m) => sortBuckets(m, ITEM_BUCKETS)),
      tokens: { overall: summarize(all), byTask: byTaskTokens, missing: this.tokensMissing },
      difficulty: perTask(this.difficulty, (m) => sortRecord(m)),
      gold: {
        checked: this.gold.checked,
        pass: this.gold.pass,
        fail: this.gold.fail,
        byTask: perTask(this.gold.byTask, (x) => ({ ...x })),
        failing: [...this.gold.failing],
      },
    };
  }
}

/** The statistics of a set of samples (see {@link StatsCollector} for streams). */
export function statsJson(samples: Iterable<Sample>): DatasetStats {
  const c = new StatsCollector();
  for (const s of samples) c.add(s);
  return c.result();
}

/** The statistics of a stream of samples. */
export async function statsOf(samples: AsyncIterable<Sample>): Promise<DatasetStats> {
  const c = new StatsCollector();
  for await (const s of samples) c.add(s);
  return c.result();
}

// ==================== Markdown ====================

function esc(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function table(header: string[], rows: (string | number)[][]): string {
  const lines = [
    `| ${header.map(esc).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map((c) => esc(String(c))).join(" | ")} |`),
  ];
  return lines.join("\n");
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function histTable(
  title: string,
  h: Record<string, Record<string, number>>,
  labels: string[],
): string {
  const tasks = Object.keys(h);
  if (tasks.length === 0) return "";
  return `### ${title}\n\n` +
    table(["task", ...labels], tasks.map((t) => [t, ...labels.map((l) => h[t][l] ?? 0)])) + "\n";
}

/** Renders {@link DatasetStats} as Markdown tables. */
export function statsMarkdown(st: DatasetStats, opts: { maxFailing?: number } = {}): string {
  const maxFailing = opts.maxFailing ?? 50;
  const out: string[] = [`## Dataset statistics\n\n${st.total} samples.\n`];

  const rows: (string | number)[][] = [];
  for (const t of Object.keys(st.counts)) {
    for (const b of Object.keys(st.counts[t])) {
      for (const k of Object.keys(st.counts[t][b])) rows.push([t, b, k, st.counts[t][b][k]]);
    }
  }
  out.push("### Samples per task × length bucket × source kind\n");
  out.push(table(["task", "length bucket", "source kind", "samples"], rows) + "\n");
  out.push("### Samples per task\n");
  out.push(table(["task", "samples"], st.tasks.map((t) => [t, st.byTask[t]])) + "\n");
  out.push("### Verifiers and data sources\n");
  out.push(table(["verifier", "samples"], Object.entries(st.verifiers)) + "\n");
  out.push(table(["data_source", "samples"], Object.entries(st.dataSources)) + "\n");

  const notes: string[] = [];
  if (Object.keys(st.unknownAbilities).length) {
    notes.push(
      `- abilities outside the 9 task types: ${
        Object.entries(st.unknownAbilities).map(([k, v]) => `${k} (${v})`).join(", ")
      }`,
    );
  }
  if (st.abilityMismatch.count) {
    notes.push(
      `- ${st.abilityMismatch.count} samples whose ability is not their verifier's task (e.g. ${
        st.abilityMismatch.examples.slice(0, 5).join(", ")
      })`,
    );
  }
  if (st.noQuestion) notes.push(`- ${st.noQuestion} samples without extra_info.question`);
  if (notes.length) out.push("### Warnings\n\n" + notes.join("\n") + "\n");

  out.push(
    histTable("Gold answer length (characters)", st.answerChars, CHAR_BUCKETS.map((b) => b[1])),
  );
  out.push(
    histTable("Gold answer length (doc_ids items)", st.answerItems, ITEM_BUCKETS.map((b) => b[1])),
  );

  out.push("### Prompt tokens (extra_info.tokens)\n");
  const tokRows = Object.entries(st.tokens.byTask).map(([t, s]) => [
    t,
    s.n,
    s.min,
    s.p50,
    s.p90,
    s.max,
    fmt(s.mean),
  ]);
  if (st.tokens.overall) {
    const s = st.tokens.overall;
    tokRows.push(["all", s.n, s.min, s.p50, s.p90, s.max, fmt(s.mean)]);
  }
  out.push(
    tokRows.length
      ? table(["task", "n", "min", "p50", "p90", "max", "mean"], tokRows) + "\n"
      : "No token counts.\n",
  );
  if (st.tokens.missing) out.push(`${st.tokens.missing} samples without a token count.\n`);

  const bands = [...new Set(Object.values(st.difficulty).flatMap((m) => Object.keys(m)))].sort();
  if (bands.length) {
    out.push("### Difficulty bands\n");
    out.push(
      table(
        ["task", ...bands],
        Object.entries(st.difficulty).map(([t, m]) => [t, ...bands.map((b) => m[b] ?? 0)]),
      ) + "\n",
    );
  }

  out.push("### Gold self-check\n");
  out.push(`${st.gold.pass}/${st.gold.checked} pass, ${st.gold.fail} fail.\n`);
  out.push(
    table(
      ["task", "pass", "fail"],
      Object.entries(st.gold.byTask).map(([t, x]) => [t, x.pass, x.fail]),
    ) + "\n",
  );
  if (st.gold.failing.length) {
    const shown = st.gold.failing.slice(0, maxFailing);
    out.push(
      table(
        ["id", "task", "verifier", "reward", "reason"],
        shown.map((f) => [f.id, f.task, f.verifier, fmt(f.reward), f.reason]),
      ) + "\n",
    );
    if (st.gold.failing.length > shown.length) {
      out.push(`… and ${st.gold.failing.length - shown.length} more failing samples.\n`);
    }
  }
  return out.join("\n");
}
