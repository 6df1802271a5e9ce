/**
 * The advantage-estimator registry (outcome rewards, one scalar per rollout),
 * modelled on verl's `core_algos.py`: one function per method, chosen by name.
 *
 * Notation: r_i the reward of rollout i; g(i) its prompt group (`uid`); k(i) its
 * task key; n_g the group size; eps = 1e-6 unless set. Everything is computed in
 * float64 over the whole batch at once, and advantages come back in input order
 * (the input need not be sorted by group). Formulas follow
 * `../shared/docs/recipe.md` §3 (GoLongRL's verl fork) exactly.
 */

import { didYouMean } from "../core/suggest.ts";

/** One rollout: its prompt group, its task key and its scalar reward. */
export interface AdvantageInput {
  uid: string;
  task: string;
  reward: number;
}

export interface AdvantageOptions {
  /** tmn-reweight: weight of the prompt's own mean in the smoothed baseline (default 0.8). */
  alpha?: number;
  /** tmn-reweight: strength of the difficulty weights (default 1). */
  gamma?: number;
  /** Added to every divisor (default 1e-6). */
  eps?: number;
}

export interface AdvantageStats {
  /** Per task key: S_k (tmn*), or the std used (qwenlong-task); absent keys for others. */
  taskScale: Record<string, number>;
  /** Per task key: mean over its groups of the pass rate p_g (tmn-reweight only). */
  passRate: Record<string, number>;
  /** Mean of p_g over all groups (tmn-reweight; verl's difficulty/mean_pass_rate). */
  meanPassRate?: number;
  /** Per task key: mean difficulty weight applied to its samples (tmn-reweight). */
  weightMean: Record<string, number>;
  groups: number;
}

export interface AdvantageResult {
  advantages: number[];
  stats: AdvantageStats;
}

export type Estimator = {
  name: string;
  doc: string;
  fn: (xs: readonly AdvantageInput[], o: Required<AdvantageOptions>) => AdvantageResult;
};

export const DEFAULT_ADVANTAGE_OPTIONS: Readonly<Required<AdvantageOptions>> = {
  alpha: 0.8,
  gamma: 1,
  eps: 1e-6,
};

/**
 * A bad input rollout: `index` is its position in the input and `field` the
 * offending field, so a caller reading a file can name the file and line.
 */
export class AdvantageInputError extends Error {
  override name = "AdvantageInputError";
  constructor(message: string, readonly index: number, readonly field: string) {
    super(message);
  }
}

/** Raw statistics of one prompt group (no singleton overrides). */
export interface GroupStat {
  uid: string;
  n: number;
  mean: number;
  /** Unbiased (n−1) variance; 0 for a singleton. */
  variance: number;
  /**
   * Every reward equal (population std 0) with n ≥ 2: the groups DAPO's
   * dynamic sampling (filter_groups) drops. A singleton is never zero-variance
   * (DAPO keeps it).
   */
  zeroVariance: boolean;
}

interface Group {
  uid: string;
  /** Input positions of its rollouts, in input order. */
  idx: number[];
  /** The task key shared by its rollouts (only when the estimator needs one). */
  task: string;
}

function checkReward(x: AdvantageInput, i: number): number {
  const r = x.reward;
  if (typeof r !== "number" || !Number.isFinite(r)) {
    throw new AdvantageInputError(
      `rollout ${i}: reward must be a finite number, got ${String(r)}`,
      i,
      "reward",
    );
  }
  return r;
}

/**
 * Groups rollouts by uid in order of first appearance. With `needTask`, every
 * rollout must carry a task key (the empty string is a key) and all rollouts of
 * a group the same one, as verl's TMN assigns one task per prompt.
 */
function groupBy(xs: readonly AdvantageInput[], needTask: boolean): Group[] {
  const byUid = new Map<string, Group>();
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x.uid !== "string") {
      throw new AdvantageInputError(`rollout ${i}: uid must be a string`, i, "uid");
    }
    checkReward(x, i);
    const task = x.task as unknown;
    if (needTask && typeof task !== "string") {
      throw new AdvantageInputError(
        `rollout ${i}: group "${x.uid}" has no task key (a string; "" is a valid key)`,
        i,
        "task",
      );
    }
    let g = byUid.get(x.uid);
    if (!g) {
      g = { uid: x.uid, idx: [], task: needTask ? task as string : "" };
      byUid.set(x.uid, g);
    } else if (needTask && g.task !== task) {
      throw new AdvantageInputError(
        `rollout ${i}: group "${x.uid}" mixes task keys "${g.task}" and "${task}"`,
        i,
        "task",
      );
    }
    g.idx.push(i);
  }
  return [...byUid.values()];
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Unbiased variance, two-pass (as torch.std); 0 for fewer than two values. */
function unbiasedVariance(xs: readonly number[], mu: number): number {
  if (xs.length < 2) return 0;
  let s = 0;
  for (const x of xs) s += (x - mu) * (x - mu);
  return s / (xs.length - 1);
}

