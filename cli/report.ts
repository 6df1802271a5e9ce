/** `golongrl report RUN_DIR`: training curves per task (SVG) and a Markdown summary. */
import { command } from "./command.ts";
import { writeRunReport } from "../train/report.ts";

export const reportCommand = command({
  name: "report",
  summary: "Draw a training run's curves per task (SVG) and write its Markdown summary.",
  usage: "golongrl report RUN_DIR [--out DIR]",
  description: "Reads RUN_DIR/metrics.jsonl (required), config.json, val.jsonl and\n" +
    "eval_before/ and eval_after/results.json (optional). Writes report.md, reward_by_task.svg,\n" +
    "diagnostics.svg, time.svg and, when their inputs exist, heldout.svg, sft_loss.svg and\n" +
    "before_after.svg. Prints the report's path and a three-line summary.",
  flags: {
    out: { type: "string", value: "DIR", description: "Output folder [default: RUN_DIR]." },
  },
  positionals: [{ name: "run_dir", description: "The training run's folder.", required: true }],
  examples: ["golongrl report runs/tmn", "golongrl report runs/tmn --out /tmp/tmn-report"],
  async run({ io, flags, positionals }) {
    const r = await writeRunReport(positionals[0], { out: flags.out });
    io.out(`${r.path}\n${r.summary.join("\n")}\n`);
  },
});
