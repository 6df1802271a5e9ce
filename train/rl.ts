/**
 * GRPO-family RL on the WebGPU engine (recipe §3-4), one step read top to bottom:
 *
 *   1. sample prompts (train/data.ts) and generate n rollouts each (core/model/rollout.ts);
 *   2. score them with the verifiers (tasks/registry.ts), optional overlong shaping;
 *   3. dynamic sampling: drop zero-variance groups and refill, up to max_gen_rounds rounds;
 *   4. advantages by the chosen estimator (train/advantage.ts: grpo, tmn-reweight, ...);
 *   5. old logprobs recomputed by the training forward (as verl does, so the first update's
 *      ratio is 1), at the rollout temperature; the sampler's own logprobs are kept only for the
 *      train/rollout mismatch metric; reference logprobs when a KL loss is on;
 *   6. PPO-clip updates (dual clip), mini-batches × ppo_epochs, micro-batches by token budget
 *      with gradient accumulation, the loss aggregated as verl's agg_loss;
 *   7. metrics (DIR/metrics.jsonl), rollout dumps, held-out validation (DIR/val.jsonl), atomic
 *      checkpoints.
 *
 * Everything random is keyed by the seed and the step (prompt order, sampling streams), and the
 * checkpoint holds the weights, optimizer and sampler state, so a killed run resumed from its
 * last checkpoint repeats the steps it lost exactly.
 */
import { acquireGpu, type Gpu, type GpuOptions } from "../core/gpu/device.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { copyTokenizerFiles, loadModel } from "../engine/load.ts";
import { saveCheckpoint } from "../engine/checkpoint.ts";
import type { Qwen3 } from "../engine/qwen3.ts";
import { promptIds, type Rollout, rollout } from "../engine/rollout.ts";
import { type MicroBatch, type PpoSettings, Trainer } from "../engine/train_step.ts";
import { loadTokenizer, type Tokenizer } from "../core/tokenizer/tokenizer.ts";
import { subSeed } from "../core/rng.ts";
import type { Sample } from "../tasks/generators/types.ts";
import { writeEffectiveConfig } from "../core/config_schema.ts";
import { joinPath } from "../core/fsutil.ts";
import { JsonlWriter } from "../core/jsonl_writer.ts";
import { formatDuration } from "../core/progress.ts";
import { computeReward, resetVerifierErrors, taskKey, verifierErrors } from "../tasks/registry.ts";
import {
  type AdvantageInput,
  computeAdvantages,
  singleGroupShare,
  taskPoolingWarning,
} from "./advantage.ts";
import {
  aggWeights,
  gather,
  microBatches,
  pack,
  type Packed,
  respLen,
  scatter,
  type TrainSeq,
} from "./batch.ts";
import { runStart, type RunState, saveRunCheckpoint, truncateLog } from "./checkpoint.ts";
import { learningRate, optimOf, type TrainConfig } from "./config.ts";
import {
  answerLengths,
  interleaveByTask,
  loadSamples,
  PromptSampler,
  responseBudget,
  type SamplerState,
  TaskBatch,
} from "./data.ts";
import { appendJsonl, mean, statsOf } from "./log.ts";

/** Options of {@link trainRl} besides the config. */
export interface RlOptions {
  out: string;
  /** Continue from DIR's latest checkpoint when there is one. */
  resume: boolean;
  gpu?: GpuOptions;
  /** Progress and the per-step table (stderr). */
  log?: (line: string) => void;
  /** Stop after this many steps of this invocation (tests; the run stays resumable). */
  maxStepsThisRun?: number;
  /**
   * Wall-clock deadline (performance.now() ms): no step starts that would, at the mean duration
   * of the steps so far, end after it (the first step always runs). The run then ends as if
   * its steps were done: final checkpoint and model.
   */
  deadline?: number;
  /** Called after each step with its metrics. */
  onStep?: (m: Record<string, unknown>) => void;
}

