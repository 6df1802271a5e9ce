/** `golongrl recipe`: the whole GoLongRL recipe end to end on embedded defaults, in minutes. */
import { command } from "./command.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { runRecipe } from "../train/recipe.ts";

export const recipe = command({
  name: "recipe",
  summary: "Data → eval → GRPO/TMN-Reweight → eval → report, sized to a time budget.",
  usage:
    "golongrl recipe [--out DIR] [--budget MINUTES] [--steps N] [--model DIR] [--data PATH]\n" +
    "                [--sources DIR...] [--seed S] [--set KEY=VALUE]...",
  description:
    "With no flags: builds 9-task verifiable data from the embedded documents (held-out split by\n" +
    "document), measures the embedded tiny checkpoint on held-out prompts, trains it with GRPO +\n" +
    "TMN-Reweight for as many steps as the budget allows (calibrated on this machine), measures\n" +
    "it again on the same prompts and writes DIR/report.md with curves (SVG) and the before/after\n" +
    "table. --model, --data (a data build folder or data.jsonl with heldout.jsonl beside it) and\n" +
    "--sources point the same pipeline at your own model and data; --set changes RL settings as\n" +
    "`train --set` does (e.g. --set rollout.n=8).",
  flags: {
    out: {
      type: "string",
      value: "DIR",
      default: "runs/recipe",
      description: "Run folder (data, checkpoints, metrics, report).",
    },
    budget: {
      type: "number",
      value: "MINUTES",
      default: 10,
      min: 1,
      description: "Wall-clock budget for the whole run.",
    },
    steps: { type: "integer", value: "N", min: 1, description: "At most N RL steps." },
    model: { type: "string", value: "DIR", description: "Start checkpoint (default: embedded)." },
    data: { type: "string", value: "PATH", description: "Samples (default: build them)." },
    sources: {
      type: "string",
      value: "DIR",
      multiple: true,
      description: "Documents to build from (default: the embedded corpus).",
    },
    "per-task": {
      type: "integer",
      value: "N",
      default: 40,
      min: 1,
      description: "Samples per task built from the documents.",
    },
    seed: { type: "integer", value: "S", default: 0, min: 0, description: "Seed of everything." },
    set: {
      type: "string",
      value: "KEY=VALUE",
      multiple: true,
      description: "RL setting override (train's config keys).",
    },
    ...GPU_FLAGS,
  },
  examples: ["golongrl recipe", "golongrl recipe --budget 30 --out runs/longer"],
  async run({ io, flags }) {
    const r = await runRecipe({
      out: flags.out,
      budgetS: flags.budget * 60,
      steps: flags.steps,
      model: flags.model,
      data: flags.data,
      sources: flags.sources,
      perTask: flags["per-task"],
      seed: flags.seed,
      set: flags.set,
      gpu: gpuOptions(flags),
      log: flags.quiet ? undefined : (s) => io.err(s + "\n"),
    });
    io.out(r.summary.join("\n") + "\n");
  },
});
