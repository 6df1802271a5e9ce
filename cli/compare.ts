/** `golongrl compare RUN_DIR...`: training runs side by side, by method, with seeds as repeats. */
import { command } from "./command.ts";
import { writeComparison } from "../train/compare.ts";

export const compare = command({
  name: "compare",
  summary:
    "Compare training runs by method (seeds as repeats): held-out reward with 95% intervals.",
  usage: "golongrl compare RUN_DIR... --out DIR [--key train.estimator] [--baseline grpo]",
  description:
    "Groups the runs by a config key (the estimator by default) and by seed, and compares their\n" +
    "held-out evaluations (val.jsonl at step 0 and at the last step): per method the end reward\n" +
    "and its change over seeds, paired differences against the baseline per seed and per prompt,\n" +
    "per-task rewards, whether every run started from the same evaluation, and how far runs\n" +
    "repeated with the same method and seed ended apart. Writes DIR/compare.md, compare.json\n" +
    "and SVG curves (train reward, S_k and weights per task group); prints one line per method.",
  flags: {
    out: { type: "string", value: "DIR", description: "Output folder." },
    key: {
      type: "string",
      value: "KEY",
      default: "train.estimator",
      description: "Config key that names a run's method.",
    },
    baseline: {
      type: "string",
      value: "METHOD",
      description: "Method the others are paired against [default: grpo if present, else first].",
    },
    title: { type: "string", value: "TEXT", description: "Report title." },
  },
  positionals: [{
    name: "run_dir",
    description: "Training run folders.",
    required: true,
    variadic: true,
  }],
  examples: [
    "golongrl compare runs/study/*-s? --out docs/experiments/tmn-vs-grpo",
  ],
  async run({ io, flags, positionals }) {
    const r = await writeComparison(positionals, {
      out: flags.out ?? "compare",
      key: flags.key,
      baseline: flags.baseline,
      title: flags.title,
    });
    io.out(`${r.path}\n${r.summary.join("\n")}\n`);
  },
});
