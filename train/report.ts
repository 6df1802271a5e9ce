/**
 * The training report: reads a run folder (config.json, metrics.jsonl, val.jsonl,
 * eval_before/ and eval_after/ results) and writes report.md plus SVG curves per
 * task. Every input is untrusted: bad lines become warnings naming file and line,
 * missing keys leave gaps, and only the metrics file itself is required.
 */
import { InputError } from "../core/errors.ts";
import { joinPath, writeFileAtomic } from "../core/fsutil.ts";
import { readJsonlLines } from "../core/jsonl.ts";
import { poolsByTask } from "./advantage.ts";
import { mean } from "./log.ts";
import {
  barChart,
  type BarGroup,
  extent,
  lineChart,
  lineChartGrid,
  type Panel,
  type Series,
  seriesStyle,
} from "../core/svg.ts";

type Rec = Record<string, unknown>;

/** One step's metrics line (the last one written for that step). */
export interface StepRecord {
  step: number;
  phase: "rl" | "sft";
  rec: Rec;
}

export interface ValRecord {
  step: number;
  mean?: number;
  se?: number;
  n?: number;
  byTask: Record<string, { mean?: number; se?: number; n?: number }>;
  /** Each held-out sample's reward, in held-out order (absent in older logs). */
  rewards?: number[];
}

export interface EvalSummary {
  n: number;
  mean: number;
  stderr: number;
}

/** The part of eval/report.ts's Results the report reads. */
export interface EvalResults {
  model?: string;
  benchmarks: Record<string, EvalSummary & { subsets?: Record<string, EvalSummary> }>;
}

export interface RunData {
  dir: string;
  config: Rec | null;
  rl: StepRecord[];
  sft: StepRecord[];
  /** Lines superseded by a later line for the same step (a resumed run). */
  repeatedLines: number;
  val: ValRecord[];
  before: EvalResults | null;
  after: EvalResults | null;
  /** Problems with the inputs: bad lines, unreadable optional files. */
  problems: string[];
}

/** Mean of the first and of the last few steps. */
export interface StartEnd {
  start: number;
  end: number;
  delta: number;
  /** Steps averaged at each end. */
  window: number;
  steps: number;
}

/** A change between two measurements with standard errors. */
export interface Change {
  label: string;
  before: EvalSummary;
  after: EvalSummary;
  delta: number;
  /** sqrt(se1² + se2²). */
  se: number;
  /** |delta| > 2·se; null when either side has fewer than 2 items (no standard error). */
  significant: boolean | null;
}

export interface HeldOut {
  firstStep: number;
  lastStep: number;
  overall: Change | null;
  byTask: Change[];
}

export interface Timing {
  phase: string;
  seconds: number;
  share: number;
}

export interface RunFigures {
  rlSteps: number;
  sftSteps: number;
  lastStep: number | null;
  repeatedLines: number;
  reward: StartEnd | null;
  rewardByTask: Record<string, StartEnd>;
  sftLoss: StartEnd | null;
  heldOut: HeldOut | null;
  beforeAfter: Change[] | null;
  timing: Timing[];
  skippedSteps: number[];
  verifierErrors: Record<string, number>;
  /** Share of responses cut at the length limit: mean, mean of the last steps, max. */
  clip: { mean: number; recent: number; max: number; maxStep: number } | null;
  tasks: string[];
  warnings: string[];
}

export interface RunReport {
  /** Path of report.md. */
  path: string;
  /** Three lines for the console. */
  summary: string[];
  /** Every file written (report.md first). */
  files: string[];
  figures: RunFigures;
}

/** Steps averaged at each end for start → end figures. */
export const END_WINDOW = 3;
/**
 * Weight of the debiased exponential moving average drawn over raw curves: light
 * (0.6, about 4 steps) on short runs, spanning about 1/30 of the run on long ones.
 */
export function smoothingWeight(points: number): number {
  const span = Math.max(4, points / 30);
  return Number((1 - 2 / (span + 1)).toFixed(4));
}
/** Response clip ratio (share of responses cut at the length limit) worth a warning. */
export const CLIP_WARN = 0.1;
/** Steps at the end whose mean clip ratio is checked (the run's present state). */
const CLIP_RECENT = 10;
/** Most tasks drawn and tabulated; a hostile file with thousands is cut here. */
export const MAX_TASKS = 32;
const MAX_LINES = 1_000_000;
const MAX_PROBLEMS_SHOWN = 10;

// ---------------------------------------------------------------------------
// Reading

/** A finite number. */
export const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
/** A plain object (not null, not an array). */
export const isObj = (x: unknown): x is Rec =>
  x !== null && typeof x === "object" && !Array.isArray(x);

/** A finite number at `key`, or undefined. */
function num(r: Rec, key: string): number | undefined {
  const v = r[key];
  return isNum(v) ? v : undefined;
}