export interface RlSummary {
  steps: number;
  /** True when the deadline ended the run before train.steps. */
  outOfTime?: boolean;
  resumedFrom?: number;
  out: string;
  lastMetrics?: Record<string, unknown>;
}

/** One scored rollout. */
interface Traj {
  sample: number;
  uid: string;
  task: string;
  ability: string;
  roll: Rollout;
  reward: number;
  advantage: number;
}

/** A held-out evaluation: mean reward with its standard error, overall and per task. */
export interface Validation {
  reward_mean: number;
  reward_se: number;
  n: number;
  reward_by_task: Record<string, { mean: number; se: number; n: number }>;
  /** Each sample's reward, in input order (for paired comparisons). */
  rewards: number[];
  /** Each sample's response, in input order. */
  responses: string[];
}

/** A held-out evaluation: one response per sample (greedy by default), scored by its verifier. */
export async function validate(
  model: Qwen3,
  tok: Tokenizer,
  samples: readonly Sample[],
  cfg: TrainConfig,
): Promise<Validation> {
  const rolls = await rollout(model, tok, samples.map((s) => ({ messages: s.prompt })), {
    n: 1,
    maxNewTokens: cfg.log.val_max_new_tokens || cfg.rollout.max_new_tokens,
    temperature: cfg.log.val_temperature,
    topP: cfg.log.val_temperature > 0 ? cfg.rollout.top_p : 1,
    seed: subSeed(cfg.seed, "validation"),
    enableThinking: cfg.rollout.enable_thinking,
    batchPrompts: cfg.rollout.batch_prompts,
  });
  const byTask = new Map<string, number[]>();
  const all: number[] = [];
  for (const r of rolls) {
    const s = samples[r.prompt];
    const reward = scoreOne(s, r.text, cfg);
    all.push(reward);
    if (!byTask.has(s.ability)) byTask.set(s.ability, []);
    byTask.get(s.ability)!.push(reward);
  }
  const se = (xs: number[]) => xs.length > 1 ? statsOf(xs).std / Math.sqrt(xs.length) : 0;
  return {
    rewards: all,
    responses: rolls.map((r) => r.text),
    reward_mean: mean(all),
    reward_se: se(all),
    n: all.length,
    reward_by_task: Object.fromEntries(
      [...byTask].sort().map(([k, xs]) => [k, { mean: mean(xs), se: se(xs), n: xs.length }]),
    ),
  };
}

/** The verifier reward of one response (the format gate and options from the config). */
export function scoreOne(s: Sample, text: string, cfg: Pick<TrainConfig, "reward">): number {
  return computeReward({
    dataSource: s.data_source,
    response: text,
    groundTruth: s.reward_model.ground_truth,
    extraInfo: s.extra_info,
  }, { format: cfg.reward.format as "thinking" | "none", stripThink: cfg.reward.strip_think })
    .reward;
}

/** DAPO's overlong shaping: min(0, -(L - (Lmax - B)) / B · factor). */
export function overlongPenalty(len: number, maxLen: number, buffer: number, factor: number) {
  return Math.min(0, -((len - (maxLen - buffer)) / buffer) * factor);
}

/** Logprobs of each sequence's response tokens under `model` (forward only), at 1/temperature. */
async function responseLogprobs(
  model: Qwen3,
  seqs: readonly TrainSeq[],
  packs: readonly Packed[],
  invTemperature: number,
): Promise<Float32Array[]> {
  const out: Float32Array[] = new Array(seqs.length);
  for (const p of packs) {
    const rec = new Recorder(model.gpu, model.pool, { label: "old logprobs" });
    const st = await model.forward(rec, p.batch, { invTemperature });
    const r = rec.read(st.logprobs.buffer, p.batch.ids.length * 4);
    await rec.submit();
    const lp = new Float32Array(await r);
    model.release(st);
    for (let k = 0; k < p.members.length; k++) out[p.members[k]] = gather(p, seqs, k, lp);
  }
  return out;
}

