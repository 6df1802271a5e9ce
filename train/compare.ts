/**
 * Comparing training runs by method, with seeds as repeats: the study behind
 * docs/experiments/tmn-vs-grpo.md. Runs are grouped by a config key (`train.estimator` by
 * default) and by `seed`; each run's held-out evaluation at its first and last logged step
 * (val.jsonl) gives the figures:
 *
 * - per method, the final held-out reward and its change from the start, as the mean over seeds
 *   with a 95% Student-t interval (seeds are the unit: k seeds give k - 1 degrees of freedom);
 * - against a baseline method, paired differences: per seed (same seed, same prompts), and per
 *   prompt (each prompt's difference averaged over the seeds both methods ran);
 * - per task, the final reward of each method over seeds;
 * - a check that every run started from the same evaluation (same model, same prompts), and for
 *   runs repeated with the same method and seed, how far apart they ended (reproducibility);
 * - curves: train reward, and the per-task statistics TMN logs (S_k and the weights).
 *
 * Inputs are read with train/report.ts's tolerant reader; a run without a held-out evaluation is
 * listed and left out of the figures.
 */
import { InputError } from "../core/errors.ts";
import { joinPath, writeFileAtomic } from "../core/fsutil.ts";
import { barChart, type BarGroup, lineChartGrid, type Panel, seriesStyle } from "../core/svg.ts";
import { type Ci, ci95, finiteJson, mean } from "./log.ts";
import {
  getPath,
  isNum,
  isObj,
  mdText,
  readRun,
  type RunData,
  smooth,
  smoothingWeight,
  type ValRecord,
} from "./report.ts";

/** One run of the study. */
export interface StudyRun {
  dir: string;
  method: string;
  seed: number;
  steps: number;
  start: ValRecord | null;
  end: ValRecord | null;
  data: RunData;
}

/** The figures of one method over its seeds. */
export interface MethodFigures {
  method: string;
  seeds: number[];
  end: Ci;
  change: Ci;
  byTask: Record<string, Ci>;
  /** Paired against the baseline; null for the baseline itself or without shared seeds. */
  vsBaseline: { seeds: number[]; bySeed: Ci; byPrompt: Ci | null } | null;
}

export interface Comparison {
  key: string;
  baseline: string;
  runs: StudyRun[];
  methods: MethodFigures[];
  tasks: string[];
  /** Whether every evaluated run's start evaluation gave the same per-sample rewards. */
  sameStart: boolean | null;
  /** Runs with the same method and seed: how far apart they ended. */
  repeats: { method: string; seed: number; dirs: string[]; endDiff: number; maxStepDiff: number }[];
  /** Config keys whose values differ between runs (besides the method key and seed). */
  differing: string[];
  warnings: string[];
}

type Rec = Record<string, unknown>;