/** The finite numbers of the object at `key` ({task: value}). */
function numMap(r: Rec, key: string): Record<string, number> {
  const v = r[key];
  if (!isObj(v)) return {};
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) if (isNum(x)) out[k] = x;
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Reads JSONL keyed by step; the last line for a step wins. */
async function readStepLines(
  path: string,
  problems: string[],
): Promise<{ lines: { line: number; rec: Rec; step: number }[]; repeated: number }> {
  const byKey = new Map<string, { line: number; rec: Rec; step: number }>();
  let repeated = 0, count = 0;
  for await (const r of readJsonlLines(path)) {
    if (++count > MAX_LINES) {
      problems.push(`${path}: more than ${MAX_LINES} lines; the rest is not read`);
      break;
    }
    if ("error" in r) {
      problems.push(r.error.message);
      continue;
    }
    const step = r.value.step;
    if (typeof step !== "number" || !Number.isInteger(step) || step < 0) {
      problems.push(
        new InputError("not a step number (a non-negative integer)", path, r.line, "step").message,
      );
      continue;
    }
    const key = `${phaseOf(r.value)}:${step}`;
    if (byKey.has(key)) {
      repeated++;
      byKey.delete(key); // re-insert so the map keeps the order of the winning lines
    }
    byKey.set(key, { line: r.line, rec: r.value, step });
  }
  return { lines: [...byKey.values()], repeated };
}

function phaseOf(r: Rec): "rl" | "sft" {
  if (r.phase === "sft" || r.phase === "rl") return r.phase;
  return "loss" in r && !("reward_mean" in r) ? "sft" : "rl";
}

async function readJsonFile(path: string, problems: string[]): Promise<Rec | null> {
  if (!(await exists(path))) return null;
  try {
    const v = JSON.parse(await Deno.readTextFile(path));
    if (isObj(v)) return v;
    problems.push(`${path}: expected a JSON object`);
  } catch (e) {
    problems.push(`${path}: ${(e as Error).message}`);
  }
  return null;
}

function summaryOf(v: unknown): EvalSummary | null {
  if (!isObj(v) || !isNum(v.mean)) return null;
  return {
    mean: v.mean,
    n: isNum(v.n) ? v.n : 0,
    stderr: isNum(v.stderr) ? v.stderr : 0,
  };
}

async function readResults(path: string, problems: string[]): Promise<EvalResults | null> {
  const r = await readJsonFile(path, problems);
  if (!r) return null;
  if (!isObj(r.benchmarks)) {
    problems.push(`${path}: field "benchmarks": expected an object (eval's results.json)`);
    return null;
  }
  const benchmarks: EvalResults["benchmarks"] = {};
  for (const [name, b] of Object.entries(r.benchmarks)) {
    const s = summaryOf(b);
    if (!s) continue;
    const subsets: Record<string, EvalSummary> = {};
    if (isObj(b) && isObj(b.subsets)) {
      for (const [k, v] of Object.entries(b.subsets)) {
        const t = summaryOf(v);
        if (t) subsets[k] = t;
      }
    }
    benchmarks[name] = { ...s, subsets };
  }
  return { model: typeof r.model === "string" ? r.model : undefined, benchmarks };
}

/** Reads a run folder. Only metrics.jsonl is required; it must hold at least one step. */
export async function readRun(dir: string): Promise<RunData> {
  const problems: string[] = [];
  const metricsPath = joinPath(dir, "metrics.jsonl");
  if (!(await exists(metricsPath))) {
    throw new InputError(
      "no metrics: the trainer writes one line per step here; is this a run folder?",
      metricsPath,
    );
  }
  const metrics = await readStepLines(metricsPath, problems);
  if (!metrics.lines.length) {
    throw new InputError(
      `no step lines${problems.length ? ` (${problems[0]})` : ""}`,
      metricsPath,
    );
  }
  const steps = metrics.lines.map((l) => ({ step: l.step, phase: phaseOf(l.rec), rec: l.rec }))
    .sort((a, b) => a.step - b.step);
  const val: ValRecord[] = [];
  const valPath = joinPath(dir, "val.jsonl");
  if (await exists(valPath)) {
    for (const { rec, step } of (await readStepLines(valPath, problems)).lines) {
      const byTask: ValRecord["byTask"] = {};
      const t = rec.reward_by_task;
      if (isObj(t)) {
        for (const [k, v] of Object.entries(t)) {
          if (isObj(v)) byTask[k] = { mean: num(v, "mean"), se: num(v, "se"), n: num(v, "n") };
          else if (isNum(v)) byTask[k] = { mean: v };
        }
      }
      val.push({
        step,
        mean: num(rec, "reward_mean"),
        se: num(rec, "reward_se"),
        n: num(rec, "n"),
        byTask,
        rewards: Array.isArray(rec.rewards) && rec.rewards.length <= MAX_LINES &&
            rec.rewards.every(isNum)
          ? rec.rewards
          : undefined,
      });
    }
    val.sort((a, b) => a.step - b.step);
  }
  return {
    dir,
    config: await readJsonFile(joinPath(dir, "config.json"), problems),
    rl: steps.filter((s) => s.phase === "rl"),
    sft: steps.filter((s) => s.phase === "sft"),
    repeatedLines: metrics.repeated,
    val,
    before: await readResults(joinPath(dir, "eval_before", "results.json"), problems),
    after: await readResults(joinPath(dir, "eval_after", "results.json"), problems),
    problems,
  };
}

