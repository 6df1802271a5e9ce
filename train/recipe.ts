/**
 * The whole GoLongRL recipe in one call, sized to a time budget:
 *
 *   1. data     build verifiable 9-task data from documents (default: the embedded ones in
 *               assets/default/corpus) with a held-out split by source document;
 *   2. measure  calibrate this machine (generation rate on a few held-out prompts), choose how
 *               many held-out prompts fit, and evaluate the start model on them (greedy, each
 *               response scored by its verifier; mean ± standard error per task);
 *   3. train    GRPO with TMN-Reweight for as many steps as the remaining budget allows
 *               (train/rl.ts with a deadline: each step's duration is measured, and no step
 *               starts that would end past the time kept for the second evaluation);
 *   4. measure  evaluate the trained model on the same prompts;
 *   5. report   metrics, curves and a before/after table (train/report.ts), plus what the budget
 *               bought and the paired before/after difference with its standard error.
 *
 * Machines of one kind differ up to 10x in WebGPU speed, so nothing here is sized by constants:
 * every count comes from a rate measured in the same run.
 */
import { acquireGpu, type GpuOptions } from "../core/gpu/device.ts";
import { loadModel } from "../engine/load.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import { build } from "../data/build.ts";
import { applyOverrides, defaults } from "../core/config_schema.ts";
import { joinPath, writeFileAtomic, writeJsonAtomic } from "../core/fsutil.ts";
import { formatDuration } from "../core/progress.ts";
import { readJsonlTolerant } from "../core/jsonl.ts";
import { TRAIN_SCHEMA, type TrainConfig } from "./config.ts";
import {
  answerLengths,
  interleaveByTask,
  loadSamples,
  responseBudget,
  tasksThatFit,
} from "./data.ts";
import { trainRl, validate, type Validation } from "./rl.ts";
import { writeRunReport } from "./report.ts";
import { mean, statsOf } from "./log.ts";

/** The embedded defaults (documents, tokenizer and tiny checkpoint), beside the source tree. */
export const ASSETS = new URL("../assets/default/", import.meta.url).pathname;

export interface RecipeOptions {
  out: string;
  /** Wall-clock budget for the whole run, seconds. */
  budgetS: number;
  /** Start checkpoint (default: the embedded tiny model). */
  model?: string;
  /** Samples: a data build folder or a data.jsonl with heldout.jsonl beside it (default: build). */
  data?: string;
  /** Documents to build from when no --data (default: the embedded corpus). */
  sources?: string[];
  /** Most RL steps (default: as many as fit). */
  steps?: number;
  /** Samples per task built from the documents (default 40). */
  perTask?: number;
  seed: number;
  /** Settings for the RL phase (`key=value`, as `train --set`). */
  set?: string[];
  gpu?: GpuOptions;
  log?: (line: string) => void;
}

export interface RecipeResult {
  out: string;
  report: string;
  steps: number;
  before: Validation;
  after: Validation;
  /** Mean paired difference (after - before) and its standard error. */
  delta: number;
  deltaSe: number;
  significant: boolean;
  summary: string[];
}

/** eval/report.ts's results.json shape, for the report's before/after table. */
function asResults(model: string, v: Validation) {
  return {
    model,
    benchmarks: {
      ours: {
        n: v.n,
        mean: v.reward_mean,
        stderr: v.reward_se,
        subsets: Object.fromEntries(
          Object.entries(v.reward_by_task).map((
            [k, x],
          ) => [k, { n: x.n, mean: x.mean, stderr: x.se }]),
        ),
      },
    },
  };
}

/** The RL settings of the default run (recipe §3-4 scaled to a tiny model on a CPU). */
export function recipeConfig(o: {
  model: string;
  train: string;
  seed: number;
  steps: number;
  /** Response limit (sized from the data's reference answers by {@link runRecipe}). */
  maxNewTokens?: number;
}): TrainConfig {
  const c = defaults(TRAIN_SCHEMA) as TrainConfig;
  c.seed = o.seed;
  c.model.path = o.model;
  c.data.train = o.train;
  c.data.sampling = "balanced";
  c.rollout.n = 4;
  c.rollout.temperature = 1.0;
  c.rollout.max_new_tokens = o.maxNewTokens ?? 32;
  c.rollout.batch_prompts = 8;
  c.train.steps = o.steps;
  c.train.prompts_per_step = 4;
  c.train.gen_prompts = 8;
  c.train.max_gen_rounds = 2;
  c.train.estimator = "tmn-reweight";
  // 4 groups a step over 7 task types would give most tasks one group, where TMN's S_k is the
  // group's own std and tmn-reweight is grpo times the weights (docs/experiments/tmn-vs-grpo.md).
  // So each round deals 4 prompts of each of 2 tasks, and a task enters the batch with 2 groups:
  // every step normalizes 2 tasks by their pooled S_k, and the tasks rotate from step to step.
  c.data.task_block = 4;
  c.train.groups_per_task = 2;
  c.train.micro_batch_tokens = 4096;
  c.optim.lr = 2e-4;
  c.optim.warmup_steps = 2;
  c.checkpoint.every = 5;
  c.log.val_every = 0; // the recipe evaluates before and after itself
  c.log.dump_every = 5;
  return c;
}