/** Per-uid n, raw mean, unbiased variance and the zero-variance flag, in order of first appearance. */
export function groupStats(xs: readonly AdvantageInput[]): Map<string, GroupStat> {
  const out = new Map<string, GroupStat>();
  for (const g of groupBy(xs, false)) {
    const rs = g.idx.map((i) => xs[i].reward);
    const mu = mean(rs);
    out.set(g.uid, {
      uid: g.uid,
      n: rs.length,
      mean: mu,
      variance: unbiasedVariance(rs, mu),
      zeroVariance: rs.length >= 2 && rs.every((r) => r === rs[0]),
    });
  }
  return out;
}

function emptyStats(groups: number): AdvantageStats {
  return { taskScale: {}, passRate: {}, weightMean: {}, groups };
}

/**
 * Per-group centring shared by grpo and dr-grpo: mu_g = mean(r), sigma_g the
 * unbiased std; a singleton gets mu = 0, sigma = 1 (verl).
 */
function perPrompt(
  xs: readonly AdvantageInput[],
  eps: number,
  divideByStd: boolean,
): AdvantageResult {
  const groups = groupBy(xs, false);
  const adv = new Array<number>(xs.length);
  for (const g of groups) {
    const rs = g.idx.map((i) => xs[i].reward);
    const single = rs.length <= 1;
    const mu = single ? 0 : mean(rs);
    const sigma = single ? 1 : Math.sqrt(unbiasedVariance(rs, mu));
    for (const i of g.idx) {
      const c = xs[i].reward - mu;
      adv[i] = divideByStd ? c / (sigma + eps) : c;
    }
  }
  return { advantages: adv, stats: emptyStats(groups.length) };
}

function grpo(xs: readonly AdvantageInput[], o: Required<AdvantageOptions>): AdvantageResult {
  return perPrompt(xs, o.eps, true);
}

function drGrpo(xs: readonly AdvantageInput[], o: Required<AdvantageOptions>): AdvantageResult {
  return perPrompt(xs, o.eps, false);
}

function rloo(xs: readonly AdvantageInput[], _o: Required<AdvantageOptions>): AdvantageResult {
  const groups = groupBy(xs, false);
  const adv = new Array<number>(xs.length);
  for (const g of groups) {
    const n = g.idx.length;
    let sum = 0;
    for (const i of g.idx) sum += xs[i].reward;
    for (const i of g.idx) {
      const r = xs[i].reward;
      // verl leaves a singleton's reward as its advantage (no baseline to leave out).
      adv[i] = n > 1 ? r - (sum - r) / (n - 1) : r;
    }
  }
  return { advantages: adv, stats: emptyStats(groups.length) };
}

/**
 * TMN (recipe §3.2) and its difficulty reweighting (§3.3), as GoLongRL's
 * `compute_tmn_grpo_outcome_advantage`.
 */