// ---------------------------------------------------------------------------
// Figures

/** Mean of the first and last `window` finite values (in step order). */
export function startEnd(values: (number | undefined)[], window = END_WINDOW): StartEnd | null {
  const xs = values.filter(isNum);
  if (!xs.length) return null;
  const w = Math.min(window, xs.length);
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const start = mean(xs.slice(0, w)), end = mean(xs.slice(-w));
  return { start, end, delta: end - start, window: w, steps: xs.length };
}

/** A change with its combined standard error and the 2-SE test. */
export function change(label: string, before: EvalSummary, after: EvalSummary): Change {
  const delta = after.mean - before.mean;
  const se = Math.sqrt(before.stderr ** 2 + after.stderr ** 2);
  const significant = before.n < 2 || after.n < 2 ? null : Math.abs(delta) > 2 * se;
  return { label, before, after, delta, se, significant };
}

/**
 * Before/after rows: per task (the subsets of the benchmark "ours") and overall,
 * then every other benchmark both evaluations ran.
 */
export function beforeAfterChanges(before: EvalResults, after: EvalResults): Change[] {
  const rows: Change[] = [];
  const names = Object.keys(before.benchmarks).filter((b) => b in after.benchmarks).sort((a, b) =>
    a === "ours" ? -1 : b === "ours" ? 1 : a < b ? -1 : 1
  );
  for (const name of names) {
    const b = before.benchmarks[name], a = after.benchmarks[name];
    const prefix = name === "ours" ? "" : `${name}/`;
    const subs = Object.keys(b.subsets ?? {}).filter((k) => k in (a.subsets ?? {})).sort();
    for (const k of subs) rows.push(change(`${prefix}${k}`, b.subsets![k], a.subsets![k]));
    rows.push(change(name === "ours" ? "all tasks" : name, b, a));
  }
  return rows;
}

function heldOut(val: ValRecord[]): HeldOut | null {
  const asSummary = (m?: number, se?: number, n?: number): EvalSummary | null =>
    m === undefined ? null : { mean: m, stderr: se ?? 0, n: n ?? 0 };
  const first = val.find((v) => v.mean !== undefined),
    last = val.findLast((v) => v.mean !== undefined);
  if (!first || !last) return null;
  const overall = first === last ? null : change(
    "all tasks",
    asSummary(first.mean, first.se, first.n)!,
    asSummary(last.mean, last.se, last.n)!,
  );
  const tasks = [...new Set(val.flatMap((v) => Object.keys(v.byTask)))].sort();
  const byTask: Change[] = [];
  for (const t of tasks.slice(0, MAX_TASKS)) {
    const pts = val.filter((v) => v.byTask[t]?.mean !== undefined);
    if (pts.length < 2) continue;
    const f = pts[0].byTask[t], l = pts[pts.length - 1].byTask[t];
    byTask.push(change(t, asSummary(f.mean, f.se, f.n)!, asSummary(l.mean, l.se, l.n)!));
  }
  return { firstStep: first.step, lastStep: last.step, overall, byTask };
}

const PHASE_ORDER = ["generate", "reward", "advantage", "old_logprob", "update"];