/** Checks up front that a rollout batch and a micro-batch fit the adapter's binding limit. */
function checkMemory(gpu: Gpu, model: Qwen3, cfg: TrainConfig, maxPrompt: number): string {
  const { hkv, d, I, H, L } = model.dims;
  const max = gpu.limits.maxStorageBufferBindingSize;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const P = Math.min(
    cfg.rollout.batch_prompts,
    Math.max(cfg.train.gen_prompts, cfg.train.prompts_per_step),
  );
  const slots = P * (1 + cfg.rollout.n);
  const kv = slots * hkv * Math.max(maxPrompt, cfg.rollout.max_new_tokens) * d * 4;
  if (kv > max) {
    throw new Error(
      `the KV cache of one rollout batch (${P} prompts x ${cfg.rollout.n} rollouts, ${maxPrompt} + ` +
        `${cfg.rollout.max_new_tokens} tokens) needs ${mib(kv)} per layer, over the adapter's ` +
        `${
          mib(max)
        } binding limit: lower rollout.batch_prompts, rollout.n or rollout.max_new_tokens`,
    );
  }
  const T = Math.max(cfg.train.micro_batch_tokens, maxPrompt + cfg.rollout.max_new_tokens);
  const act = T * Math.max(I, H) * 4;
  if (act > max) {
    throw new Error(
      `a micro-batch of ${T} tokens needs ${mib(act)} for one activation, over the ${mib(max)} ` +
        "binding limit: lower train.micro_batch_tokens (or shorten prompts/responses)",
    );
  }
  const perLayer = T * (6 * H + 3 * I + 2 * hkv * d) * 4;
  const train = cfg.optim.recompute ? T * H * 4 * (L + 1) + perLayer : perLayer * L;
  return `memory: KV cache ${mib(kv * 2 * L)} per rollout batch, activations ~${mib(train)} ` +
    `per micro-batch (${T} tokens${cfg.optim.recompute ? ", recompute" : ""})`;
}

