/** `golongrl train` (GRPO / TMN-Reweight) and `golongrl sft` (supervised warm-up). */
import { command } from "./command.ts";
import { type FlagsOf, type FlagSpec, requireFlags } from "./args.ts";
import { CONFIG_FLAGS, configFromFlags } from "./config_flags.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { UsageError } from "../core/errors.ts";
import { SFT_SCHEMA, TRAIN_SCHEMA } from "../train/config.ts";
import { trainRl } from "../train/rl.ts";
import { trainSft } from "../train/sft.ts";

const RUN_FLAGS = {
  ...CONFIG_FLAGS,
  out: { type: "string", value: "DIR", description: "Run folder (checkpoints, metrics)." },
  resume: {
    type: "string",
    value: "auto",
    choices: ["auto"],
    description: "Continue DIR's run from its latest checkpoint (a fresh run when it has none).",
  },
  model: { type: "string", value: "DIR", description: "Start checkpoint (model.path)." },
  data: { type: "string", value: "FILE", description: "Training samples (data.train)." },
  heldout: {
    type: "string",
    value: "FILE",
    description: "Held-out samples (data.heldout).",
  },
  steps: {
    type: "integer",
    value: "N",
    min: 1,
    description: "Steps (train.steps / sft.steps).",
  },
  ...GPU_FLAGS,
} as const satisfies Record<string, FlagSpec>;

type RunFlags = FlagsOf<typeof RUN_FLAGS>;

/** --model/--data/--heldout/--steps as --set overrides (after the file, before explicit --set). */
function shortcuts(flags: RunFlags, stepsKey: string): RunFlags {
  const sets: string[] = [];
  if (flags.model) sets.push(`model.path=${flags.model}`);
  if (flags.data) sets.push(`data.train=${flags.data}`);
  if (flags.heldout) sets.push(`data.heldout=${flags.heldout}`);
  if (flags.steps !== undefined) sets.push(`${stepsKey}=${flags.steps}`);
  return { ...flags, set: [...sets, ...(flags.set ?? [])] };
}

export const train = command({
  name: "train",
  summary: "RL on verifiable rewards: GRPO / TMN-Reweight with PPO-clip, on the GPU.",
  usage: "golongrl train --config FILE [--set KEY=VALUE]... --out DIR [--resume auto]\n" +
    "               [--model DIR] [--data FILE] [--heldout FILE] [--steps N]",
  description:
    "Each step samples prompts from a data build, generates rollout.n responses each, scores them\n" +
    "with the verifiers, drops zero-variance groups (dynamic sampling), computes advantages\n" +
    "(train.estimator: grpo, dr-grpo, tmn, tmn-reweight, qwenlong-task, rloo) and updates the\n" +
    "policy with PPO-clip. Writes DIR/config.json, DIR/metrics.jsonl (one line per step),\n" +
    "DIR/val.jsonl (held-out reward), DIR/rollouts/, DIR/checkpoints/ and the final DIR/model.\n" +
    "Settings: see docs/training.md; every key can be set with --set (e.g. --set rollout.n=16).",
  flags: RUN_FLAGS,
  examples: [
    "golongrl train --model sft/model --data data/data.jsonl --heldout data/heldout.jsonl --out runs/rl",
    "golongrl train --config rl.yaml --set train.estimator=grpo --out runs/grpo --resume auto",
  ],
  async run({ io, flags }) {
    requireFlags("golongrl train", flags, ["out"]);
    const cfg = await configFromFlags(
      TRAIN_SCHEMA,
      shortcuts(flags, "train.steps"),
      "golongrl train",
    );
    if (!cfg.model.path) {
      throw new UsageError("set the start checkpoint: --model DIR", "golongrl train --help");
    }
    if (!cfg.data.train) {
      throw new UsageError("set the training data: --data FILE", "golongrl train --help");
    }
    const r = await trainRl(cfg, {
      out: flags.out,
      resume: flags.resume === "auto",
      gpu: gpuOptions(flags),
      log: flags.quiet ? undefined : (s) => io.err(s + "\n"),
    });
    io.out(
      JSON.stringify({ out: r.out, steps: r.steps, resumed_from: r.resumedFrom ?? null }) + "\n",
    );
  },
});

export const sft = command({
  name: "sft",
  summary: "Supervised warm-up on reference answers (and optional LM loss on text).",
  usage: "golongrl sft --config FILE [--set KEY=VALUE]... --out DIR [--resume auto]\n" +
    "             [--model DIR] [--data FILE] [--heldout FILE] [--steps N]",
  description:
    "Next-token loss on each sample's reference answer written as its verifier parses it\n" +
    "(sft.context_loss adds an LM loss on the prompt; data.text and sft.text_fraction add windows\n" +
    "of plain text). Checkpoints, resume and metrics as `train`; the final model in DIR/model.",
  flags: RUN_FLAGS,
  examples: [
    "golongrl sft --model tiny/ --data data/data.jsonl --steps 300 --set optim.lr=1e-3 --out runs/sft",
  ],
  async run({ io, flags }) {
    requireFlags("golongrl sft", flags, ["out"]);
    const cfg = await configFromFlags(SFT_SCHEMA, shortcuts(flags, "sft.steps"), "golongrl sft");
    if (!cfg.model.path) {
      throw new UsageError("set the start checkpoint: --model DIR", "golongrl sft --help");
    }
    const r = await trainSft(cfg, {
      out: flags.out,
      resume: flags.resume === "auto",
      gpu: gpuOptions(flags),
      log: flags.quiet ? undefined : (s) => io.err(s + "\n"),
    });
    io.out(JSON.stringify({ out: flags.out, model: r.model, steps: r.steps }) + "\n");
  },
});
