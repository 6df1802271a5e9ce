/** `golongrl reward`: score responses offline, or serve the verifiers over HTTP. */
import type { Command } from "./command.ts";
import { formatTaskTable, loadSampleRefs, scoreResponses } from "../core/reward/score_file.ts";
import { rewardHandler } from "../core/reward/server.ts";
import { Progress } from "../core/progress.ts";
import { JsonlWriter } from "../core/jsonl_writer.ts";
import type { RewardOptions } from "../tasks/types.ts";
import { type FlagSpec, type FlagValues, requireFlags } from "./args.ts";
import { verifierErrors } from "../tasks/registry.ts";
import { setChineseSegmenter, ZH_SEGMENTERS, type ZhSegmenter } from "../eval/metrics/segment.ts";

const REWARD_FLAGS: Record<string, FlagSpec> = {
  format: {
    type: "string",
    value: "GATE",
    choices: ["thinking", "none"],
    default: "thinking",
    description:
      "Format gate: 'thinking' (faithful: exactly one </think>, at most one <think>) or 'none' for non-thinking models.",
  },
  "strip-think": {
    type: "boolean",
    description: "Verifiers that read the whole response read only the text after </think>.",
  },
  "zh-segmenter": {
    type: "string",
    value: "NAME",
    choices: ZH_SEGMENTERS,
    default: "icu",
    description: "Chinese word segmentation for ROUGE: icu (built in) or jieba (as the reference).",
  },
};

async function rewardOptions(flags: FlagValues): Promise<RewardOptions> {
  await setChineseSegmenter(flags["zh-segmenter"] as ZhSegmenter);
  return {
    format: flags.format as RewardOptions["format"],
    stripThink: Boolean(flags["strip-think"]),
  };
}

const serve: Command = {
  name: "serve",
  summary: "Serve POST /score over HTTP with verl's custom-reward arguments.",
  usage: "golongrl reward serve [--port N] [--host ADDR] [--max-body-mb N]",
  description: "Single: {data_source, solution_str, ground_truth, extra_info} -> {score, ...}.\n" +
    "Batched: a JSON array, {batch: [...]}, or {data_sources, solution_strs, ground_truths, extra_infos}\n" +
    "-> {scores, results}. See docs/verl-reward.md for a ready verl custom_reward_function.",
  flags: {
    port: {
      type: "integer",
      value: "N",
      default: 8077,
      min: 0,
      max: 65535,
      description: "Port (0: any free port).",
    },
    host: {
      type: "string",
      value: "ADDR",
      default: "127.0.0.1",
      description: "Address to listen on.",
    },
    "max-body-mb": {
      type: "number",
      value: "N",
      default: 64,
      min: 0.001,
      description: "Largest request body.",
    },
    ...REWARD_FLAGS,
  },
  examples: [
    "golongrl reward serve --port 8077",
    "golongrl reward serve --host 0.0.0.0 --format none",
  ],
  async run({ io, flags }) {
    const handler = rewardHandler({
      maxBodyBytes: Math.round((flags["max-body-mb"] as number) * 2 ** 20),
      reward: await rewardOptions(flags),
    });
    const server = Deno.serve({
      hostname: flags.host as string,
      port: flags.port as number,
      onListen: ({ hostname, port }) =>
        io.err(`golongrl reward serve: listening on http://${hostname}:${port}/score\n`),
    }, handler);
    const stop = () => server.shutdown();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await server.finished;
  },
};

export const reward: Command = {
  name: "reward",
  summary: "Score responses with their samples' verifiers; or serve them over HTTP.",
  usage: "golongrl reward --data SAMPLES.jsonl --responses RESPONSES.jsonl [--out SCORES.jsonl]",
  description:
    "Joins responses to samples by id and writes one {id, sample, task, task_key, verifier, reward,\n" +
    "details} line per response (to --out, atomically, or stdout), then a per-task table (n, mean,\n" +
    "zeros, errors) on stderr. Samples use the verl/GoLongRL schema (data_source,\n" +
    "reward_model.ground_truth, extra_info); responses are {id, response} lines.",
  flags: {
    data: { type: "string", value: "FILE", description: "Samples (JSONL)." },
    responses: { type: "string", value: "FILE", description: "Responses (JSONL): {id, response}." },
    out: { type: "string", value: "FILE", description: "Scores (JSONL); stdout when absent." },
    ...REWARD_FLAGS,
  },
  examples: [
    "golongrl reward --data samples.jsonl --responses rollouts.jsonl --out scores.jsonl",
    "golongrl reward serve --port 8077",
  ],
  subcommands: [serve],
  async run({ io, flags }) {
    requireFlags("golongrl reward", flags, ["data", "responses"]);
    const opts = await rewardOptions(flags);
    const samples = await loadSampleRefs(flags.data as string);
    const progress = new Progress("reward", { unit: "responses", quiet: flags.quiet as boolean });
    const table = await JsonlWriter.with(
      flags.out as string | undefined,
      io.out,
      (out) =>
        scoreResponses(
          samples,
          flags.responses as string,
          opts,
          (s) => out.write(s),
          () => progress.tick(),
        ),
    );
    progress.finish();
    io.err(formatTaskTable(table));
    const errs = Object.entries(verifierErrors()).filter(([, n]) => n > 0);
    if (errs.length) io.err(`verifier errors: ${errs.map(([k, n]) => `${k} ${n}`).join(", ")}\n`);
  },
};