/** Mean seconds per phase over steps, and its share of the mean step time. */
export function timing(steps: StepRecord[]): Timing[] {
  const sums = new Map<string, number>(), counts = new Map<string, number>();
  let total = 0, totalN = 0;
  for (const s of steps) {
    const t = numMap(s.rec, "time");
    for (const [k, v] of Object.entries(t)) {
      if (k === "total") continue;
      sums.set(k, (sums.get(k) ?? 0) + v);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const tot = t.total ?? Object.entries(t).reduce((a, [, v]) => a + v, 0);
    if (Object.keys(t).length) total += tot, totalN++;
  }
  if (!totalN) return [];
  const meanTotal = total / totalN;
  const phases = [...sums.keys()].sort((a, b) => {
    const ia = PHASE_ORDER.indexOf(a), ib = PHASE_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
  }).slice(0, MAX_TASKS);
  const rows = phases.map((p) => ({ phase: p, seconds: sums.get(p)! / counts.get(p)! }));
  const other = meanTotal - rows.reduce((a, r) => a + r.seconds, 0);
  if (other > 0.005 * meanTotal) rows.push({ phase: "other", seconds: other });
  const out = rows.map((r) => ({ ...r, share: meanTotal > 0 ? r.seconds / meanTotal : 0 }));
  out.push({ phase: "total", seconds: meanTotal, share: 1 });
  return out;
}

function allTasks(d: RunData): string[] {
  const names = new Set<string>();
  for (const s of d.rl) for (const k of Object.keys(numMap(s.rec, "reward_by_task"))) names.add(k);
  for (const v of d.val) for (const k of Object.keys(v.byTask)) names.add(k);
  return [...names].sort();
}

/** Every figure the report shows, computed from the run's data. */
export function runFigures(d: RunData): RunFigures {
  const warnings: string[] = [];
  const allTaskNames = allTasks(d);
  if (allTaskNames.length > MAX_TASKS) {
    warnings.push(`${allTaskNames.length} task names; only the first ${MAX_TASKS} are shown`);
  }
  const tasks = allTaskNames.slice(0, MAX_TASKS);
  const rewardByTask: Record<string, StartEnd> = {};
  for (const t of tasks) {
    const se = startEnd(d.rl.map((s) => numMap(s.rec, "reward_by_task")[t]));
    if (se) rewardByTask[t] = se;
  }
  const skippedSteps = d.rl.filter((s) => s.rec.skipped === true).map((s) => s.step);
  const verifierErrors: Record<string, number> = {};
  for (const s of d.rl) {
    for (const [k, v] of Object.entries(numMap(s.rec, "verifier_errors"))) {
      verifierErrors[k] = (verifierErrors[k] ?? 0) + v;
    }
  }
  let clip: RunFigures["clip"] = null;
  const clips = d.rl.filter((s) => num(s.rec, "response_clip_ratio") !== undefined);
  if (clips.length) {
    const vals = clips.map((s) => num(s.rec, "response_clip_ratio")!);
    const max = extent(vals)![1];
    const recent = vals.slice(-CLIP_RECENT);
    clip = {
      mean: vals.reduce((a, b) => a + b, 0) / vals.length,
      recent: recent.reduce((a, b) => a + b, 0) / recent.length,
      max,
      maxStep: clips[vals.indexOf(max)].step,
    };
  }
  if (skippedSteps.length) {
    warnings.push(
      `${skippedSteps.length} step(s) skipped for non-finite loss or gradients: ${
        listSome(skippedSteps.map(String))
      }`,
    );
  }
  const errNames = Object.keys(verifierErrors).filter((k) => verifierErrors[k] > 0).sort();
  if (errNames.length) {
    warnings.push(
      `verifier errors (scored 0): ${listSome(errNames.map((k) => `${k} × ${verifierErrors[k]}`))}`,
    );
  }
  if (clip && (clip.mean >= CLIP_WARN || clip.recent >= CLIP_WARN)) {
    warnings.push(
      `responses cut at the length limit: ${pct(clip.mean)} on average, ${
        pct(clip.recent)
      } over the last ${Math.min(CLIP_RECENT, clips.length)} steps, ${
        pct(clip.max)
      } at most (step ${clip.maxStep}); truncated answers usually score 0 (raise the rollout's ` +
        "max new tokens or enable overlong shaping)",
    );
  }
  const est = getPath(d.config, "train.estimator");
  const single = d.rl.map((s) => num(s.rec, "single_group_task_frac")).filter(isNum);
  if (typeof est === "string" && poolsByTask(est) && single.length && mean(single) > 0.5) {
    warnings.push(
      `${pct(mean(single))} of the task keys in a batch had one prompt group on average: there ` +
        `${est} normalizes like grpo (S_k is the group's own std); raise ` +
        "train.prompts_per_step or narrow data.tasks to test task normalization",
    );
  }
  if (d.problems.length) {
    warnings.push(
      `${d.problems.length} input problem(s), skipped: ${
        d.problems.slice(0, MAX_PROBLEMS_SHOWN).join("; ")
      }${d.problems.length > MAX_PROBLEMS_SHOWN ? "; ..." : ""}`,
    );
  }
  const all = [...d.rl, ...d.sft];
  return {
    rlSteps: d.rl.length,
    sftSteps: d.sft.length,
    lastStep: extent(all.map((s) => s.step))?.[1] ?? null,
    repeatedLines: d.repeatedLines,
    reward: startEnd(d.rl.map((s) => num(s.rec, "reward_mean"))),
    rewardByTask,
    sftLoss: startEnd(d.sft.map((s) => num(s.rec, "loss"))),
    heldOut: heldOut(d.val),
    beforeAfter: d.before && d.after ? beforeAfterChanges(d.before, d.after) : null,
    timing: timing(d.rl.length ? d.rl : d.sft),
    skippedSteps,
    verifierErrors,
    clip,
    tasks,
    warnings,
  };
}

function listSome(xs: string[], max = 12): string {
  return xs.slice(0, max).join(", ") + (xs.length > max ? `, ... (${xs.length} in all)` : "");
}

// ---------------------------------------------------------------------------
// Charts

/** Debiased exponential moving average (as TensorBoard draws it); gaps stay gaps. */
export function smooth(
  ys: (number | undefined)[],
  weight = smoothingWeight(ys.length),
): (number | undefined)[] {
  let acc = 0, n = 0;
  return ys.map((y) => {
    if (!isNum(y)) return undefined;
    acc = acc * weight + (1 - weight) * y;
    n++;
    return acc / (1 - weight ** n);
  });
}

const OVERALL_COLOR = "#000000";
const PALETTE_A = "#1f77b4", PALETTE_B = "#ff7f0e", PALETTE_C = "#2ca02c";

function taskColors(tasks: string[]): Map<string, { color: string; dash?: string }> {
  return new Map(tasks.map((t, i) => [t, seriesStyle(i)]));
}

/** Raw (faint) and smoothed series of one quantity. */
function smoothedPair(
  name: string,
  x: number[],
  y: (number | undefined)[],
  color: string,
  weight: number,
) {
  return [
    { name: `${name} (raw)`, x, y, color, width: 1, opacity: 0.3, noLegend: true, markers: false },
    { name, x, y: smooth(y, weight), color, width: 2 },
  ] satisfies Series[];
}

/** Train reward: one panel for the overall mean, one per task. */
export function rewardChart(d: RunData, tasks: string[]): string {
  const x = d.rl.map((s) => s.step);
  const colors = taskColors(tasks);
  const weight = smoothingWeight(d.rl.length);
  const panels: Panel[] = [{
    title: "all tasks",
    xLabel: "step",
    series: smoothedPair(
      "all tasks",
      x,
      d.rl.map((s) => num(s.rec, "reward_mean")),
      OVERALL_COLOR,
      weight,
    ),
  }];
  for (const t of tasks) {
    const pts = d.rl.filter((s) => numMap(s.rec, "reward_by_task")[t] !== undefined);
    panels.push({
      title: t,
      xLabel: "step",
      series: smoothedPair(
        t,
        pts.map((s) => s.step),
        pts.map((s) => numMap(s.rec, "reward_by_task")[t]),
        colors.get(t)!.color,
        weight,
      ),
    });
  }
  return lineChartGrid(panels, {
    title: "Train reward per task",
    note: `mean reward of the step's rollouts; lines: moving average (EMA ${weight}), faint: raw`,
    columns: Math.min(3, panels.length),
    panelWidth: 360,
    panelHeight: 230,
    legend: false,
  });
}

/** Held-out reward with a ± standard-error band: overall, then per task. */
export function heldOutChart(d: RunData, tasks: string[]): string {
  const colors = taskColors(tasks);
  const bandSeries = (
    name: string,
    pts: { step: number; mean?: number; se?: number }[],
    c: string,
  ) =>
    [{
      name,
      x: pts.map((p) => p.step),
      y: pts.map((p) => p.mean),
      band: {
        lo: pts.map((p) => p.mean !== undefined ? p.mean - (p.se ?? 0) : undefined),
        hi: pts.map((p) => p.mean !== undefined ? p.mean + (p.se ?? 0) : undefined),
      },
      color: c,
      markers: true,
    }] satisfies Series[];
  const panels: Panel[] = [{
    title: "all tasks",
    xLabel: "step",
    series: bandSeries("all tasks", d.val, OVERALL_COLOR),
  }];
  for (const t of tasks) {
    const pts = d.val.filter((v) => v.byTask[t]?.mean !== undefined).map((v) => ({
      step: v.step,
      ...v.byTask[t],
    }));
    if (pts.length) {
      panels.push({ title: t, xLabel: "step", series: bandSeries(t, pts, colors.get(t)!.color) });
    }
  }
  return lineChartGrid(panels, {
    title: "Held-out reward",
    note: "mean reward on the held-out split; band: ± 1 standard error",
    columns: Math.min(3, panels.length),
    panelWidth: 360,
    panelHeight: 230,
    legend: false,
  });
}

/** Small multiples of the training diagnostics; panels without data are left out. */
export function diagnosticsChart(d: RunData, tasks: string[]): string {
  const x = d.rl.map((s) => s.step);
  const colors = taskColors(tasks);
  const perTask = (key: string): Series[] =>
    tasks.map((t) => ({
      name: t,
      x,
      y: d.rl.map((s) => numMap(s.rec, key)[t]),
      ...colors.get(t)!,
    }));
  const one = (key: string, name = key, color = "#333333"): Series => ({
    name,
    x,
    y: d.rl.map((s) => num(s.rec, key)),
    color,
  });
  // A panel of one quantity: its title names it, the shared legend is for tasks.
  const single = (title: string, key: string): Panel => ({
    title,
    series: [{ ...one(key), noLegend: true }],
  });
  // A few quantities together, named under the panel title.
  const several = (title: string, ...keys: [string, string][]): Panel => ({
    title,
    legend: "inline",
    series: keys.map(([key, name], i) => one(key, name, [PALETTE_A, PALETTE_B, PALETTE_C][i])),
  });
  const panels: Panel[] = [
    { title: "task scale S_k", series: perTask("task_scale") },
    { title: "pass rate p (vs smoothed baseline)", series: perTask("pass_rate_by_task") },
    { title: "difficulty weight (mean)", series: perTask("weight_mean_by_task") },
    single("zero-variance group fraction", "zero_variance_frac"),
    single("entropy", "entropy"),
    several("response length (tokens)", ["response_length_mean", "mean"], [
      "response_length_max",
      "max",
    ]),
    single("responses cut at length limit", "response_clip_ratio"),
    several("PPO clip fraction", ["pg_clipfrac", "clipped"], ["pg_clipfrac_lower", "dual-clip"]),
    several("KL", ["approx_kl", "approx KL (old→new)"], ["kl_ref", "to ref"]),
    single("train − rollout logprob", "rollout_logprob_diff"),
    several("advantage", ["adv_mean", "mean"], ["adv_std", "std"], ["adv_abs_mean", "mean |A|"]),
    single("grad norm", "grad_norm"),
    single("learning rate", "lr"),
    single("tokens / s", "tokens_per_s"),
  ].map((p) =>
    ({
      ...p,
      xLabel: "step",
      // An optional quantity never logged (kl_ref without a reference) is left out.
      series: p.series.filter((s) => s.y.some(isNum)),
    }) as Panel
  ).filter((p) => p.series.length);
  return lineChartGrid(panels, {
    title: "Training diagnostics",
    columns: 3,
    panelWidth: 330,
    panelHeight: 210,
  });
}

/** Seconds per step in each phase. */
export function timeChart(steps: StepRecord[]): string {
  const x = steps.map((s) => s.step);
  const phases = timing(steps).map((t) => t.phase).filter((p) => p !== "other");
  const series: Series[] = phases.map((p, i) => ({
    name: p,
    x,
    y: steps.map((s) => {
      const t = numMap(s.rec, "time");
      return p === "total" && t.total === undefined
        ? Object.values(t).reduce((a, b) => a + b, 0)
        : t[p];
    }),
    ...(p === "total" ? { color: OVERALL_COLOR, width: 2.5 } : seriesStyle(i)),
  }));
  return lineChart({ xLabel: "step", yLabel: "seconds", series, yMin: 0 }, {
    title: "Time per step, by phase",
    panelWidth: 640,
    panelHeight: 320,
  });
}

/** SFT: loss (raw and smoothed), learning rate, grad norm, throughput. */
export function sftChart(d: RunData): string {
  const x = d.sft.map((s) => s.step);
  const get = (k: string) => d.sft.map((s) => num(s.rec, k));
  const panels: Panel[] = [
    {
      title: "loss",
      series: smoothedPair("loss", x, get("loss"), PALETTE_A, smoothingWeight(d.sft.length)),
    },
    { title: "learning rate", series: [{ name: "lr", x, y: get("lr"), color: "#333333" }] },
    {
      title: "grad norm",
      series: [{ name: "grad_norm", x, y: get("grad_norm"), color: "#333333" }],
    },
    {
      title: "tokens / s",
      series: [{ name: "tokens_per_s", x, y: get("tokens_per_s"), color: "#333333" }],
    },
  ].map((p) => ({ ...p, xLabel: "step" }) as Panel).filter((p, i) =>
    i === 0 || p.series.some((s) => s.y.some(isNum))
  );
  return lineChartGrid(panels, {
    title: "Supervised warm-up",
    note: `loss per token of the response; line: moving average (EMA ${
      smoothingWeight(d.sft.length)
    }), faint: raw`,
    columns: 2,
    panelWidth: 380,
    panelHeight: 230,
    legend: false,
  });
}

/** Before/after grouped bars with ± SE; groups with a change beyond 2 SE are starred. */
export function beforeAfterChart(rows: Change[]): string {
  const groups: BarGroup[] = rows.map((r) => ({
    label: r.label,
    values: [r.before.mean, r.after.mean],
    errors: [r.before.stderr, r.after.stderr],
    note: `${signed(r.delta)}${r.significant ? "*" : ""}`,
  }));
  return barChart(groups, {
    title: "Held-out evaluation before and after training",
    note: "bars: mean ± 1 SE; above: after − before, * when beyond 2·sqrt(SE₁² + SE₂²)",
    yLabel: "score",
    series: [{ name: "before", color: "#a6a6a6" }, { name: "after", color: PALETTE_A }],
    // Rewards live in [0, 1]: never let an all-zero table stretch the axis to 1e-9.
    yMin: 0,
    yMax: Math.max(
      0.1,
      ...rows.flatMap((r) => [r.before.mean + r.before.stderr, r.after.mean + r.after.stderr]),
    ),
  });
}

// ---------------------------------------------------------------------------
// Markdown

const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(3);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Text safe inside Markdown (tables included): no markup, no HTML, one line. */
export function mdText(s: string): string {
  return s.replace(/[\r\n\t]+/g, " ").replace(/&/g, "&amp;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;").replace(/[\\`*_[\]|#!]/g, (c) => `\\${c}`);
}

export function getPath(obj: Rec | null, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split(".")) {
    if (!isObj(cur) || !(k in cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** Settings shown from config.json: the first of each key's spellings that is present. */
const SETTINGS: [string, string[]][] = [
  ["model", ["model.path", "model", "train.model", "init"]],
  ["estimator", ["train.estimator", "algorithm.estimator", "estimator"]],
  ["steps", ["train.steps", "steps"]],
  ["rollouts per prompt", ["rollout.n", "train.rollout.n"]],
  ["prompts per step", ["train.prompts_per_step", "train.batch_size", "data.batch_size"]],
  ["response limit (tokens)", ["rollout.max_new_tokens", "rollout.response_length"]],
  ["sampling temperature", ["rollout.temperature"]],
  ["learning rate", ["train.lr", "optim.lr", "optimizer.lr", "lr"]],
  ["seed", ["seed", "train.seed"]],
  ["data", ["data.train", "data.path", "data", "train.data"]],
];

function settingRows(config: Rec | null): string[] {
  if (!config) return ["No config.json in the run folder.", ""];
  const rows: string[] = [];
  for (const [label, paths] of SETTINGS) {
    for (const p of paths) {
      const v = getPath(config, p);
      if (v === undefined || isObj(v)) continue;
      const text = typeof v === "string" ? v : JSON.stringify(v);
      rows.push(
        `| ${label} | \`${p}\` | ${mdText(text.length > 80 ? text.slice(0, 79) + "…" : text)} |`,
      );
      break;
    }
  }
  return rows.length
    ? ["| setting | key | value |", "|---|---|---|", ...rows, ""]
    : ["config.json has none of the usual keys (model, train.estimator, rollout.n, lr).", ""];
}