/** Runs the recipe; see the module doc. */
export async function runRecipe(o: RecipeOptions): Promise<RecipeResult> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const deadline = t0 + o.budgetS * 1000;
  const left = () => (deadline - performance.now()) / 1000;
  const model = o.model ?? joinPath(ASSETS, "model");
  await Deno.mkdir(o.out, { recursive: true });

  // ---- 1. Data.
  log(
    `[1/5 data] ${
      o.data ? `samples from ${o.data}` : "building 9-task data from the embedded documents"
    }`,
  );
  let trainPath: string, heldPath: string;
  if (o.data) {
    const isDir = (await Deno.stat(o.data)).isDirectory;
    trainPath = isDir ? joinPath(o.data, "data.jsonl") : o.data;
    heldPath = joinPath(trainPath.replace(/\/[^/]*$/, "") || ".", "heldout.jsonl");
  } else {
    const tok = await loadTokenizer(model);
    const dataDir = joinPath(o.out, "data");
    const r = await build({
      sources: o.sources ?? [joinPath(ASSETS, "corpus")],
      out: dataDir,
      lengths: [512],
      perTask: o.perTask ?? 40,
      seed: o.seed,
      count: (t) => tok.encode(t).length,
      tokenizerName: model,
      // The embedded model was warmed up on the documents outside this split (seed 0, 20%,
      // tools/assets/build_default_model.sh): the held-out documents are ones it never saw.
      heldout: 0.2,
      heldoutSeed: o.model ? o.seed : 0,
      quiet: true,
    });
    log(`  ${r.samples} training samples, ${r.heldout} held out, from ${r.documents} documents`);
    trainPath = joinPath(dataDir, "data.jsonl");
    heldPath = joinPath(dataDir, "heldout.jsonl");
  }
  const heldAll = await loadSamples(heldPath).catch(() => {
    throw new Error(`${heldPath}: the recipe needs a held-out split (data build --heldout)`);
  });
  // Interleave tasks so any prefix of the held-out list covers them all.
  const held = interleaveByTask(heldAll);

  // ---- 2. Calibrate and measure the start model.
  // The response limit covers 90% of the reference answers (at most 128 tokens): below them a
  // prompt can never score, and its groups only add generation time.
  const tok0 = await loadTokenizer(model);
  const count = (t: string) => tok0.encode(t).length;
  const trainAll = await loadSamples(trainPath);
  const maxNewTokens = responseBudget(answerLengths(trainAll, count, true));
  const cfg0 = recipeConfig({
    model,
    train: trainPath,
    seed: o.seed,
    steps: o.steps ?? 1_000_000,
    maxNewTokens,
  });
  applyOverrides(TRAIN_SCHEMA, cfg0 as unknown as Record<string, unknown>, o.set ?? []);
  // RL on the task types whose typical answer fits the response limit (unless data.tasks is
  // set); the held-out evaluation still covers every task.
  const tasks = tasksThatFit(
    trainAll,
    count,
    cfg0.rollout.enable_thinking,
    cfg0.rollout.max_new_tokens,
  );
  if (cfg0.data.tasks.length === 0 && tasks.cut.length > 0 && tasks.fit.length > 0) {
    cfg0.data.tasks = tasks.fit;
  }
  const leftOut = cfg0.data.tasks.length === 0
    ? []
    : tasks.cut.filter((c) => !(cfg0.data.tasks as string[]).includes(c.task));
  if (leftOut.length > 0) {
    log(
      `  RL on ${cfg0.data.tasks.length} task types; left out (median reference answer longer ` +
        `than the ${cfg0.rollout.max_new_tokens}-token response limit): ${
          leftOut.map((c) => `${c.task} (${c.median})`).join(", ")
        }`,
    );
  }
  const gpu = await acquireGpu(o.gpu);
  let before: Validation, evalS: number, nHeld: number;
  try {
    const tok = await loadTokenizer(model);
    const { model: m } = await loadModel(gpu, model, { matrices: "f32" });
    const probeN = Math.min(4, held.length);
    let t = performance.now();
    await validate(m, tok, held.slice(0, probeN), cfg0);
    const perPrompt = (performance.now() - t) / 1000 / probeN;
    // Two evaluations may take at most 30% of the budget; at least 16 prompts, at most 64.
    nHeld = Math.max(
      Math.min(16, held.length),
      Math.min(held.length, 64, Math.floor((0.15 * o.budgetS) / perPrompt)),
    );
    log(
      `[2/5 measure] ${
        perPrompt.toFixed(2)
      } s per held-out prompt on this machine: evaluating ${nHeld} prompts, responses up to ` +
        `${cfg0.rollout.max_new_tokens} tokens`,
    );
    t = performance.now();
    before = await validate(m, tok, held.slice(0, nHeld), cfg0);
    evalS = (performance.now() - t) / 1000;
    log(
      `  start model: held-out reward ${fmt(before.reward_mean)} ± ${
        fmt(before.reward_se)
      } (n ${before.n}, ${evalS.toFixed(0)} s)`,
    );
  } finally {
    gpu.destroy();
  }
  await writeResults(o.out, "eval_before", model, before);

  // ---- 3. Train until the time kept for the second evaluation and the report.
  const reserve = evalS * 1.15 + 10;
  const trainDeadline = deadline - reserve * 1000;
  log(
    `[3/5 train] GRPO with TMN-Reweight, ${
      formatDuration(Math.max(0, left() - reserve))
    } for training`,
  );
  const tTrain = performance.now();
  const rl = await trainRl(cfg0, {
    out: o.out,
    resume: false,
    gpu: o.gpu,
    deadline: trainDeadline,
    log: (s) => log(`  ${s}`),
  });
  const trainS = (performance.now() - tTrain) / 1000;
  const trained = joinPath(o.out, "model");

  // ---- 4. Measure the trained model on the same prompts.
  log(`[4/5 measure] the trained model on the same ${nHeld} held-out prompts`);
  const gpu2 = await acquireGpu(o.gpu);
  let after: Validation;
  try {
    const tok = await loadTokenizer(trained);
    const { model: m } = await loadModel(gpu2, trained, { matrices: "f32" });
    after = await validate(m, tok, held.slice(0, nHeld), cfg0);
  } finally {
    gpu2.destroy();
  }
  await writeResults(o.out, "eval_after", trained, after);

  // ---- 5. Report.
  const diffs = after.rewards.map((r, i) => r - before.rewards[i]);
  const delta = mean(diffs);
  const deltaSe = diffs.length > 1 ? statsOf(diffs).std / Math.sqrt(diffs.length) : 0;
  const significant = deltaSe > 0 ? Math.abs(delta) > 2 * deltaSe : false;
  const metrics = (await readJsonlTolerant(joinPath(o.out, "metrics.jsonl"))).map((l) => l.value);
  const tokens = metrics.reduce((a, m) => a + ((m.tokens as number) ?? 0), 0);
  const rollouts = metrics.reduce((a, m) => a + ((m.groups as number) ?? 0) * cfg0.rollout.n, 0);
  const budget = {
    budget_s: o.budgetS,
    elapsed_s: (performance.now() - t0) / 1000,
    eval_s: evalS,
    train_s: trainS,
    steps: rl.steps,
    out_of_time: rl.outOfTime ?? false,
    rollouts,
    tokens,
    heldout_prompts: nHeld,
    max_new_tokens: cfg0.rollout.max_new_tokens,
    rl_tasks: cfg0.data.tasks,
    rl_tasks_left_out: leftOut,
    delta,
    delta_se: deltaSe,
    significant,
  };
  await writeJsonAtomic(joinPath(o.out, "recipe.json"), budget);
  const rep = await writeRunReport(o.out);
  const verdict = significant
    ? delta > 0 ? "a gain beyond 2 standard errors" : "a LOSS beyond 2 standard errors"
    : "no change beyond 2 standard errors";
  const md = [
    "",
    "## What the budget bought",
    "",
    `Budget ${formatDuration(o.budgetS)}; the run took ${formatDuration(budget.elapsed_s)} ` +
    `(training ${formatDuration(trainS)}, each held-out evaluation ${formatDuration(evalS)}).`,
    `Training: ${rl.steps} RL step(s) of ${cfg0.train.prompts_per_step} prompts x ` +
    `${cfg0.rollout.n} rollouts (${rollouts} rollouts, ${tokens.toLocaleString("en-US")} tokens` +
    ` through the update)${rl.outOfTime ? ", stopped by the budget" : ""}.`,
    `Responses up to ${cfg0.rollout.max_new_tokens} tokens (90% of the reference answers fit)` +
    (leftOut.length > 0
      ? `; RL on ${cfg0.data.tasks.length} task types, leaving out ${
        leftOut.map((c) => `${c.task} (median reference answer ${c.median} tokens)`).join(", ")
      }, whose answers would be cut; the held-out evaluation covers every task.`
      : "."),
    "",
    "## Held-out reward, paired",
    "",
    `The same ${nHeld} held-out prompts (documents never trained on), greedy, before and after:`,
    `${fmt(before.reward_mean)} → ${fmt(after.reward_mean)}, paired difference ` +
    `${delta >= 0 ? "+" : ""}${fmt(delta)} ± ${fmt(deltaSe)} (standard error): ${verdict}.`,
    significant && delta > 0 ? "" : whyNot(rl.steps, nHeld, delta, metrics),
    "",
  ].join("\n");
  const text = await Deno.readTextFile(rep.path);
  await writeFileAtomic(rep.path, text + md);
  const summary = [
    `report: ${rep.path}`,
    `held-out reward ${fmt(before.reward_mean)} → ${fmt(after.reward_mean)} ` +
    `(paired ${delta >= 0 ? "+" : ""}${fmt(delta)} ± ${
      fmt(deltaSe)
    }: ${verdict}) after ${rl.steps} ` +
    `RL step(s) in ${formatDuration(budget.elapsed_s)}`,
  ];
  return {
    out: o.out,
    report: rep.path,
    steps: rl.steps,
    before,
    after,
    delta,
    deltaSe,
    significant,
    summary,
  };
}

