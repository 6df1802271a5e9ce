/**
 * The settings of `golongrl train` and `golongrl sft`, as config schemas (core/config_schema.ts: a JSON
 * or YAML file plus `--set key=value`, validated with errors naming the file, line and key).
 *
 * RL defaults follow the GoLongRL recipe (recipe §3-4: PPO-clip 0.2/0.28 with dual clip 3, no KL,
 * no entropy bonus, AdamW with weight decay 0.1, 5 warm-up steps then constant, grad clip 1,
 * dynamic sampling on, TMN-Reweight with alpha 0.8, gamma 1), scaled down where the recipe's
 * numbers only fit a cluster (16 rollouts of 16K tokens for 128 prompts): n, batch sizes and
 * lengths are ours and meant to be raised on a GPU.
 */
import { bool, type ConfigOf, int, list, num, section, str } from "../core/config_schema.ts";
import { estimatorNames } from "./advantage.ts";
import type { OptimConfig } from "../engine/train_step.ts";

/** verl's loss aggregation modes (core_algos.agg_loss). */
export const LOSS_AGG = [
  "token-mean",
  "seq-mean-token-mean",
  "seq-mean-token-sum",
  "seq-mean-token-sum-norm",
] as const;
export type LossAgg = typeof LOSS_AGG[number];

const optimSection = (lr: number, warmup: number, wd: number) =>
  section({
    lr: num(lr, { min: 0, description: "Peak learning rate." }),
    warmup_steps: int(warmup, { min: 0, description: "Linear warm-up from 0 (optimizer steps)." }),
    schedule: str("constant", { choices: ["constant", "cosine"], description: "After warm-up." }),
    min_lr_ratio: num(0, { min: 0, max: 1, description: "Cosine floor as a fraction of lr." }),
    weight_decay: num(wd, { min: 0 }),
    beta1: num(0.9, { min: 0, max: 1 }),
    beta2: num(0.999, { min: 0, max: 1 }),
    eps: num(1e-8, { min: 0 }),
    max_grad_norm: num(1.0, { min: 0, description: "Global gradient-norm clip; 0 disables." }),
    recompute: bool(false, "Recompute activations per layer in the backward (less memory)."),
  });

const checkpointSection = section({
  every: int(10, { min: 1, description: "Save every N steps (and at the end)." }),
  keep: int(2, { min: 1, description: "Checkpoints kept (the newest)." }),
});

const guardsSection = section({
  max_nonfinite: int(5, {
    min: 1,
    description: "Abort after this many non-finite steps in a row (each is skipped).",
  }),
});