/** Dotted paths of every leaf of an object. */
function leaves(cfg: Rec, prefix = ""): string[] {
  return Object.entries(cfg).flatMap(([k, v]) =>
    isObj(v) ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`]
  );
}

/** Mean per-sample difference a - b when both evaluated the same number of samples. */
function pairedDiffs(a: ValRecord | null, b: ValRecord | null): number[] | null {
  if (!a?.rewards || !b?.rewards || a.rewards.length !== b.rewards.length) return null;
  return a.rewards.map((x, i) => x - b.rewards![i]);
}

/** Reads the runs and computes the study's figures. */
export async function compareRuns(
  dirs: string[],
  opts: { key?: string; baseline?: string } = {},
): Promise<Comparison> {
  if (dirs.length < 2) throw new InputError("compare needs at least two run folders");
  const key = opts.key ?? "train.estimator";
  const warnings: string[] = [];
  const runs: StudyRun[] = [];
  for (const dir of dirs) {
    const data = await readRun(dir);
    for (const p of data.problems.slice(0, 3)) warnings.push(p);
    const method = getPath(data.config, key);
    const seed = getPath(data.config, "seed");
    if (typeof method !== "string" && typeof method !== "number") {
      throw new InputError(
        "missing: the method key is read from the run's config",
        joinPath(dir, "config.json"),
        undefined,
        key,
      );
    }
    const evals = data.val.filter((v) => isNum(v.mean));
    runs.push({
      dir,
      method: String(method),
      seed: isNum(seed) ? seed : 0,
      steps: data.rl.length ? data.rl[data.rl.length - 1].step : 0,
      start: evals.length > 1 && evals[0].step === 0 ? evals[0] : null,
      end: evals.length && evals[evals.length - 1].step > 0 ? evals[evals.length - 1] : null,
      data,
    });
  }
  for (const r of runs) {
    if (!r.start || !r.end) {
      warnings.push(`${r.dir}: no held-out evaluation at step 0 and at a later step; left out`);
    }
  }
  const done = runs.filter((r) => r.start && r.end);
  const lastSteps = new Set(done.map((r) => r.end!.step));
  if (lastSteps.size > 1) {
    warnings.push(`runs end at different steps (${[...lastSteps].join(", ")}): unequal budgets`);
  }

  // Repeats: the first run of a (method, seed) is the one used; later ones measure reproducibility.
  const firstOf = new Map<string, StudyRun>();
  const repeats: Comparison["repeats"] = [];
  for (const r of done) {
    const id = `${r.method}\u0000${r.seed}`;
    const first = firstOf.get(id);
    if (!first) {
      firstOf.set(id, r);
      continue;
    }
    const rewardAt = (d: RunData) => new Map(d.rl.map((s) => [s.step, s.rec.reward_mean]));
    const a = rewardAt(first.data), b = rewardAt(r.data);
    let maxStepDiff = 0;
    for (const [step, x] of a) {
      const y = b.get(step);
      if (isNum(x) && isNum(y)) maxStepDiff = Math.max(maxStepDiff, Math.abs(x - y));
    }
    repeats.push({
      method: r.method,
      seed: r.seed,
      dirs: [first.dir, r.dir],
      endDiff: r.end!.mean! - first.end!.mean!,
      maxStepDiff,
    });
  }
  const used = [...firstOf.values()];

  const starts = used.map((r) => r.start!.rewards);
  const sameStart = starts.some((s) => !s)
    ? null
    : starts.every((s) => JSON.stringify(s) === JSON.stringify(starts[0]));
  if (sameStart === false) {
    warnings.push("the runs' start evaluations differ: not the same start model or prompts");
  }

  const methodNames = [...new Set(used.map((r) => r.method))];
  const baseline = opts.baseline ?? (methodNames.includes("grpo") ? "grpo" : methodNames[0]);
  if (!methodNames.includes(baseline)) {
    throw new InputError(`baseline "${baseline}" is not among the methods: ${methodNames}`);
  }
  const tasks = [...new Set(used.flatMap((r) => Object.keys(r.end!.byTask)))].sort();
  const bySeed = (m: string) =>
    new Map(used.filter((r) => r.method === m).map((r) => [r.seed, r] as const));
  const base = bySeed(baseline);
  const methods: MethodFigures[] = [baseline, ...methodNames.filter((m) => m !== baseline)].map(
    (m) => {
      const rs = [...bySeed(m).values()].sort((a, b) => a.seed - b.seed);
      const byTask: Record<string, Ci> = {};
      for (const t of tasks) {
        const xs = rs.map((r) => r.end!.byTask[t]?.mean).filter(isNum);
        if (xs.length) byTask[t] = ci95(xs);
      }
      let vsBaseline: MethodFigures["vsBaseline"] = null;
      if (m !== baseline) {
        const shared = rs.filter((r) => base.has(r.seed));
        const diffs = shared.map((r) => pairedDiffs(r.end, base.get(r.seed)!.end));
        let byPrompt: Ci | null = null;
        if (shared.length && diffs.every((d) => d !== null)) {
          const n = diffs[0]!.length;
          if (diffs.every((d) => d!.length === n)) {
            byPrompt = ci95(
              Array.from({ length: n }, (_, i) => mean(diffs.map((d) => d![i]))),
            );
          }
        }
        if (shared.length) {
          vsBaseline = {
            seeds: shared.map((r) => r.seed),
            bySeed: ci95(shared.map((r) => r.end!.mean! - base.get(r.seed)!.end!.mean!)),
            byPrompt,
          };
        }
      }
      return {
        method: m,
        seeds: rs.map((r) => r.seed),
        end: ci95(rs.map((r) => r.end!.mean!)),
        change: ci95(rs.map((r) => r.end!.mean! - r.start!.mean!)),
        byTask,
        vsBaseline,
      };
    },
  );

  // Config keys that differ between the runs, besides the method and the seed.
  const configs = used.map((r) => r.data.config ?? {});
  const differing = [...new Set(configs.flatMap((c) => leaves(c)))]
    .filter((k) => k !== key && k !== "seed" && !k.startsWith("log.") && k !== "model.path")
    .filter((k) => new Set(configs.map((c) => JSON.stringify(getPath(c, k)))).size > 1);
  if (differing.length) warnings.push(`settings differ between runs: ${differing.join(", ")}`);

  return { key, baseline, runs, methods, tasks, sameStart, repeats, differing, warnings };
}

// ---------------------------------------------------------------------------
// Report

const f3 = (x: number) => (isNum(x) ? x.toFixed(3).replace(/^-/, "−") : "–");
const signed = (x: number) => (isNum(x) ? (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(3) : "–");
/** "+0.012 [−0.010, +0.034]"; without an interval (one seed) just the mean. */
function ciText(c: Ci, sign = false): string {
  const v = sign ? signed : f3;
  return isNum(c.lo) ? `${v(c.mean)} [${v(c.lo)}, ${v(c.hi)}]` : v(c.mean);
}
/** Whether the interval excludes zero. */
const excludesZero = (c: Ci) => isNum(c.lo) && (c.lo > 0 || c.hi < 0);

/** One line per non-baseline method: its paired difference and whether it is distinguishable. */
export function verdicts(c: Comparison): string[] {
  return c.methods.filter((m) => m.vsBaseline).map((m) => {
    const v = m.vsBaseline!;
    const d = v.byPrompt ?? v.bySeed;
    const what = v.byPrompt ? "per prompt" : "per seed";
    return `${m.method} − ${c.baseline}: ${
      ciText(d, true)
    } held-out reward (${what}, ${v.seeds.length} ` +
      `seed${v.seeds.length === 1 ? "" : "s"}): ${
        excludesZero(d) ? (d.mean > 0 ? "better" : "worse") + " at 95%" : "no difference at 95%"
      }`;
  });
}

function table(head: string[], rows: string[][], align: string[]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `|${align.join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

/** The study's Markdown (charts are linked by file name). */
export function comparisonMarkdown(c: Comparison, charts: string[], title: string): string {
  const L: string[] = [`# ${mdText(title)}`, ""];
  L.push(
    `Methods by \`${c.key}\`; baseline \`${c.baseline}\`. Intervals are 95% (Student's t over ` +
      "seeds, or over prompts for the per-prompt paired difference). Held-out reward: the mean " +
      "verifier reward of one greedy response per held-out prompt.",
    "",
  );
  L.push("## Result", "", ...verdicts(c).map((v) => `- ${v}`), "");
  L.push("## Held-out reward by method", "");
  L.push(
    ...table(
      [
        "method",
        "seeds",
        "start",
        "end",
        "change from start",
        `end − ${c.baseline} (per seed)`,
        `end − ${c.baseline} (per prompt)`,
      ],
      c.methods.map((m) => {
        const start = c.runs.find((r) => r.method === m.method && r.start)?.start?.mean;
        return [
          `\`${m.method}\``,
          String(m.seeds.length),
          f3(start ?? NaN),
          ciText(m.end),
          ciText(m.change, true),
          m.vsBaseline ? ciText(m.vsBaseline.bySeed, true) : "baseline",
          m.vsBaseline?.byPrompt ? ciText(m.vsBaseline.byPrompt, true) : m.vsBaseline ? "–" : "",
        ];
      }),
      ["---", "---:", "---:", "---:", "---:", "---:", "---:"],
    ),
    "",
  );
  L.push("## Held-out reward by task (end, mean over seeds)", "");
  // The start is the same evaluation in every run (checked below); the first run's stands for all.
  const first = c.runs.find((r) => r.start && r.end);
  L.push(
    ...table(
      ["task", "prompts", "start", ...c.methods.map((m) => `\`${m.method}\``)],
      c.tasks.map((t) => [
        mdText(t),
        String(first?.end?.byTask[t]?.n ?? "–"),
        f3(first?.start?.byTask[t]?.mean ?? NaN),
        ...c.methods.map((m) => m.byTask[t] ? ciText(m.byTask[t]) : "–"),
      ]),
      ["---", "---:", "---:", ...c.methods.map(() => "---:")],
    ),
    "",
  );
  L.push("## Runs", "");
  L.push(
    ...table(
      ["method", "seed", "steps", "start", "end", "change", "folder"],
      c.runs.map((r) => [
        `\`${r.method}\``,
        String(r.seed),
        String(r.steps),
        f3(r.start?.mean ?? NaN),
        f3(r.end?.mean ?? NaN),
        r.start && r.end ? signed(r.end.mean! - r.start.mean!) : "–",
        `\`${mdText(r.dir)}\``,
      ]),
      ["---", "---:", "---:", "---:", "---:", "---:", "---"],
    ),
    "",
  );
  L.push(
    c.sameStart === null
      ? "- Start evaluations: per-sample rewards not logged; not checked."
      : `- Start evaluations: ${
        c.sameStart ? "identical in every run (same start model, same prompts)" : "**differ**"
      }.`,
  );
  for (const r of c.repeats) {
    L.push(
      `- Reproduced \`${r.method}\` seed ${r.seed} (${
        r.dirs.map((d) => `\`${mdText(d)}\``).join(" vs ")
      }): ` +
        `end held-out reward differs by ${signed(r.endDiff)}, train reward per step by at most ` +
        `${f3(r.maxStepDiff)}.`,
    );
  }
  for (const w of c.warnings) L.push(`- Warning: ${mdText(w)}`);
  L.push("", "## Curves", "", ...charts.map((f) => `![${f}](${f})`), "");
  return L.join("\n");
}

/** Mean over seeds at each step of a per-step number (or of one key of a per-step map). */
function meanCurve(
  runs: StudyRun[],
  get: (rec: Rec) => unknown,
): { x: number[]; y: (number | undefined)[] } {
  const acc = new Map<number, number[]>();
  for (const r of runs) {
    for (const s of r.data.rl) {
      const v = get(s.rec);
      if (!isNum(v)) continue;
      if (!acc.has(s.step)) acc.set(s.step, []);
      acc.get(s.step)!.push(v);
    }
  }
  const x = [...acc.keys()].sort((a, b) => a - b);
  return { x, y: x.map((s) => mean(acc.get(s)!)) };
}

/** Panels of one quantity, one line per method (mean over seeds, smoothed). */
function methodPanels(
  c: Comparison,
  names: string[],
  get: (name: string) => (rec: Rec) => unknown,
  methods = c.methods.map((m) => m.method),
): Panel[] {
  return names.map((name) => ({
    title: name,
    xLabel: "step",
    series: methods.map((m, i) => {
      const runs = c.runs.filter((r) => r.method === m);
      const { x, y } = meanCurve(runs, get(name));
      return { name: m, x, y: smooth(y, smoothingWeight(x.length)), ...seriesStyle(i), width: 2 };
    }).filter((s) => s.x.length > 0),
  })).filter((p) => p.series.length > 0);
}

/** The study's charts: file name → SVG. */
export function comparisonCharts(c: Comparison): Record<string, string> {
  const out: Record<string, string> = {};
  const names = c.methods.map((m) => m.method);
  const groups: BarGroup[] = ["all tasks", ...c.tasks].map((t) => {
    const pick = (m: MethodFigures) => t === "all tasks" ? m.end : m.byTask[t];
    return {
      label: t,
      values: c.methods.map((m) => pick(m)?.mean ?? null),
      errors: c.methods.map((m) => {
        const ci = pick(m);
        return ci && isNum(ci.hi) ? ci.hi - ci.mean : null;
      }),
    };
  });
  out["heldout_by_method.svg"] = barChart(groups, {
    title: "Held-out reward at the end, by method",
    yLabel: "reward",
    series: names.map((n, i) => ({ name: n, color: seriesStyle(i).color })),
    note: "mean over seeds; error bars: 95% interval over seeds",
  });
  const rewardPanels = methodPanels(
    c,
    ["all tasks", ...c.tasks],
    (t) => (rec) =>
      t === "all tasks"
        ? rec.reward_mean
        : isObj(rec.reward_by_task)
        ? rec.reward_by_task[t]
        : undefined,
  );
  out["train_reward_by_method.svg"] = lineChartGrid(rewardPanels, {
    title: "Train reward by method",
    note: "mean over seeds of each step's rollouts, moving average",
    columns: 3,
    panelWidth: 330,
    panelHeight: 210,
  });
  // TMN's per-task statistics exist only for the estimators that compute them.
  for (
    const [field, file, title] of [
      ["task_scale", "task_scale.svg", "S_k per task group (TMN's scale)"],
      ["weight_mean_by_task", "task_weights.svg", "Mean difficulty weight per task group"],
    ] as const
  ) {
    const keys = [
      ...new Set(
        c.runs.flatMap((r) =>
          r.data.rl.flatMap((s) => isObj(s.rec[field]) ? Object.keys(s.rec[field] as Rec) : [])
        ),
      ),
    ].sort().slice(0, 32);
    if (!keys.length) continue;
    const panels = methodPanels(
      c,
      keys,
      (k) => (rec) => isObj(rec[field]) ? (rec[field] as Rec)[k] : undefined,
    );
    out[file] = lineChartGrid(panels, {
      title,
      note: "mean over seeds, moving average; keys are the estimator's task groups",
      columns: 3,
      panelWidth: 330,
      panelHeight: 210,
    });
  }
  return out;
}

/** Compares runs and writes OUT/compare.md, compare.json and the charts. */
export async function writeComparison(
  dirs: string[],
  opts: { out: string; key?: string; baseline?: string; title?: string },
): Promise<{ path: string; summary: string[]; files: string[] }> {
  const c = await compareRuns(dirs, opts);
  await Deno.mkdir(opts.out, { recursive: true });
  const charts = comparisonCharts(c);
  const files: string[] = [];
  for (const [name, svg] of Object.entries(charts)) {
    await writeFileAtomic(joinPath(opts.out, name), svg);
    files.push(joinPath(opts.out, name));
  }
  const path = joinPath(opts.out, "compare.md");
  await writeFileAtomic(
    path,
    comparisonMarkdown(c, Object.keys(charts), opts.title ?? "Comparison of training runs"),
  );
  const { runs, ...rest } = c;
  await writeFileAtomic(
    joinPath(opts.out, "compare.json"),
    finiteJson(
      {
        ...rest,
        runs: runs.map(({ data: _d, start, end, ...r }) => ({
          ...r,
          start: start?.mean ?? null,
          end: end?.mean ?? null,
        })),
      },
      2,
    ) + "\n",
  );
  files.unshift(path, joinPath(opts.out, "compare.json"));
  return { path, summary: verdicts(c), files };
}