function changeTable(rows: Change[], what: [string, string]): string[] {
  const out = [
    `| task | n | ${what[0]} | ${what[1]} | change | 2·SE | beyond 2 SE |`,
    "|---|---:|---:|---:|---:|---:|:---:|",
  ];
  for (const r of rows) {
    out.push(
      `| ${mdText(r.label)} | ${
        r.before.n === r.after.n ? r.before.n : `${r.before.n} → ${r.after.n}`
      } | ${f3(r.before.mean)} ± ${f3(r.before.stderr)} | ${f3(r.after.mean)} ± ${
        f3(r.after.stderr)
      } | ${signed(r.delta)} | ${f3(2 * r.se)} | ${
        r.significant === null ? "n < 2" : r.significant ? "yes" : "no"
      } |`,
    );
  }
  return [...out, ""];
}

/** The charts written for a run, by file name (only those with something to show). */
export function runCharts(d: RunData, f: RunFigures): Record<string, string> {
  const charts: Record<string, string> = {};
  if (d.rl.length) {
    charts["reward_by_task.svg"] = rewardChart(d, f.tasks);
    charts["diagnostics.svg"] = diagnosticsChart(d, f.tasks);
  }
  if (d.val.length) charts["heldout.svg"] = heldOutChart(d, f.tasks);
  if (f.timing.length) charts["time.svg"] = timeChart(d.rl.length ? d.rl : d.sft);
  if (d.sft.length) charts["sft_loss.svg"] = sftChart(d);
  if (f.beforeAfter?.length) charts["before_after.svg"] = beforeAfterChart(f.beforeAfter);
  return charts;
}