/** `golongrl train` (GRPO family, PPO-clip). */
export const TRAIN_SCHEMA = {
  seed: int(0, { min: 0, description: "Fixes data order, sampling and everything random." }),
  model: section({
    path: str("", { description: "Start checkpoint (HF folder with tokenizer files)." }),
  }),
  data: section({
    train: str("", { description: "Samples JSONL (a data build's data.jsonl, or its folder)." }),
    heldout: str("", { description: "Held-out samples JSONL for validation (optional)." }),
    sampling: str("natural", {
      choices: ["natural", "balanced"],
      description: "natural: shuffled epochs over all samples; balanced: round-robin over tasks.",
    }),
    tasks: list("string", [], "Task types to keep (default all)."),
    task_block: int(1, {
      min: 1,
      description: "balanced: prompts of one task dealt in a row, so a generation round holds " +
        "several groups of a task (see train.groups_per_task).",
    }),
  }),
  rollout: section({
    n: int(8, { min: 1, max: 1024, description: "Rollouts per prompt (GRPO group size)." }),
    temperature: num(1.0, { min: 0.01, description: "Sampling temperature (train)." }),
    top_p: num(1.0, { min: 0, max: 1 }),
    top_k: int(0, { min: 0 }),
    max_new_tokens: int(128, { min: 1, description: "Response length limit." }),
    enable_thinking: bool(true, "Chat template with thinking on (Qwen3 enable_thinking)."),
    batch_prompts: int(16, { min: 1, description: "Prompts per generate call (KV-cache bound)." }),
  }),
  reward: section({
    format: str("thinking", {
      choices: ["thinking", "none"],
      description: "thinking: the </think> format gate applies (recipe §1.2).",
    }),
    strip_think: bool(false, "Whole-response verifiers read only the text after </think>."),
    overlong: bool(false, "DAPO overlong reward shaping (off in the recipe)."),
    overlong_buffer: int(32, { min: 1, description: "Tokens before the limit where it starts." }),
    overlong_penalty: num(1.0, { min: 0 }),
  }),
  train: section({
    steps: int(30, { min: 1, description: "RL steps (one rollout batch each)." }),
    prompts_per_step: int(8, { min: 1, description: "Prompt groups per step (train batch)." }),
    gen_prompts: int(0, {
      min: 0,
      description: "Prompts sampled per generation round (0 = prompts_per_step).",
    }),
    dynamic_sampling: bool(true, "Drop zero-variance groups and refill (DAPO filter_groups)."),
    max_gen_rounds: int(4, { min: 1, description: "Generation rounds per step at most." }),
    groups_per_task: int(1, {
      min: 1,
      description: "Least prompt groups of a task in a step's batch: a task's groups wait (up " +
        "to max_gen_rounds) until this many are kept, so tmn's S_k pools several groups.",
    }),
    estimator: str("tmn-reweight", {
      choices: estimatorNames(),
      description: "Advantage estimator (golongrl advantage --help lists them).",
    }),
    alpha: num(0.8, { min: 0, max: 1, description: "TMN-Reweight baseline smoothing." }),
    gamma: num(1.0, { min: 0, description: "TMN-Reweight difficulty strength." }),
    mini_batches: int(1, { min: 1, description: "Optimizer steps per rollout batch (per epoch)." }),
    ppo_epochs: int(1, { min: 1 }),
    old_logprobs: str("auto", {
      choices: ["auto", "recompute"],
      description: "recompute: a forward before the update (verl); auto: only when a step makes " +
        "more than one update (with one update the old policy is the current one, ratio 1).",
    }),
    micro_batch_tokens: int(4096, {
      min: 1,
      description: "Tokens per forward/backward (gradient accumulation above it).",
    }),
    loss_agg: str("seq-mean-token-mean", {
      choices: LOSS_AGG,
      description:
        "Loss aggregation (verl agg_loss); recipe §3.5: effectively seq-mean-token-mean.",
    }),
    clip_low: num(0.2, { min: 0 }),
    clip_high: num(0.28, { min: 0 }),
    clip_c: num(3.0, { min: 0, description: "Dual-clip constant (<= 1 disables)." }),
    kl_coef: num(0, { min: 0, description: "KL-to-reference loss coefficient (0 = off)." }),
    kl_type: str("k3", { choices: ["k1", "k3"], description: "KL estimator for the loss." }),
    entropy_coef: num(0, { min: 0, description: "Entropy bonus coefficient (0 = off)." }),
  }),
  optim: optimSection(2e-6, 5, 0.1),
  checkpoint: checkpointSection,
  log: section({
    dump_every: int(10, { min: 0, description: "Rollout dumps every k steps (0 = never)." }),
    val_every: int(10, { min: 0, description: "Held-out validation every k steps (0 = never)." }),
    val_prompts: int(64, { min: 1, description: "Held-out prompts per validation." }),
    val_temperature: num(0, { min: 0, description: "Validation sampling (0 = greedy)." }),
    val_max_new_tokens: int(0, { min: 0, description: "0 = rollout.max_new_tokens." }),
  }),
  guards: guardsSection,
};
export type TrainConfig = ConfigOf<typeof TRAIN_SCHEMA>;

/** `golongrl sft` (supervised warm-up on reference answers). */
export const SFT_SCHEMA = {
  seed: int(0, { min: 0 }),
  model: section({ path: str("", { description: "Start checkpoint (HF folder)." }) }),
  data: section({
    train: str("", { description: "Samples JSONL with reference answers (a data build)." }),
    heldout: str("", { description: "Held-out samples JSONL (loss reported at checkpoints)." }),
    text: list("string", [], "Plain-text files for LM loss on windows of text (pretraining)."),
    tasks: list("string", [], "Task types to keep (default all)."),
  }),
  sft: section({
    steps: int(200, { min: 1 }),
    batch_tokens: int(4096, { min: 1, description: "Tokens per optimizer step." }),
    micro_batch_tokens: int(4096, { min: 1 }),
    context_loss: num(0, {
      min: 0,
      description: "Weight of the LM loss on prompt tokens (0 = response tokens only).",
    }),
    text_fraction: num(0, {
      min: 0,
      max: 1,
      description: "Share of each batch from data.text windows (LM pretraining).",
    }),
    seq_len: int(512, { min: 8, description: "Window length for data.text." }),
    enable_thinking: bool(true, "Chat template with thinking on."),
    think: str("", { description: "Reasoning text put inside <think></think> of each target." }),
  }),
  optim: optimSection(1e-3, 20, 0.0),
  checkpoint: checkpointSection,
  guards: guardsSection,
};
export type SftConfig = ConfigOf<typeof SFT_SCHEMA>;

/** The learning rate at optimizer step `t` (1-based): linear warm-up, then constant or cosine. */
export function learningRate(
  o: { lr: number; warmup_steps: number; schedule: string; min_lr_ratio: number },
  t: number,
  total: number,
): number {
  if (o.warmup_steps > 0 && t <= o.warmup_steps) return (o.lr * t) / o.warmup_steps;
  if (o.schedule !== "cosine") return o.lr;
  const span = Math.max(1, total - o.warmup_steps);
  const p = Math.min(1, Math.max(0, (t - o.warmup_steps) / span));
  const floor = o.lr * o.min_lr_ratio;
  return floor + (o.lr - floor) * 0.5 * (1 + Math.cos(Math.PI * p));
}

/** The engine's optimizer settings from a config's `optim` section. */
export function optimOf(o: SftConfig["optim"]): OptimConfig {
  return {
    lr: o.lr,
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    weightDecay: o.weight_decay,
    maxGradNorm: o.max_grad_norm,
    checkpoint: o.recompute,
  };
}