function tmnCore(
  xs: readonly AdvantageInput[],
  o: Required<AdvantageOptions>,
  reweight: boolean,
): AdvantageResult {
  const groups = groupBy(xs, true);
  const mu = new Float64Array(groups.length);
  const v = new Float64Array(groups.length);
  // Per task: sum of v_g, sum of mu_g, number of groups.
  const tasks = new Map<string, { vSum: number; muSum: number; count: number }>();
  groups.forEach((g, j) => {
    const n = g.idx.length;
    let s = 0, s2 = 0;
    for (const i of g.idx) {
      const r = xs[i].reward;
      s += r;
      s2 += r * r;
    }
    if (n <= 1) {
      mu[j] = 0;
      v[j] = 1;
    } else {
      mu[j] = s / n;
      const pop = Math.max(0, s2 / n - mu[j] * mu[j]);
      v[j] = pop * n / (n - 1);
    }
    const t = tasks.get(g.task) ?? { vSum: 0, muSum: 0, count: 0 };
    t.vSum += v[j];
    t.muSum += mu[j];
    t.count += 1;
    tasks.set(g.task, t);
  });
  const scale = new Map<string, number>();
  const taskMean = new Map<string, number>();
  for (const [k, t] of tasks) {
    const count = Math.max(1, t.count);
    scale.set(k, Math.sqrt(Math.max(0, t.vSum / count)));
    taskMean.set(k, t.muSum / count);
  }

  const adv = new Array<number>(xs.length);
  const stats = emptyStats(groups.length);
  stats.taskScale = Object.fromEntries(scale);
  const passSum = new Map<string, number>();
  const weightSum = new Map<string, { sum: number; n: number }>();
  let passAll = 0;
  groups.forEach((g, j) => {
    const sk = scale.get(g.task)!;
    for (const i of g.idx) adv[i] = (xs[i].reward - mu[j]) / (sk + o.eps);
    if (!reweight) return;
    const n = g.idx.length;
    const mk = taskMean.get(g.task)!;
    const b = n <= 1 ? mk : o.alpha * mu[j] + (1 - o.alpha) * mk;
    let above = 0;
    for (const i of g.idx) if (xs[i].reward > b) above++;
    const p = above / n;
    const wPos = Math.exp(o.gamma * (0.5 - p));
    const wNeg = Math.exp(o.gamma * (p - 0.5));
    const ws = weightSum.get(g.task) ?? { sum: 0, n: 0 };
    for (const i of g.idx) {
      // Positive against the raw group mean (0 for a singleton), not the baseline b.
      const w = xs[i].reward > mu[j] ? wPos : wNeg;
      adv[i] *= w;
      ws.sum += w;
      ws.n += 1;
    }
    weightSum.set(g.task, ws);
    passSum.set(g.task, (passSum.get(g.task) ?? 0) + p);
    passAll += p;
  });
  if (reweight) {
    stats.passRate = Object.fromEntries(
      [...passSum].map(([k, s]) => [k, s / tasks.get(k)!.count]),
    );
    stats.weightMean = Object.fromEntries([...weightSum].map(([k, w]) => [k, w.sum / w.n]));
    if (groups.length) stats.meanPassRate = passAll / groups.length;
  }
  return { advantages: adv, stats };
}

function tmn(xs: readonly AdvantageInput[], o: Required<AdvantageOptions>): AdvantageResult {
  return tmnCore(xs, o, false);
}

function tmnReweight(
  xs: readonly AdvantageInput[],
  o: Required<AdvantageOptions>,
): AdvantageResult {
  return tmnCore(xs, o, true);
}

/** QwenLong-L1.5's task advantage (recipe §3.6, `compute_qwenlong_task_advantage`). */
function qwenlongTask(
  xs: readonly AdvantageInput[],
  o: Required<AdvantageOptions>,
): AdvantageResult {
  const groups = groupBy(xs, true);
  const tasks = new Map<string, { s: number; s2: number; n: number }>();
  for (const x of xs) {
    const t = tasks.get(x.task) ?? { s: 0, s2: 0, n: 0 };
    t.s += x.reward;
    t.s2 += x.reward * x.reward;
    t.n += 1;
    tasks.set(x.task, t);
  }
  const m = new Map<string, number>();
  const sd = new Map<string, number>();
  for (const [k, t] of tasks) {
    const mk = t.s / t.n;
    const pop = Math.max(0, t.s2 / t.n - mk * mk);
    m.set(k, mk);
    sd.set(k, t.n <= 1 ? 1 : Math.sqrt(pop * t.n / (t.n - 1)));
  }
  const adv = xs.map((x) => (x.reward - m.get(x.task)!) / (sd.get(x.task)! + o.eps));
  const stats = emptyStats(groups.length);
  stats.taskScale = Object.fromEntries(sd);
  return { advantages: adv, stats };
}

const LIST: Estimator[] = [
  {
    name: "grpo",
    doc: "A_i = (r_i - mu_g) / (sigma_g + eps); mu_g the group mean, sigma_g its unbiased (n-1) " +
      "std. Singleton group: mu = 0, sigma = 1 (A = r/(1+eps)). verl `grpo`.",
    fn: grpo,
  },
  {
    name: "dr-grpo",
    doc: "A_i = r_i - mu_g (no std division, Dr. GRPO). Singleton group: mu = 0 (A = r). " +
      "verl `grpo` with norm_adv_by_std_in_grpo=False.",
    fn: drGrpo,
  },
  {
    name: "tmn",
    doc: "A_i = (r_i - mu_g) / (S_k + eps), S_k = sqrt(mean over the task's groups of v_g); " +
      "v_g = max(0, mean(r^2) - mu_g^2) * n/(n-1). Singleton group: mu = 0, v = 1. " +
      "Every rollout needs a task key; a group's rollouts share one. GoLongRL `tmn_grpo`.",
    fn: tmn,
  },
  {
    name: "tmn-reweight",
    doc: "tmn, then A_i *= exp(gamma(0.5 - p_g)) if r_i > mu_g else exp(gamma(p_g - 0.5)); " +
      "p_g = fraction of the group with r > b_g, b_g = alpha mu_g + (1-alpha) M_k, M_k the " +
      "mean of the task's mu_g (singleton: b_g = M_k). No clipping. Defaults alpha 0.8, " +
      "gamma 1. GoLongRL `tmn_grpo` with difficulty_reweight.",
    fn: tmnReweight,
  },
  {
    name: "qwenlong-task",
    doc: "A_i = (r_i - m_k) / (s_k + eps); m_k, s_k the mean and unbiased std of all rollouts " +
      "of task k (no per-prompt centring). Singleton task: s = 1. GoLongRL `qwenlong_grpo`.",
    fn: qwenlongTask,
  },
  {
    name: "rloo",
    doc: "A_i = r_i - mean of the other rollouts of its group = (n r_i - sum_g r)/(n-1). " +
      "Singleton group: A = r (verl `rloo` leaves it unchanged).",
    fn: rloo,
  },
];