const CHART_TITLES: Record<string, string> = {
  "reward_by_task.svg": "Train reward per task",
  "heldout.svg": "Held-out reward",
  "before_after.svg": "Before and after",
  "diagnostics.svg": "Training diagnostics",
  "time.svg": "Time per step",
  "sft_loss.svg": "Supervised warm-up",
};

/** report.md's text. */
export function runReportMarkdown(d: RunData, f: RunFigures, charts: string[]): string {
  const name = d.dir.replace(/\/+$/, "").split("/").pop() || d.dir;
  const L: string[] = [`# Training report: ${mdText(name)}`, ""];
  L.push("## Settings", "", ...settingRows(d.config));
  L.push("## Progress", "");
  if (f.rlSteps) {
    L.push(`- RL steps done: ${f.rlSteps} (last step ${d.rl[d.rl.length - 1].step}).`);
  }
  if (f.sftSteps) {
    L.push(`- SFT steps done: ${f.sftSteps} (last step ${d.sft[d.sft.length - 1].step}).`);
  }
  if (f.repeatedLines) {
    L.push(
      `- ${f.repeatedLines} metrics line(s) repeat an earlier step (a resumed run); the last line for each step is used.`,
    );
  }
  if (f.reward) {
    L.push(
      `- Train reward, mean of the first ${f.reward.window} → last ${f.reward.window} steps: ${
        f3(f.reward.start)
      } → ${f3(f.reward.end)} (${signed(f.reward.delta)}).`,
    );
  }
  if (f.sftLoss) {
    L.push(
      `- SFT loss, mean of the first ${f.sftLoss.window} → last ${f.sftLoss.window} steps: ${
        f3(f.sftLoss.start)
      } → ${f3(f.sftLoss.end)} (${signed(f.sftLoss.delta)}).`,
    );
  }
  L.push("");
  const taskNames = Object.keys(f.rewardByTask);
  if (taskNames.length) {
    L.push("| task | steps | start | end | change |", "|---|---:|---:|---:|---:|");
    for (const t of taskNames) {
      const r = f.rewardByTask[t];
      L.push(`| ${mdText(t)} | ${r.steps} | ${f3(r.start)} | ${f3(r.end)} | ${signed(r.delta)} |`);
    }
    L.push("", "Start and end: mean train reward of the task over its first and last 3 steps.", "");
  }
  if (f.heldOut) {
    const h = f.heldOut;
    L.push("## Held-out reward", "");
    if (h.overall) {
      const o = h.overall;
      L.push(
        `Step ${h.firstStep}: ${f3(o.before.mean)} ± ${f3(o.before.stderr)} → step ${h.lastStep}: ${
          f3(o.after.mean)
        } ± ${f3(o.after.stderr)}, change ${signed(o.delta)} (2·SE = ${f3(2 * o.se)}: ${
          o.significant === null
            ? "too few items for a standard error"
            : o.significant
            ? "beyond 2 standard errors"
            : "within 2 standard errors, not a measured change"
        }).`,
        "",
      );
    } else {
      L.push(`One held-out evaluation so far (step ${h.firstStep}).`, "");
    }
    if (h.byTask.length) {
      L.push(...changeTable(h.byTask, [`step ${h.firstStep}`, `step ${h.lastStep}`]));
    }
  }
  if (f.beforeAfter) {
    L.push("## Before and after (eval_before → eval_after)", "");
    if (f.beforeAfter.length) {
      L.push(...changeTable(f.beforeAfter, ["before", "after"]));
      L.push(
        "Mean ± standard error; a change counts when it exceeds 2·SE, SE = sqrt(SE_before² + SE_after²).",
        "",
      );
    } else L.push("The two evaluations share no benchmark.", "");
  }
  if (f.timing.length) {
    L.push("## Time per step", "", "| phase | mean s | share |", "|---|---:|---:|");
    for (const t of f.timing) {
      L.push(`| ${mdText(t.phase)} | ${t.seconds.toFixed(2)} | ${pct(t.share)} |`);
    }
    L.push("");
  }
  L.push("## Warnings", "");
  if (f.warnings.length) { for (const w of f.warnings) L.push(`- ${mdText(w)}`); }
  else L.push("None.");
  L.push("");
  if (charts.length) {
    L.push("## Charts", "");
    for (const c of charts) L.push(`![${CHART_TITLES[c] ?? c}](${c})`, "");
  }
  return L.join("\n");
}