/** Runs (or resumes) RL training; see the module doc. */
export async function trainRl(cfg: TrainConfig, opts: RlOptions): Promise<RlSummary> {
  const log = opts.log ?? (() => {});
  const out = opts.out;
  if (!cfg.model.path) throw new Error("model.path is required (the start checkpoint)");
  if (!cfg.data.train) throw new Error("data.train is required (a data build's data.jsonl)");
  if (cfg.train.groups_per_task > cfg.train.prompts_per_step) {
    throw new Error(
      `train.groups_per_task (${cfg.train.groups_per_task}) is over train.prompts_per_step ` +
        `(${cfg.train.prompts_per_step}): no task could ever enter a batch`,
    );
  }
  await Deno.mkdir(out, { recursive: true });

  // ---- Start or resume.
  const resume = await runStart(out, opts.resume);
  const modelDir = resume?.dir ?? cfg.model.path;
  const gpu = await acquireGpu(opts.gpu);
  try {
    const tok = await loadTokenizer(modelDir);
    const { model } = await loadModel(gpu, modelDir, { matrices: "f32" });
    const trainer = new Trainer(model, optimOf(cfg.optim));
    const ref = cfg.train.kl_coef > 0
      ? (await loadModel(gpu, cfg.model.path, { matrices: "f32" })).model
      : undefined;

    // ---- Data: prompts tokenized once; too-long prompts filtered as verl does at load time.
    const all = await loadSamples(cfg.data.train, cfg.data.tasks as string[]);
    const maxPos = model.dims.maxPos;
    const ids = all.map((s) =>
      promptIds(tok, { messages: s.prompt }, {
        enableThinking: cfg.rollout.enable_thinking,
      })
    );
    const fits = all.map((_, i) => ids[i].length + cfg.rollout.max_new_tokens <= maxPos);
    const samples = all.filter((_, i) => fits[i]);
    const promptTok = ids.filter((_, i) => fits[i]);
    if (samples.length === 0) {
      throw new Error(
        `no prompt fits max_position_embeddings (${maxPos}) with rollout.max_new_tokens ` +
          `${cfg.rollout.max_new_tokens}`,
      );
    }
    if (samples.length < all.length) {
      log(`data: ${all.length - samples.length} prompt(s) longer than the context were dropped`);
    }
    const answers = answerLengths(
      samples,
      (t) => tok.encode(t).length,
      cfg.rollout.enable_thinking,
    );
    const cut = answers.filter((n) => n > cfg.rollout.max_new_tokens).length;
    if (cut > 0.15 * answers.length) {
      log(
        `warning: ${(100 * cut / answers.length).toFixed(0)}% of the reference answers are ` +
          `longer than rollout.max_new_tokens (${cfg.rollout.max_new_tokens}); those prompts ` +
          `cannot be solved (90% of the answers fit in ${
            responseBudget(answers, { hi: 1 << 20 })
          })`,
      );
    }
    const heldout = cfg.data.heldout
      ? interleaveByTask(await loadSamples(cfg.data.heldout, cfg.data.tasks as string[]))
        .slice(0, cfg.log.val_prompts)
      : [];
    const maxPrompt = Math.max(...promptTok.map((p) => p.length));
    log(checkMemory(gpu, model, cfg, maxPrompt));
    const tmnWarning = taskPoolingWarning(
      cfg.train.estimator,
      cfg.train.prompts_per_step,
      new Set(samples.map((x) => x.ability)).size,
      cfg.train.groups_per_task,
    );
    if (tmnWarning) log(`warning: ${tmnWarning}`);
    const sampler = new PromptSampler(
      samples,
      cfg.data.sampling as "natural" | "balanced",
      cfg.seed,
      cfg.data.task_block,
    );

    let step = 0, nonfiniteStreak = 0, nonfiniteTotal = 0;
    if (resume) {
      await trainer.loadState(resume.dir);
      sampler.restore(resume.state.sampler as SamplerState);
      step = resume.state.step;
      nonfiniteStreak = resume.state.nonfiniteStreak;
      nonfiniteTotal = resume.state.nonfiniteTotal;
      for (const f of ["metrics.jsonl", "val.jsonl"]) await truncateLog(joinPath(out, f), step);
      log(`resumed from ${resume.dir} (step ${step})`);
    } else {
      await Deno.remove(joinPath(out, "metrics.jsonl")).catch(() => {});
      await Deno.remove(joinPath(out, "val.jsonl")).catch(() => {});
    }
    await writeEffectiveConfig(out, cfg);
    const metricsPath = joinPath(out, "metrics.jsonl"), valPath = joinPath(out, "val.jsonl");

    const runVal = async (atStep: number) => {
      if (!heldout.length) return undefined;
      const t = performance.now();
      // Per-sample rewards stay in the log (in held-out order) so that runs can be compared
      // prompt by prompt (paired differences); the responses do not.
      const { responses: _s, ...v } = await validate(model, tok, heldout, cfg);
      await appendJsonl(valPath, { step: atStep, ...v, seconds: (performance.now() - t) / 1000 });
      log(
        `val step ${atStep}: reward ${v.reward_mean.toFixed(4)} ± ${
          v.reward_se.toFixed(4)
        } (n ${v.n})`,
      );
      return v;
    };
    if (step === 0 && cfg.log.val_every > 0) await runVal(0);

    const save = async () => {
      const state: RunState = {
        step,
        sampler: sampler.state(),
        nonfiniteStreak,
        nonfiniteTotal,
        config: cfg,
      };
      await saveRunCheckpoint(out, model, trainer, state, {
        tokenizerDir: modelDir,
        keep: cfg.checkpoint.keep,
      });
    };

    const P = cfg.train.prompts_per_step, n = cfg.rollout.n;
    const genPrompts = cfg.train.gen_prompts || P;
    const invT = 1 / cfg.rollout.temperature;
    const ppo: PpoSettings = {
      clipLow: cfg.train.clip_low,
      clipHigh: cfg.train.clip_high,
      clipC: cfg.train.clip_c,
      klCoef: cfg.train.kl_coef,
      klType: cfg.train.kl_type as "k1" | "k3",
    };
    const totalUpdates = cfg.train.steps * cfg.train.mini_batches * cfg.train.ppo_epochs;
    const startStep = step;
    const t0 = performance.now();
    let last: Record<string, unknown> | undefined;
    log(header());
    let interrupted = false, outOfTime = false;
    while (step < cfg.train.steps) {
      if (opts.maxStepsThisRun !== undefined && step - startStep >= opts.maxStepsThisRun) {
        interrupted = true;
        break;
      }
      if (opts.deadline !== undefined && step > startStep) {
        const perStep = (performance.now() - t0) / (step - startStep);
        if (performance.now() + perStep > opts.deadline) {
          outOfTime = true;
          break;
        }
      }
      step++;
      const tStep = performance.now();
      resetVerifierErrors();
      const time = { generate: 0, reward: 0, advantage: 0, old_logprob: 0, update: 0, total: 0 };

      // ---- 1-3. Rollouts, rewards, dynamic sampling.
      const allRewards: number[] = []; // every rollout generated this step, kept or dropped
      let rounds = 0, groupsSeen = 0, zeroVar = 0;
      const rolloutLp: number[] = [];
      const batch = new TaskBatch<Traj[]>(P, cfg.train.groups_per_task);
      const kept = batch.kept;
      while (kept.length < P && rounds < cfg.train.max_gen_rounds) {
        const picks = sampler.next(genPrompts);
        let t = performance.now();
        const rolls = await rollout(model, tok, picks.map((i) => promptTok[i]), {
          n,
          maxNewTokens: cfg.rollout.max_new_tokens,
          temperature: cfg.rollout.temperature,
          topP: cfg.rollout.top_p,
          topK: cfg.rollout.top_k,
          seed: subSeed(cfg.seed, `rollout/${step}/${rounds}`),
          batchPrompts: cfg.rollout.batch_prompts,
        });
        time.generate += (performance.now() - t) / 1000;
        t = performance.now();
        const groups: Traj[][] = picks.map(() => []);
        for (const r of rolls) {
          const s = samples[picks[r.prompt]];
          let reward = scoreOne(s, r.text, cfg);
          if (cfg.reward.overlong) {
            reward += overlongPenalty(
              r.tokens.length,
              cfg.rollout.max_new_tokens,
              cfg.reward.overlong_buffer,
              cfg.reward.overlong_penalty,
            );
          }
          groups[r.prompt].push({
            sample: picks[r.prompt],
            uid: `${step}/${rounds}/${r.prompt}`,
            task: taskKey(s),
            ability: s.ability,
            roll: r,
            reward,
            advantage: 0,
          });
        }
        time.reward += (performance.now() - t) / 1000;
        for (const g of groups) {
          groupsSeen++;
          for (const x of g) allRewards.push(x.reward);
          const rs = g.map((x) => x.reward);
          const flat = g.length > 1 && rs.every((x) => x === rs[0]);
          if (flat) zeroVar++;
          if (flat && cfg.train.dynamic_sampling) continue;
          batch.offer(g[0].task, g);
        }
        batch.admit();
        rounds++;
      }
      batch.finish();
      const trajs = kept.flat();
      for (const x of trajs) rolloutLp.push(...x.roll.logprobs);
      const rewardsAll = trajs.map((x) => x.reward);

      // ---- 4. Advantages.
      let t = performance.now();
      const inputs: AdvantageInput[] = trajs.map((x) => ({
        uid: x.uid,
        task: x.task,
        reward: x.reward,
      }));
      const adv = trajs.length
        ? computeAdvantages(cfg.train.estimator, inputs, {
          alpha: cfg.train.alpha,
          gamma: cfg.train.gamma,
        })
        : undefined;
      if (adv) trajs.forEach((x, i) => (x.advantage = adv.advantages[i]));
      time.advantage = (performance.now() - t) / 1000;

      // ---- 5. Sequences, old (and reference) logprobs.
      const seqs: TrainSeq[] = trajs.map((x) => ({
        tokens: [...x.roll.promptTokens, ...x.roll.tokens],
        respStart: x.roll.promptTokens.length,
      }));
      t = performance.now();
      const allPacks = microBatches(seqs, cfg.train.micro_batch_tokens).map((m) => pack(seqs, m));
      const nMini = Math.min(cfg.train.mini_batches, Math.max(1, kept.length));
      const single = cfg.train.ppo_epochs === 1 && nMini === 1;
      const recompute = cfg.train.old_logprobs === "recompute" || !single;
      const oldLp = trajs.length && recompute
        ? await responseLogprobs(model, seqs, allPacks, invT)
        : undefined;
      const refLp = ref && trajs.length
        ? await responseLogprobs(ref, seqs, allPacks, invT)
        : undefined;
      time.old_logprob = (performance.now() - t) / 1000;
      // Train/rollout mismatch: the training forward's logprobs of the sampled tokens against
      // the sampler's (from the recompute, or from the update's own forward below).
      let mismatch = 0, mismatchN = 0;
      const addMismatch = (i: number, lp: ArrayLike<number>) => {
        const x = trajs[i];
        for (let j = 0; j < x.roll.logprobs.length; j++) {
          mismatch += Math.abs(lp[j] - x.roll.logprobs[j]);
          mismatchN++;
        }
      };
      if (oldLp) oldLp.forEach((lp, i) => addMismatch(i, lp));

      // ---- 6. PPO-clip updates: mini-batches of prompt groups, ppo_epochs passes.
      t = performance.now();
      let pgLoss = 0, clipN = 0, dualN = 0, klSum = 0, tokN = 0, entSum = 0, approxKl = 0;
      let gradNorm = NaN, skipped = false, updates = 0, lr = 0;
      const groupIdx: number[][] = [];
      {
        let i = 0;
        for (const g of kept) {
          groupIdx.push(g.map(() => i++));
        }
      }
      for (let epoch = 0; epoch < cfg.train.ppo_epochs && trajs.length; epoch++) {
        for (let mbi = 0; mbi < nMini; mbi++) {
          const members = groupIdx.filter((_, gi) => gi % nMini === mbi).flat();
          if (!members.length) continue;
          const w = aggWeights(
            cfg.train.loss_agg,
            members.map((i) => respLen(seqs[i])),
            cfg.rollout.max_new_tokens,
          );
          const weightOf = new Map(members.map((i, k) => [i, w[k]]));
          const sub = members.map((i) => seqs[i]);
          const packs = microBatches(sub, cfg.train.micro_batch_tokens).map((m) =>
            pack(seqs, m.map((k) => members[k]))
          );
          const micro: MicroBatch[] = packs.map((p) => ({
            batch: p.batch,
            ppo: {
              oldLogprob: oldLp ? scatter(p, seqs, (i, j) => oldLp[i][j]) : undefined,
              advantage: scatter(p, seqs, (i) => trajs[i].advantage),
              weight: scatter(p, seqs, (i) => weightOf.get(i)!),
              refLogprob: refLp ? scatter(p, seqs, (i, j) => refLp[i][j]) : undefined,
            },
            entCoef: cfg.train.entropy_coef > 0
              ? scatter(p, seqs, (i) => -cfg.train.entropy_coef * weightOf.get(i)!)
              : undefined,
          }));
          updates++;
          lr = learningRate(cfg.optim, trainer.step + 1, totalUpdates);
          const r = await trainer.run(micro, { lr, invTemperature: invT, ppo });
          gradNorm = r.gradNorm;
          skipped ||= r.skipped;
          // Token statistics (first epoch only: later epochs see an updated policy).
          for (const [pi, p] of packs.entries()) {
            const st = r.micro[pi].ppoStats!;
            const wArr = micro[pi].ppo!.weight;
            for (let tk = 0; tk < wArr.length; tk++) {
              if (wArr[tk] === 0) continue;
              pgLoss += st[tk * 4];
              if (epoch > 0) continue;
              tokN++;
              clipN += st[tk * 4 + 1];
              dualN += st[tk * 4 + 2];
              klSum += st[tk * 4 + 3];
              entSum += r.micro[pi].entropy[tk];
              const old = micro[pi].ppo!.oldLogprob;
              const d = old ? r.micro[pi].logprobs[tk] - old[tk] : 0;
              approxKl += 0.5 * d * d;
            }
            if (!oldLp && epoch === 0) {
              for (let k = 0; k < p.members.length; k++) {
                addMismatch(p.members[k], gather(p, seqs, k, r.micro[pi].logprobs));
              }
            }
          }
        }
      }
      time.update = (performance.now() - t) / 1000;
      if (skipped) {
        nonfiniteStreak++;
        nonfiniteTotal++;
        log(`warning: step ${step}: non-finite gradient (norm ${gradNorm}); update skipped`);
        if (nonfiniteStreak >= cfg.guards.max_nonfinite) {
          throw new Error(
            `${nonfiniteStreak} non-finite steps in a row (guards.max_nonfinite): aborting; the ` +
              `last checkpoint is intact (lower optim.lr, or check the data)`,
          );
        }
      } else nonfiniteStreak = 0;

      // ---- 7. Metrics, dumps, validation, checkpoints.
      time.total = (performance.now() - tStep) / 1000;
      const lens = trajs.map((x) => x.roll.tokens.length);
      const byTask = groupBy(trajs, (x) => x.ability);
      const advs = trajs.map((x) => x.advantage);
      const as = statsOf(advs);
      const tokens = seqs.reduce((a, s) => a + s.tokens.length, 0);
      const m: Record<string, unknown> = {
        phase: "rl",
        step,
        epoch: sampler.epoch,
        reward_mean: mean(rewardsAll),
        // The on-policy reward before dynamic sampling (reward_mean is over the kept groups).
        reward_all_mean: mean(allRewards),
        reward_std: statsOf(rewardsAll).std,
        reward_by_task: mapValues(byTask, (xs) => mean(xs.map((x) => x.reward))),
        count_by_task: mapValues(byTask, (xs) => xs.length),
        task_scale: adv?.stats.taskScale ?? {},
        pass_rate_by_task: adv?.stats.passRate ?? {},
        mean_pass_rate: adv?.stats.meanPassRate ?? null,
        weight_mean_by_task: adv?.stats.weightMean ?? {},
        // Share of the batch's task keys with a single prompt group: there S_k is that group's
        // own std, so tmn is grpo exactly (and tmn-reweight is grpo times the weights).
        single_group_task_frac: singleGroupShare(inputs),
        groups: kept.length,
        groups_seen: groupsSeen,
        // Groups with reward variance dropped because their task had fewer than
        // train.groups_per_task of them when generation stopped.
        groups_unpooled: batch.waiting,
        zero_variance_frac: groupsSeen ? zeroVar / groupsSeen : 0,
        gen_rounds: rounds,
        adv_mean: as.mean,
        adv_std: as.std,
        adv_abs_mean: mean(advs.map(Math.abs)),
        adv_min: as.min,
        adv_max: as.max,
        response_length_mean: mean(lens),
        response_length_max: lens.length ? Math.max(...lens) : 0,
        response_clip_ratio: mean(trajs.map((x) => x.roll.finishReason === "length" ? 1 : 0)),
        entropy: tokN ? entSum / tokN : null,
        pg_loss: pgLoss / Math.max(1, updates),
        pg_clipfrac: tokN ? clipN / tokN : 0,
        pg_clipfrac_lower: tokN ? dualN / tokN : 0,
        approx_kl: tokN ? approxKl / tokN : 0,
        kl_ref: ref && tokN ? klSum / tokN : null,
        rollout_logprob_diff: mismatchN ? mismatch / mismatchN : 0,
        grad_norm: gradNorm,
        lr,
        updates,
        tokens,
        tokens_per_s: tokens / time.total,
        time,
        verifier_errors: verifierErrors(),
        skipped,
        nonfinite_total: nonfiniteTotal,
      };
      await appendJsonl(metricsPath, m);
      last = m;
      opts.onStep?.(m);
      const elapsed = (performance.now() - t0) / 1000, perStep = elapsed / (step - startStep);
      let eta = perStep * (cfg.train.steps - step), total = String(cfg.train.steps);
      if (opts.deadline !== undefined) {
        // A deadline-bound run (the recipe) shows the steps it will reach, not its step cap.
        const left = Math.max(0, (opts.deadline - performance.now()) / 1000);
        const reach = step + Math.floor(left / perStep);
        if (reach < cfg.train.steps) [eta, total] = [(reach - step) * perStep, `~${reach}`];
      }
      log(row(m, total, eta));
      if (cfg.log.dump_every > 0 && step % cfg.log.dump_every === 0) {
        await Deno.mkdir(joinPath(out, "rollouts"), { recursive: true });
        await JsonlWriter.with(
          joinPath(out, "rollouts", `step-${String(step).padStart(6, "0")}.jsonl`),
          () => {},
          async (w) => {
            for (const x of trajs) {
              await w.write({
                step,
                uid: x.uid,
                sample_id: samples[x.sample].id,
                task: x.ability,
                task_key: x.task,
                response: x.roll.text,
                reward: x.reward,
                advantage: x.advantage,
                finish_reason: x.roll.finishReason,
                length: x.roll.tokens.length,
              });
            }
          },
        );
      }
      if (cfg.log.val_every > 0 && (step % cfg.log.val_every === 0 || step === cfg.train.steps)) {
        await runVal(step);
      }
      if (step % cfg.checkpoint.every === 0 || step === cfg.train.steps) await save();
    }
    if (outOfTime) {
      log(`deadline: stopped after step ${step}, before a step that would not finish in time`);
      if (step % cfg.checkpoint.every !== 0) await save();
    }
    // The final policy, in HF layout, for eval (golongrl eval --model DIR/model).
    if (!interrupted) {
      const host = await model.weights.toHost(gpu, new Recorder(gpu, model.pool));
      await saveCheckpoint(joinPath(out, "model"), model.config, host);
      await copyTokenizerFiles(modelDir, joinPath(out, "model"));
    }
    trainer.destroy();
    return { steps: step, outOfTime, resumedFrom: resume?.state.step, out, lastMetrics: last };
  } finally {
    gpu.destroy();
  }
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  for (const x of xs) (out[key(x)] ??= []).push(x);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function mapValues<T, U>(o: Record<string, T>, f: (x: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

function header(): string {
  return "  step  reward  zero-var  groups  resp-len  entropy  clipfrac  approx-kl  grad-norm" +
    "  tok/s   gen/upd s  ETA";
}

function row(m: Record<string, unknown>, steps: string, eta: number): string {
  const f = (x: unknown, d = 3) => typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "-";
  const t = m.time as Record<string, number>;
  return [
    `${String(m.step).padStart(4)}/${steps}`,
    f(m.reward_mean, 4).padStart(7),
    f(m.zero_variance_frac, 2).padStart(8),
    String(m.groups).padStart(7),
    f(m.response_length_mean, 1).padStart(9),
    f(m.entropy, 3).padStart(8),
    f(m.pg_clipfrac, 3).padStart(9),
    f(m.approx_kl, 5).padStart(10),
    f(m.grad_norm, 3).padStart(10),
    f(m.tokens_per_s, 0).padStart(6),
    `${f(t.generate, 1)}/${f(t.update, 1)}`.padStart(11),
    ` ${formatDuration(eta)}`,
    m.skipped ? " SKIPPED" : "",
  ].join(" ");
}