/** Why there was no gain, from what the run measured. */
function whyNot(
  steps: number,
  n: number,
  delta: number,
  metrics: Record<string, unknown>[],
): string {
  const num = (k: string) =>
    metrics.map((m) => m[k]).filter((x): x is number => typeof x === "number");
  const zv = mean(num("zero_variance_frac"));
  const groups = num("groups").reduce((a, b) => a + b, 0);
  const ent = num("entropy");
  const len = num("response_length_mean");
  const cut = num("response_clip_ratio");
  const ends = (xs: number[]) => {
    const k = Math.max(1, Math.min(3, Math.floor(xs.length / 2)));
    return [mean(xs.slice(0, k)), mean(xs.slice(-k))];
  };
  const lines = [
    `Why: ${
      (100 * zv).toFixed(0)
    }% of the generated prompt groups had all-equal rewards and were ` +
    `dropped, so ${steps} step(s) learned from ${groups} group(s) in all` +
    (ent.length > 1
      ? `; the policy's entropy went ${ends(ent)[0].toFixed(2)} → ${
        ends(ent)[1].toFixed(2)
      } and its mean response length ${ends(len)[0].toFixed(0)} → ${
        ends(len)[1].toFixed(0)
      } tokens, the share of responses cut at the limit ${(100 * ends(cut)[0]).toFixed(0)}% → ${
        (100 * ends(cut)[1]).toFixed(0)
      }% (means of the first and last steps)`
      : "") +
    ".",
  ];
  lines.push(
    delta < 0
      ? "Updates from so few groups at this learning rate made the greedy answers worse: lower " +
        "--set optim.lr, raise --set rollout.n (more groups with reward variance) or the budget."
      : `With ${steps} step(s) and ${n} held-out prompts the budget was too small to separate a ` +
        "change from noise on this machine: raise --budget (or run on a GPU), or pass --steps and " +
        "a larger held-out split.",
  );
  return lines.join("\n");
}

function fmt(x: number): string {
  return x.toFixed(4);
}

async function writeResults(out: string, name: string, model: string, v: Validation) {
  const dir = joinPath(out, name);
  await Deno.mkdir(dir, { recursive: true });
  await writeJsonAtomic(joinPath(dir, "results.json"), asResults(model, v));
  await writeJsonAtomic(joinPath(dir, "responses.json"), {
    rewards: v.rewards,
    responses: v.responses,
  });
}