/** The three console lines. */
export function summaryLines(f: RunFigures): string[] {
  const steps = [
    f.rlSteps ? `${f.rlSteps} RL steps` : "",
    f.sftSteps ? `${f.sftSteps} SFT steps` : "",
  ].filter(Boolean).join(", ");
  const lines = [
    `steps: ${steps}${f.repeatedLines ? ` (${f.repeatedLines} repeated lines from a resume)` : ""}${
      f.warnings.length ? `; ${f.warnings.length} warning(s) in the report` : ""
    }`,
  ];
  const train = f.reward
    ? `train reward ${f3(f.reward.start)} → ${f3(f.reward.end)} (${signed(f.reward.delta)})`
    : f.sftLoss
    ? `sft loss ${f3(f.sftLoss.start)} → ${f3(f.sftLoss.end)} (${signed(f.sftLoss.delta)})`
    : "no train reward or loss logged";
  const o = f.heldOut?.overall;
  lines.push(
    train +
      (o
        ? `; held-out ${f3(o.before.mean)} → ${f3(o.after.mean)} (${signed(o.delta)}, ${
          o.significant ? "beyond" : "within"
        } 2 SE)`
        : ""),
  );
  if (f.beforeAfter?.length) {
    const overall = f.beforeAfter.find((r) => r.label === "all tasks") ?? f.beforeAfter[0];
    const tasks = f.beforeAfter.filter((r) => r !== overall);
    const up = tasks.filter((r) => r.significant && r.delta > 0).length;
    const down = tasks.filter((r) => r.significant && r.delta < 0).length;
    lines.push(
      `before/after: ${mdPlain(overall.label)} ${f3(overall.before.mean)} → ${
        f3(overall.after.mean)
      } (${signed(overall.delta)}${overall.significant ? ", beyond 2 SE" : ", within 2 SE"}); ` +
        `${up} up and ${down} down beyond 2 SE of ${tasks.length} rows`,
    );
  } else {
    lines.push("before/after: no eval_before/ and eval_after/ results in the run folder");
  }
  return lines;
}

/** One console line of untrusted text: no control characters. */
function mdPlain(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\x00-\x1f\x7f]+/g, " ");
}

/** Reads RUN_DIR and writes report.md and the SVGs into `out` (default RUN_DIR). */
export async function writeRunReport(
  runDir: string,
  opts: { out?: string } = {},
): Promise<RunReport> {
  const data = await readRun(runDir);
  const figures = runFigures(data);
  const out = opts.out ?? runDir;
  await Deno.mkdir(out, { recursive: true });
  const charts = runCharts(data, figures);
  const files: string[] = [];
  const mdPath = joinPath(out, "report.md");
  for (const [name, svg] of Object.entries(charts)) {
    const p = joinPath(out, name);
    await writeFileAtomic(p, svg);
    files.push(p);
  }
  await writeFileAtomic(mdPath, runReportMarkdown(data, figures, Object.keys(charts)));
  return { path: mdPath, summary: summaryLines(figures), files: [mdPath, ...files], figures };
}