/** The estimators by name. */
export const ESTIMATORS: ReadonlyMap<string, Estimator> = new Map(LIST.map((e) => [e.name, e]));

/** Registered estimator names, in registry order. */
export function estimatorNames(): string[] {
  return [...ESTIMATORS.keys()];
}

function resolveOptions(opts: AdvantageOptions): Required<AdvantageOptions> {
  const o = { ...DEFAULT_ADVANTAGE_OPTIONS };
  for (const [k, v] of Object.entries(opts)) {
    if (v !== undefined) (o as Record<string, number>)[k] = v;
  }
  if (!Number.isFinite(o.alpha) || o.alpha < 0 || o.alpha > 1) {
    throw new RangeError(`advantage option alpha must be in [0, 1], got ${o.alpha}`);
  }
  if (!Number.isFinite(o.gamma)) {
    throw new RangeError(`advantage option gamma must be finite, got ${o.gamma}`);
  }
  if (!Number.isFinite(o.eps) || o.eps < 0) {
    throw new RangeError(`advantage option eps must be finite and >= 0, got ${o.eps}`);
  }
  return o;
}

/**
 * Advantages of `xs` by the estimator `name`, in input order. Throws an Error
 * listing the known names for an unknown one, and an {@link AdvantageInputError}
 * for a bad rollout.
 */
export function computeAdvantages(
  name: string,
  xs: readonly AdvantageInput[],
  opts: AdvantageOptions = {},
): AdvantageResult {
  const est = ESTIMATORS.get(name);
  if (!est) {
    throw new Error(
      `unknown advantage estimator "${name}"${didYouMean(name, estimatorNames())}; known: ${
        estimatorNames().join(", ")
      }`,
    );
  }
  return est.fn(xs, resolveOptions(opts));
}

/** Share of the task keys in a batch that hold a single prompt group (0 for an empty batch). */
export function singleGroupShare(inputs: readonly { uid: string; task?: string }[]): number {
  const uids = new Map<string, Set<string>>();
  for (const x of inputs) {
    const k = x.task ?? "";
    if (!uids.has(k)) uids.set(k, new Set());
    uids.get(k)!.add(x.uid);
  }
  if (!uids.size) return 0;
  return [...uids.values()].filter((u) => u.size === 1).length / uids.size;
}

/** Estimators whose statistics pool the prompt groups of one task within a batch. */
const TASK_POOLED = new Set(["tmn", "tmn-reweight", "qwenlong-task"]);

/** Whether the estimator pools the prompt groups of a task (with one group it is grpo). */
export function poolsByTask(estimator: string): boolean {
  return TASK_POOLED.has(estimator);
}

/**
 * A warning when a task-normalizing estimator will mostly see one prompt group per task in a batch
 * (fewer than 2 prompts per task per step, as balanced sampling deals them), where tmn
 * computes exactly what grpo does; null when the batch is large enough or the estimator does not
 * pool by task.
 */
export function taskPoolingWarning(
  estimator: string,
  promptsPerStep: number,
  tasks: number,
  groupsPerTask = 1,
): string | null {
  // train.groups_per_task >= 2 builds every batch with that many groups of each of its tasks.
  if (!poolsByTask(estimator) || tasks < 1 || groupsPerTask >= 2) return null;
  const perTask = promptsPerStep / tasks;
  if (perTask >= 2) return null;
  return `${estimator} pools the prompt groups of a task within a batch, but ` +
    `${promptsPerStep} prompts per step over ${tasks} task types give about ` +
    `${perTask.toFixed(1)} per task: with one group per task its normalization is grpo's (S_k is ` +
    `the group's own std; raise train.prompts_per_step to at least ${2 * tasks}, narrow ` +
    "data.tasks, or set train.groups_per_task 2 with data.task_block 4)";
}
