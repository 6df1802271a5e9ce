/**
 * Evaluation reports: per benchmark, subset and length bucket, the mean with its
 * standard error and n; avg@k and pass@k with several samples per item; a
 * Markdown table shaped like the GoLongRL paper's; and an SVG plot of score
 * against context length. Nothing time-dependent goes into results.json, so a
 * resumed run reproduces it exactly.
 */
import { escapeXml, PALETTE, svgDocument } from "../core/svg.ts";
import type { GenerationRecord } from "./sampling_record.ts";

export interface ScoredSample {
  benchmark: string;
  item: string;
  sample: number;
  subset?: string;
  lengthBucket?: string;
  /** Context length in tokens (or a hint), for the plot. */
  contextTokens?: number;
  score: number;
}

/** A prediction whose metric threw: it is scored 0 and listed here. */
export interface ScoreError {
  benchmark: string;
  item: string;
  error: string;
}

export interface Summary {
  n: number;
  mean: number;
  /** Standard error of the mean over items (scores first averaged over samples). */
  stderr: number;
}

export interface BenchmarkResult extends Summary {
  primaryMetric: string;
  /** Mean over items of the mean over samples (= mean when k = 1). */
  avgAtK: number;
  /** Mean over items of the best sample (= pass@k for 0/1 scores). */
  passAtK: number;
  k: number;
  subsets: Record<string, Summary>;
  lengths: Record<string, Summary>;
  /** Failed items (named), with the reason of each where known. */
  failed: { n: number; ids: string[]; reasons?: Record<string, string> };
  /** Predictions whose metric threw (scored 0, counted in n): how many, which items, the first error. */
  scoreErrors: { n: number; ids: string[]; first?: string };
  /** What was sent: sampling, budgets, input limit (eval/sampling_record.ts). */
  generation?: GenerationRecord;
}

export interface Results {
  model: string;
  benchmarks: Record<string, BenchmarkResult>;
  /** Unweighted mean over the paper's six headline benchmarks present. */
  headlineAverage: number | null;
  /** Unweighted mean over the benchmarks with at least one scored item; null when none has. */
  average: number | null;
}

/** The paper's table columns (recipe §5.1), in order. */
export const HEADLINE = [
  "docmath",
  "longbench-v2",
  "frames",
  "mrcr",
  "corpusqa",
  "longbench-v1-qa",
];

function summarize(xs: number[]): Summary {
  const n = xs.length;
  if (n === 0) return { n: 0, mean: 0, stderr: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, stderr: Math.sqrt(variance / n) };
}

const round = (x: number) => Number(x.toFixed(6));

function roundSummary(s: Summary): Summary {
  return { n: s.n, mean: round(s.mean), stderr: round(s.stderr) };
}

/** Aggregates scored samples (and failures) into results. */
export function aggregate(
  model: string,
  scored: ScoredSample[],
  failures: { benchmark: string; item: string; reason?: string }[],
  primaryMetric: Record<string, string>,
  generation: Record<string, GenerationRecord> = {},
  scoreErrors: ScoreError[] = [],
): Results {
  const byBench = new Map<string, ScoredSample[]>();
  for (const s of scored) {
    if (!byBench.has(s.benchmark)) byBench.set(s.benchmark, []);
    byBench.get(s.benchmark)!.push(s);
  }
  for (const f of failures) if (!byBench.has(f.benchmark)) byBench.set(f.benchmark, []);
  const benchmarks: Record<string, BenchmarkResult> = {};
  for (const name of [...byBench.keys()].sort()) {
    const rows = byBench.get(name)!;
    // Per item: mean and max over samples.
    const items = new Map<string, { scores: number[]; subset?: string; length?: string }>();
    for (const r of rows) {
      const it = items.get(r.item) ?? { scores: [], subset: r.subset, length: r.lengthBucket };
      it.scores.push(r.score);
      items.set(r.item, it);
    }
    const ids = [...items.keys()].sort();
    const means = ids.map((id) => avg(items.get(id)!.scores));
    const best = ids.map((id) => Math.max(...items.get(id)!.scores));
    const group = (key: "subset" | "length") => {
      const g = new Map<string, number[]>();
      for (const id of ids) {
        const it = items.get(id)!;
        const k = it[key];
        if (k === undefined) continue;
        if (!g.has(k)) g.set(k, []);
        g.get(k)!.push(avg(it.scores));
      }
      return Object.fromEntries(
        [...g.keys()].sort().map((k) => [k, roundSummary(summarize(g.get(k)!))]),
      );
    };
    const failedIds = [...new Set(failures.filter((f) => f.benchmark === name).map((f) => f.item))]
      .sort();
    const subsets = group("subset");
    let s = summarize(means);
    if (generation[name]?.average === "subsets" && Object.keys(subsets).length) {
      // The reference's mean of subset means; its stderr from the subsets' (independent) ones.
      const sub = Object.values(subsets);
      s = {
        n: s.n,
        mean: avg(sub.map((x) => x.mean)),
        stderr: Math.sqrt(sub.reduce((a, x) => a + x.stderr ** 2, 0)) / sub.length,
      };
    }
    const reasons: Record<string, string> = {};
    for (const f of failures) {
      if (f.benchmark === name && f.reason && !(f.item in reasons)) reasons[f.item] = f.reason;
    }
    benchmarks[name] = {
      ...roundSummary(s),
      primaryMetric: primaryMetric[name] ?? "score",
      avgAtK: round(s.mean),
      passAtK: round(avg(best)),
      k: Math.max(0, ...ids.map((id) => items.get(id)!.scores.length)),
      subsets,
      lengths: group("length"),
      failed: {
        n: failedIds.length,
        ids: failedIds,
        ...(Object.keys(reasons).length ? { reasons: sortedObject(reasons) } : {}),
      },
      scoreErrors: errorsOf(scoreErrors.filter((e) => e.benchmark === name)),
      ...(generation[name] ? { generation: generation[name] } : {}),
    };
  }
  const present = HEADLINE.filter((h) => benchmarks[h] && benchmarks[h].n > 0);
  const all = Object.values(benchmarks).filter((b) => b.n > 0);
  return {
    model,
    benchmarks,
    headlineAverage: present.length ? round(avg(present.map((h) => benchmarks[h].mean))) : null,
    average: all.length ? round(avg(all.map((b) => b.mean))) : null,
  };
}

function sortedObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

function errorsOf(errs: ScoreError[]): BenchmarkResult["scoreErrors"] {
  const ids = [...new Set(errs.map((e) => e.item))].sort();
  return errs.length ? { n: errs.length, ids, first: errs[0].error } : { n: 0, ids };
}

function avg(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

const pct = (x: number) => (100 * x).toFixed(1);
/** A benchmark's score for display: "n/a" when nothing was scored (all failed), never "0.0". */
const shown = (b: Summary, x = b.mean) => (b.n > 0 ? pct(x) : "n/a");

/** The stdout summary of a run: one line per benchmark, then the average and the files. */
export function summaryText(r: Results, out: string): string {
  const lines = Object.entries(r.benchmarks).map(([k, b]) =>
    `${k.padEnd(18)} ${shown(b).padStart(6)}` + (b.n > 0 ? ` ± ${pct(b.stderr)}` : "") +
    `  (n ${b.n}` + (b.failed.n ? `, ${b.failed.n} failed` : "") +
    (b.scoreErrors.n ? `, ${b.scoreErrors.n} scoring errors` : "") + ")"
  );
  const avgText = r.average === null ? "n/a" : pct(r.average);
  lines.push(`average            ${avgText.padStart(6)}`, `${out}/results.json, ${out}/report.md`);
  return lines.join("\n") + "\n";
}

/** report.md: the paper-shaped table, then per-benchmark details. */
export function reportMarkdown(r: Results): string {
  const names = Object.keys(r.benchmarks);
  const head = [
    ...HEADLINE.filter((h) => names.includes(h)),
    ...names.filter((n) => !HEADLINE.includes(n)),
  ];
  const lines = [
    `# Evaluation: ${r.model}`,
    "",
    `| Model | ${head.join(" | ")} | Avg. |`,
    `|---|${head.map(() => "---:").join("|")}|---:|`,
    `| ${r.model} | ${head.map((h) => shown(r.benchmarks[h])).join(" | ")} | ${
      r.average === null ? "n/a" : pct(r.average)
    } |`,
    "",
    "Scores x 100; Avg. is the unweighted mean over the benchmarks shown" +
    (r.headlineAverage !== null
      ? ` (over the paper's six present: ${pct(r.headlineAverage)}).`
      : "."),
    "",
  ];
  for (const h of head) {
    const b = r.benchmarks[h];
    lines.push(`## ${h}`, "");
    lines.push(
      `${b.primaryMetric}: ${shown(b)}${b.n > 0 ? ` ± ${pct(b.stderr)}` : ""} (n = ${b.n}` +
        (b.k > 1 ? `, k = ${b.k}, avg@k ${pct(b.avgAtK)}, pass@k ${pct(b.passAtK)}` : "") +
        (b.failed.n
          ? `; ${b.failed.n} failed: ${b.failed.ids.slice(0, 10).join(", ")}${
            b.failed.n > 10 ? ", ..." : ""
          }`
          : "") +
        (b.scoreErrors.n
          ? `; ${b.scoreErrors.n} scored 0 because the metric failed (${b.scoreErrors.first})`
          : "") +
        ")",
      "",
    );
    const g = b.generation;
    if (g) {
      lines.push(
        `Sent: temperature ${g.temperature}, top_p ${g.topP}, max_tokens ${
          g.maxTokens.join("/") || "-"
        }` +
          (g.answerPrefixed ? `, answer prefix on ${g.answerPrefixed}` : "") +
          ` (${g.overridden.length ? `overridden: ${g.overridden.join(", ")}; ` : ""}${g.source})` +
          (g.maxInputTokens !== null
            ? `; input limit ${g.maxInputTokens} tokens: ${g.truncated} cut, ${g.unsendable} too long to send`
            : "") +
          (g.average === "subsets" ? "; score = mean of the subset means" : "") + ".",
        "",
      );
    }
    if (b.failed.reasons) {
      lines.push("| failed item | reason |", "|---|---|");
      const rows = Object.entries(b.failed.reasons);
      for (const [id, why] of rows.slice(0, 50)) {
        lines.push(`| ${id} | ${why.replace(/\|/g, "\\|").replace(/\n/g, " ").slice(0, 300)} |`);
      }
      if (rows.length > 50) lines.push(`| … | ${rows.length - 50} more in results.json |`);
      lines.push("");
    }
    for (const [title, group] of [["subset", b.subsets], ["length", b.lengths]] as const) {
      const keys = Object.keys(group);
      if (!keys.length) continue;
      lines.push(`| ${title} | n | score | stderr |`, "|---|---:|---:|---:|");
      for (const k of keys) {
        lines.push(`| ${k} | ${group[k].n} | ${pct(group[k].mean)} | ${pct(group[k].stderr)} |`);
      }
      lines.push("");
    }
  }
  return lines.join("\n");
}

/** An SVG line chart of mean score against context length, one line per benchmark. */
export function lengthPlotSvg(scored: ScoredSample[]): string {
  const series = new Map<string, Map<number, number[]>>();
  for (const s of scored) {
    if (s.contextTokens === undefined) continue;
    if (!series.has(s.benchmark)) series.set(s.benchmark, new Map());
    const m = series.get(s.benchmark)!;
    // Bucket lengths to powers of two so items of similar length share a point.
    const x = 2 ** Math.round(Math.log2(Math.max(1, s.contextTokens)));
    if (!m.has(x)) m.set(x, []);
    m.get(x)!.push(s.score);
  }
  const W = 640, H = 360, L = 60, R = 160, T = 20, B = 50;
  const xs = [...series.values()].flatMap((m) => [...m.keys()]);
  const x0 = Math.log2(Math.min(...xs, 1024)), x1 = Math.log2(Math.max(...xs, 2048));
  const px = (x: number) => L + ((Math.log2(x) - x0) / Math.max(1e-9, x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - y) * (H - T - B);
  const out = [
    `<line x1="${L}" y1="${py(0)}" x2="${W - R}" y2="${py(0)}" stroke="black"/>`,
    `<line x1="${L}" y1="${py(0)}" x2="${L}" y2="${py(1)}" stroke="black"/>`,
  ];
  for (const y of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(`<text x="${L - 8}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(2)}</text>`);
    out.push(`<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#ddd"/>`);
  }
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    const x = 2 ** e;
    const label = x >= 1024 ? `${x / 1024}K` : String(x);
    out.push(`<text x="${px(x)}" y="${H - B + 18}" text-anchor="middle">${label}</text>`);
  }
  out.push(
    `<text x="${(L + W - R) / 2}" y="${
      H - 10
    }" text-anchor="middle">context length (tokens)</text>`,
  );
  [...series.keys()].sort().forEach((name, i) => {
    const m = series.get(name)!;
    const pts = [...m.keys()].sort((a, b) => a - b).map((x) => [px(x), py(avg(m.get(x)!))]);
    const c = PALETTE[i % PALETTE.length];
    out.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2" points="${
        pts.map((p) => p.join(",")).join(" ")
      }"/>`,
    );
    for (const [x, y] of pts) out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${c}"/>`);
    out.push(
      `<text x="${W - R + 10}" y="${T + 16 * (i + 1)}" fill="${c}">${escapeXml(name)}</text>`,
    );
  });
  return svgDocument(W, H, out);
}
