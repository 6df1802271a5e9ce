/** `golongrl advantage`: the trainer's advantage estimators, offline over a rollouts file. */
import { command } from "./command.ts";
import { requireFlags } from "./args.ts";
import { readJsonl } from "../core/jsonl.ts";
import { JsonlWriter } from "../core/jsonl_writer.ts";
import { InputError } from "../core/errors.ts";
import {
  type AdvantageInput,
  AdvantageInputError,
  computeAdvantages,
  DEFAULT_ADVANTAGE_OPTIONS,
  estimatorNames,
  ESTIMATORS,
} from "../train/advantage.ts";

/** One line's {uid, task, reward}; a uid may be a string or an integer id. */
function rolloutOf(v: Record<string, unknown>, file: string, line: number): AdvantageInput {
  const uid = typeof v.uid === "number" && Number.isInteger(v.uid) ? String(v.uid) : v.uid;
  if (typeof uid !== "string") {
    throw new InputError("expected a string (the prompt group id)", file, line, "uid");
  }
  if (v.task !== undefined && typeof v.task !== "string") {
    throw new InputError("expected a string (the task key)", file, line, "task");
  }
  if (typeof v.reward !== "number" || !Number.isFinite(v.reward)) {
    throw new InputError("expected a finite number", file, line, "reward");
  }
  // A missing task is left for the estimators that need one to reject.
  return { uid, task: v.task as string, reward: v.reward };
}

export const advantage = command({
  name: "advantage",
  summary: "Compute advantages offline from {uid, task, reward} lines, as the trainer does.",
  usage:
    "golongrl advantage --estimator NAME --in ROLLOUTS.jsonl [--out FILE] [--alpha A] [--gamma G]",
  description:
    "Reads {uid, task, reward} lines (other fields are kept) and writes each line back\n" +
    'with an "advantage" field, in input order, to --out (atomically) or stdout. Statistics are\n' +
    "over the whole file, as over one training batch. Estimators:\n" +
    [...ESTIMATORS.values()].map((e) => `  ${e.name}: ${e.doc}`).join("\n"),
  flags: {
    estimator: {
      type: "string",
      value: "NAME",
      choices: estimatorNames(),
      description: "Advantage estimator.",
    },
    in: { type: "string", value: "FILE", description: "Rollouts (JSONL): {uid, task, reward}." },
    out: { type: "string", value: "FILE", description: "Output (JSONL); stdout when absent." },
    alpha: {
      type: "number",
      value: "A",
      default: DEFAULT_ADVANTAGE_OPTIONS.alpha,
      min: 0,
      max: 1,
      description: "tmn-reweight: weight of the prompt mean in the smoothed baseline.",
    },
    gamma: {
      type: "number",
      value: "G",
      default: DEFAULT_ADVANTAGE_OPTIONS.gamma,
      description: "tmn-reweight: strength of the difficulty weights.",
    },
  },
  examples: [
    "golongrl advantage --estimator tmn-reweight --in rollouts.jsonl --out adv.jsonl",
    "golongrl advantage --estimator grpo --in rollouts.jsonl",
  ],
  async run({ io, flags }) {
    requireFlags("golongrl advantage", flags, ["estimator", "in"]);
    const file = flags.in;
    const records: Record<string, unknown>[] = [];
    const lines: number[] = [];
    const inputs: AdvantageInput[] = [];
    for await (const { line, value } of readJsonl(file)) {
      inputs.push(rolloutOf(value, file, line));
      records.push(value);
      lines.push(line);
    }
    let result;
    try {
      result = computeAdvantages(flags.estimator, inputs, {
        alpha: flags.alpha,
        gamma: flags.gamma,
      });
    } catch (e) {
      if (e instanceof AdvantageInputError) {
        throw new InputError(e.message, file, lines[e.index], e.field);
      }
      throw e;
    }
    const adv = result.advantages;
    await JsonlWriter.with(flags.out, io.out, async (w) => {
      for (let i = 0; i < records.length; i++) await w.write({ ...records[i], advantage: adv[i] });
    });
    if (!flags.quiet) {
      io.err(
        `advantage: ${inputs.length} rollouts in ${result.stats.groups} groups (${flags.estimator})\n`,
      );
    }
  },
});
